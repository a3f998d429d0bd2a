# The installer CLI (tools/installer.py) driven as an installer drives it, through real mpremote
# against the virtual board on a pseudo-terminal (tools/serialboard.py), with a real mosquitto
# and the centre's receiver: deploy (ROMFS) -> configure -> the firmware boots from the ROMFS
# image and reports to the centre -> a card enrolled -> walk test with sensors triggered ->
# logs -> update -> factory reset. Then the refusals: a bad or sample config writes nothing, a
# board that stops answering mid-deploy gives one clear line and a re-run finishes the job.
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")
sys.path.insert(0, TOOLS)
import receiver as R  # noqa: E402
from broker import Mosquitto  # noqa: E402
from serialboard import SerialBoard  # noqa: E402
from vboard import own_secrets  # noqa: E402

INSTALLER = os.path.join(TOOLS, "installer.py")
MPREMOTE = os.path.join(os.path.dirname(sys.executable), "mpremote")
SAMPLES = os.path.join(ROOT, "boards", "esp32-devkitc")
SITE = "site-001"
INSTALLER_CODE = "5678"      # own_secrets keeps the sample codes, re-hashed with fresh salts


def _load(name):
    with open(os.path.join(SAMPLES, name), encoding="utf-8") as f:
        return json.load(f)


def make_site(folder, broker_port, secrets=None):
    os.makedirs(folder, exist_ok=True)
    cfg = _load("config.sample.json")
    cfg["site_id"] = SITE
    cfg["comms"]["mqtt"]["port"] = broker_port
    sec = secrets or own_secrets(_load("secrets.sample.json"))
    sec["mqtt"]["username"] = SITE
    for name, obj in (("config.json", cfg), ("secrets.json", sec)):
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1)
    return cfg, sec


# the compiled firmware of the test's own firmware copies stays out of the repository's build/
os.environ["MIMAMORI_BUILD"] = os.path.join(tempfile.mkdtemp(prefix="installer-build-"))


def cli(board, site, *args, input=None, firmware=None, timeout=180):
    cmd = [sys.executable, INSTALLER, "--port", board.port, "--site", site, "--timeout", "3"]
    if firmware:
        cmd += ["--firmware", firmware]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, input=input,
                          timeout=timeout)


def board_info(board):
    r = subprocess.run([MPREMOTE, "connect", board.port, "exec",
                        "import mimamori.service as s; s.info()"], capture_output=True,
                       text=True, timeout=60)
    subprocess.run([MPREMOTE, "connect", board.port, "reset"], capture_output=True, timeout=60)
    return json.loads(r.stdout.splitlines()[0])


def flash_state(board):
    out = {}
    for dirpath, _dirs, files in os.walk(board.flash):
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, board.flash)] = fh.read()
    return out


def wait_for(cond, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def settled(count, quiet=2.5, timeout=30):
    """count() once it has not changed for `quiet` seconds (the reports of earlier boots in)."""
    end = time.monotonic() + timeout
    last, since = count(), time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.1)
        now = count()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return last


class House:
    """One installation: broker, centre receiver, site folder, virtual board."""

    def __init__(self, rom_size=0x40000):
        self.dir = tempfile.mkdtemp(prefix="install-")
        self.broker = Mosquitto().start()
        self.site = os.path.join(self.dir, "site")
        self.cfg, self.sec = make_site(self.site, self.broker.port)
        self.store = R.Store(os.path.join(self.dir, "centre.db"))
        self.store.add_site(SITE, self.sec["site_key"])
        self.centre = []
        self.rx = R.Receiver(self.store, self.broker.host, self.broker.port,
                             out=self.centre.append).start()
        self.log = open(os.path.join(self.dir, "chip.log"), "w")
        self.board = SerialBoard(os.path.join(self.dir, "board"), rom_size=rom_size,
                                 log=self.log).start()

    def cli(self, *args, **kw):
        return cli(self.board, self.site, *args, **kw)

    def close(self):
        self.board.stop()
        self.rx.stop()
        self.broker.close()
        self.log.close()


@pytest.fixture(scope="module")
def house():
    h = House()
    yield h
    h.close()


def test_from_an_empty_board_to_a_walk_tested_house_and_back(house):
    b = house.board
    # deploy: the ROMFS image, with a progress bar
    r = house.cli("deploy")
    assert r.returncode == 0, r.stderr
    assert "deployed mimamori 0.1.0 (ROMFS image" in r.stdout and "config: missing" in r.stdout
    assert "ROMFS" in r.stdout and "━" in r.stdout                       # the progress bar
    # configure: checked, written, the controller boots from /rom and reports to the centre
    r = house.cli("configure")
    assert r.returncode == 0, r.stderr
    assert house.sec["site_key"] not in r.stdout + r.stderr
    assert wait_for(lambda: any("再起動" in line and SITE in line for line in house.centre))
    assert b.net.connections >= 1
    info = board_info(b)
    assert info["romfs"] is True and info["config"] == "ok" and info["version"] == "0.1.0"
    # a card enrolled: the number typed (stdin), stored hashed, the board gets the new secrets
    r = house.cli("cards", "add", "--user", "1", input="04 c0 ff ee\n")
    assert r.returncode == 0, r.stderr
    assert "card 2 enrolled for user 1" in r.stdout
    with open(os.path.join(house.site, "secrets.json"), encoding="utf-8") as f:
        site_secrets = f.read()
    assert "04C0FFEE" not in site_secrets.upper().replace(" ", "")
    with open(os.path.join(b.flash, "secrets.json"), encoding="utf-8") as f:
        assert f.read() == site_secrets
    r = house.cli("cards", "list")
    assert "card 2  user 1" in r.stdout
    # --stay: the firmware is left stopped (installer mode) after the verb; without it, restarted
    reboots = settled(lambda: sum("再起動" in line for line in house.centre))
    r = house.cli("--stay", "status")
    assert r.returncode == 0 and "stays in installer mode (not guarding)" in r.stderr
    time.sleep(3)
    assert sum("再起動" in line for line in house.centre) == reboots
    r = house.cli("status")
    assert r.returncode == 0 and "installer mode" not in r.stderr
    assert wait_for(lambda: sum("再起動" in line for line in house.centre) == reboots + 1)
    # the walk test: each trigger live with its zone name; the untriggered zones at the end;
    # start and end (607) at the centre; nothing reported as 異常
    seen = len(house.centre)
    p = subprocess.Popen([sys.executable, INSTALLER, "--port", b.port, "--site", house.site,
                          "walktest", "--seconds", "120"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdin.write(INSTALLER_CODE + "\n")
    p.stdin.close()
    out = []
    for line in p.stdout:
        out.append(line.rstrip())
        if "walk test running" in line:
            b.sensor(3, True)               # リビング窓 opened ...
            time.sleep(0.3)
            b.sensor(3, False)              # ... and closed
            b.sensor(12, True)              # 非常ボタン pressed
            time.sleep(0.3)
            b.sensor(12, False)
        if "zone 12" in line and "restored" in line:
            p.send_signal(signal.SIGINT)    # the installer ends it with Ctrl-C
    assert p.wait(timeout=60) == 0, p.stderr.read()
    assert "zone 3 リビング窓 (magnet): triggered" in out
    assert "zone 3 リビング窓 (magnet): restored" in out
    assert "zone 12 非常ボタン (panic): triggered" in out
    never = [line for line in out if line.startswith("never triggered: ")]
    assert len(never) == 1 and "1 玄関ドア" in never[0] and "リビング窓" not in never[0]
    assert "非常ボタン" not in never[0]
    assert wait_for(lambda: any("歩行試験 終了" in line for line in house.centre[seen:]))
    during = house.centre[seen:]
    assert any("歩行試験 開始" in line for line in during)
    assert not any("異常" in line for line in during)
    # logs: the journal (the walk test's 607 events included) and the controller's log
    r = house.cli("logs", "--format", "json")
    assert r.returncode == 0, r.stderr
    logs = json.loads(r.stdout)
    assert [e["q"] for e in logs["events"] if e["cid"] == 607] == [1, 3]
    assert any(e["cid"] == 305 for e in logs["events"])           # 再起動
    r = house.cli("logs")
    assert r.stdout.splitlines()[0] == "source,seq,time,cid,q,zone,user,kind,text"
    assert any(",607,1," in line and "歩行試験 開始" in line for line in r.stdout.splitlines())
    top_seq = max(e["seq"] for e in logs["events"])
    # update: a newer firmware; the config, the journal and seq kept
    newer = os.path.join(house.dir, "firmware-0.1.1")
    shutil.copytree(os.path.join(ROOT, "firmware"), newer)
    init = os.path.join(newer, "mimamori", "__init__.py")
    with open(init, encoding="utf-8") as f:
        text = f.read()
    with open(init, "w", encoding="utf-8") as f:
        f.write(text.replace('VERSION = "0.1.0"', 'VERSION = "0.1.1"'))
    b.sensor(5, True)                       # 2階寝室窓 left open
    r = house.cli("status")
    assert r.returncode == 0, r.stderr
    assert "mode: 解除 (disarmed)" in r.stdout.splitlines()
    assert "open zones: 5 2階寝室窓" in r.stdout.splitlines()
    b.sensor(5, False)
    r = house.cli("update", firmware=newer)
    assert r.returncode == 0, r.stderr
    assert "updated 0.1.0 -> mimamori 0.1.1 (ROMFS image" in r.stdout
    assert "config: ok" in r.stdout
    r = house.cli("status")                 # this installer (0.1.0) sees the newer board
    assert r.returncode == 1
    assert "the board runs mimamori 0.1.1, this installer is for 0.1.0: run update" in r.stderr
    r = house.cli("logs", "--format", "json", firmware=newer)
    events = json.loads(r.stdout)["events"]
    assert min(e["seq"] for e in events) == 1 and max(e["seq"] for e in events) > top_seq
    # factory reset: asks; anything but ERASE erases nothing
    r = house.cli("factory-reset", input="yes\n", firmware=newer)
    assert r.returncode == 1 and "not confirmed: nothing erased" in r.stderr
    assert os.path.exists(os.path.join(b.flash, "config.json"))
    r = house.cli("factory-reset", input="ERASE\n", firmware=newer)
    assert r.returncode == 0, r.stderr
    assert "Type ERASE" in r.stdout
    left = flash_state(b)
    assert "config.json" not in left and "secrets.json" not in left
    assert not any(p.startswith("data") for p in left)
    assert board_info(b)["config"] == "missing"


def test_a_bad_config_is_refused_before_anything_is_written(house):
    bad = os.path.join(house.dir, "bad-site")
    cfg, _sec = make_site(bad, house.broker.port)
    cfg["zones"][0]["gpio"] = 6               # a flash pin inside the module
    cfg["timers"] = {"entry_delay_s": 300}
    with open(os.path.join(bad, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, ensure_ascii=False)
    before = flash_state(house.board)
    r = cli(house.board, bad, "configure")
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert any("zones[0].gpio" in line for line in lines)
    assert any("timers.entry_delay_s" in line for line in lines)
    assert lines[-1] == "mimamori-installer: error: nothing was written"
    assert flash_state(house.board) == before
    r = cli(house.board, bad, "check")       # the same verdict without a board
    assert r.returncode == 1 and any("zones[0].gpio" in line for line in r.stderr.splitlines())


def test_the_published_sample_secrets_are_refused_and_never_echoed(house):
    sample = os.path.join(house.dir, "sample-site")
    raw = _load("secrets.sample.json")
    make_site(sample, house.broker.port, secrets=copy.deepcopy(raw))
    before = flash_state(house.board)
    for verb in ("check", "configure"):
        r = cli(house.board, sample, verb)
        assert r.returncode == 1
        assert "secrets.json: site_key: the published sample" in r.stderr
        assert "code of user 1" in r.stderr and "card 1" in r.stderr
        for secret in (raw["site_key"], raw["wifi"]["password"], raw["mqtt"]["password"]):
            assert secret not in r.stdout + r.stderr
    assert flash_state(house.board) == before
    # a sample code is refused too when it is set
    own = os.path.join(house.dir, "own-site")
    make_site(own, house.broker.port)
    r = cli(house.board, own, "codes", "set", "--user", "1", "--local", input="1234\n")
    assert r.returncode == 1 and "sample code" in r.stderr and "1234" not in r.stderr
    r = cli(house.board, own, "codes", "set", "--user", "1", "--local", input="2580\n")
    assert r.returncode == 0 and "2580" not in r.stdout + r.stderr


def test_a_board_that_stops_answering_mid_deploy_gives_one_line_and_a_rerun_finishes():
    h = House()
    try:
        b = h.board
        p = subprocess.Popen([sys.executable, INSTALLER, "--port", b.port, "--site", h.site,
                              "--timeout", "3", "deploy"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        # the chip dies once the partition is being written (a few KB in)
        assert wait_for(lambda: os.path.exists(b.rom_file) and
                        os.path.getsize(b.rom_file) > 8192, timeout=60)
        b.kill()
        t = time.monotonic()
        _out, err = p.communicate(timeout=60)
        assert p.returncode == 1
        assert time.monotonic() - t < 15
        assert err.strip().splitlines()[-1].startswith(
            "mimamori-installer: error: the board stopped answering during deploy (")
        assert "run deploy again" in err
        b.restart()                          # power back
        r = h.cli("deploy")
        assert r.returncode == 0, r.stderr
        assert "deployed mimamori 0.1.0 (ROMFS image" in r.stdout
        info = board_info(b)
        assert info["romfs"] is True and info["version"] == "0.1.0"
    finally:
        h.close()


def test_without_a_romfs_partition_deploy_copies_mpy_files_and_then_only_what_changed():
    h = House(rom_size=0)
    try:
        b = h.board
        lib = os.path.join(b.flash, "lib", "mimamori")

        def copied():
            return sum(len([f for f in files if f.endswith(".mpy")])
                       for _d, _s, files in os.walk(lib))
        # the board stops answering a dozen files in ...
        p = subprocess.Popen([sys.executable, INSTALLER, "--port", b.port, "--site", h.site,
                              "--timeout", "3", "deploy"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        assert wait_for(lambda: copied() >= 12, timeout=60)
        b.kill()
        _out, err = p.communicate(timeout=60)
        assert p.returncode == 1
        assert err.strip().splitlines()[-1].startswith(
            "mimamori-installer: error: the board stopped answering (writing /lib/mimamori/")
        done = copied()
        # ... and after power comes back, a re-run sends the rest only
        b.restart()
        r = h.cli("deploy")
        assert r.returncode == 0, r.stderr
        assert "(.mpy files, " in r.stdout
        sent, n = r.stdout.split(".mpy files, ")[1].split(" changed")[0].split(" of ")
        assert int(sent) == int(n) - done and copied() == int(n)
        assert not [f for _d, _s, files in os.walk(lib) for f in files if f.endswith(".part")]
        # a module changes: only that one goes again
        fw = os.path.join(h.dir, "firmware")
        shutil.copytree(os.path.join(ROOT, "firmware"), fw)
        with open(os.path.join(fw, "mimamori", "status.py"), "a", encoding="utf-8") as f:
            f.write("\n# a comment changes nothing but the file\nCHANGED = 1\n")
        r = h.cli("deploy", firmware=fw)
        assert r.returncode == 0, r.stderr
        assert "1 of %s changed" % n in r.stdout
        info = board_info(b)
        assert info["romfs"] is False and info["version"] == "0.1.0"
    finally:
        h.close()


def test_no_board_connected_is_one_clear_line(tmp_path):
    site = tmp_path / "site"
    make_site(str(site), 1883)
    r = subprocess.run([sys.executable, INSTALLER, "--port", str(tmp_path / "ttyUSB9"),
                        "--site", str(site), "status"], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.strip() == ("mimamori-installer: error: no board connected on %s (is the "
                                "USB cable in? see --port)" % (tmp_path / "ttyUSB9"))


def test_a_port_without_micropython_on_it_is_named(tmp_path):
    import pty
    master, slave = pty.openpty()           # a serial line where nothing answers
    try:
        r = subprocess.run([sys.executable, INSTALLER, "--port", os.ttyname(slave),
                            "--timeout", "2", "status"], capture_output=True, text=True,
                           timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    assert r.returncode == 1
    assert "no MicroPython REPL answers on" in r.stderr


def test_flash_erases_writes_and_verifies_with_esptool(tmp_path):
    image = tmp_path / "mimamori-esp32.bin"
    image.write_bytes(b"\xe9" + bytes(4095))
    r = subprocess.run([sys.executable, INSTALLER, "--port", "/dev/ttyUSB0", "flash",
                        str(image), "--dry-run"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    cmds = [line.split()[1:] for line in r.stdout.splitlines()]
    base = ["--chip", "esp32", "--port", "/dev/ttyUSB0", "--baud", "460800"]
    assert cmds == [base + ["erase-flash"], base + ["write-flash", "0x1000", str(image)],
                    base + ["verify-flash", "0x1000", str(image)]]
    assert all(line.split()[0].endswith("esptool") for line in r.stdout.splitlines())
    r = subprocess.run([sys.executable, INSTALLER, "--port", "/dev/ttyUSB0", "flash",
                        str(image), "--chip", "esp32s3", "--dry-run"], capture_output=True,
                       text=True)
    assert " write-flash 0x0 " in r.stdout
    # an image that is not one, and no board on the port: one line each
    bad = tmp_path / "config.json"
    bad.write_text("{}")
    r = subprocess.run([sys.executable, INSTALLER, "--port", "/dev/ttyUSB0", "flash", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "is not an ESP32 firmware image" in r.stderr
    r = subprocess.run([sys.executable, INSTALLER, "--port", str(tmp_path / "nothing"), "flash",
                        str(image)], capture_output=True, text=True)
    assert r.returncode == 1 and "no board connected on" in r.stderr


def test_flash_runs_the_real_esptool_and_stops_at_the_first_failure(tmp_path):
    # A serial port where no ESP32 bootloader answers (the board not in download mode): esptool
    # itself takes the command line, tries, fails; the installer says so in one line, and
    # nothing is written after a failed erase.
    import pty
    image = tmp_path / "mimamori-esp32.bin"
    image.write_bytes(b"\xe9" + bytes(4095))
    master, slave = pty.openpty()
    try:
        r = subprocess.run([sys.executable, INSTALLER, "--port", os.ttyname(slave), "flash",
                            str(image), "--connect-attempts", "1"], capture_output=True,
                           text=True, timeout=120)
    finally:
        os.close(master)
        os.close(slave)
    assert r.returncode == 1
    assert "Failed to connect to ESP32" in r.stdout + r.stderr           # esptool's own words
    assert r.stderr.strip().splitlines()[-1] == (
        "mimamori-installer: error: esptool erase failed (see above): check the port and hold "
        "BOOT while it connects")
    assert "write:" not in r.stdout


def test_every_verb_has_help():
    verbs = [["flash"], ["deploy"], ["update"], ["check"], ["configure"], ["codes", "set"],
             ["cards", "add"], ["cards", "revoke"], ["cards", "list"], ["walktest"], ["logs"],
             ["status"], ["factory-reset"]]
    for v in [[]] + verbs:
        r = subprocess.run([sys.executable, INSTALLER] + v + ["--help"], capture_output=True,
                           text=True)
        assert r.returncode == 0 and r.stdout.startswith("usage: mimamori-installer"), v


def test_cards_add_reads_the_card_on_the_boards_reader():
    # A house with the ライフカード reader (a PN532 on I2C: zones 8 and 11 give GPIO21/25 to the
    # bus): `cards add --read` reads the card held on the board's reader through the firmware's
    # service.read_card, enrols it hashed, refuses the same card twice and says when no card came.
    h = House()
    try:
        cfg = h.cfg
        cfg["zones"] = [z for z in cfg["zones"] if z["id"] not in (8, 11)]
        cfg["i2c"] = {"sda": 21, "scl": 25}
        cfg["card_reader"] = {}
        with open(os.path.join(h.site, "config.json"), "w", encoding="utf-8") as f:
            json.dump(cfg, f, ensure_ascii=False, indent=1)
        assert h.cli("deploy").returncode == 0
        r = h.cli("configure")
        assert r.returncode == 0, r.stderr
        assert wait_for(lambda: any("再起動" in line and SITE in line for line in h.centre))
        h.board.card("04C0FFEE")                       # a MIFARE card held on the reader
        r = h.cli("cards", "add", "--user", "1", "--read", "--wait", "5")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "card read (mifare)" in r.stdout and "card 2 enrolled for user 1" in r.stdout
        with open(os.path.join(h.site, "secrets.json"), encoding="utf-8") as f:
            assert "04C0FFEE" not in f.read().upper()     # stored as a salted hash only
        r = h.cli("cards", "add", "--user", "2", "--read", "--wait", "5")
        assert r.returncode != 0 and "enrolled already (card 2)" in r.stdout + r.stderr
        h.board.card(None)                             # taken away: nothing to read
        r = h.cli("cards", "add", "--user", "2", "--read", "--wait", "2")
        assert r.returncode != 0 and "no card" in r.stdout + r.stderr
        assert "Traceback" not in r.stderr
    finally:
        h.close()
