# Damaged and full flash on both runtimes (issue 9 points 5 and 6): the storage troubles, the
# check of a saved state, and the whole App booting on damaged state and stepping on a full flash
# on the real MicroPython interpreter (network down: reports wait in RAM and the journal).
RUNS_ON_MICROPYTHON = True

import json
import os

import hostclock
import machine

from fullflash import FullFlash
from offline_link import OfflineLink
from scratch import fresh_dir
from mimamori.app import App
from mimamori.core import events as E
from mimamori.io.clock import WallClock
from mimamori.store import journal as J, sealed, statefile as SF
from mimamori.store.config import validate_config, validate_secrets
from mimamori.store.health import StorageHealth, state_problem

BOARD = "boards/esp32-devkitc/"


def _json(name):
    with open(BOARD + name) as f:
        return json.loads(f.read())


def _normal_level(z):
    idle = 1 if z.get("pull", "up") in ("up", "none") else 0
    return (1 - idle) if z.get("wiring", "NC") == "NC" else idle


def _site():
    config = validate_config(_json("config.sample.json"), _json("pins.json"))
    return config, validate_secrets(_json("secrets.sample.json"), config)


def _app(config, secrets, data, fresh=True):
    if fresh:
        hostclock.use_virtual(0)
        machine.reset_all()
        for z in config["zones"]:
            machine.Pin(z["gpio"]).drive(_normal_level(z))
        machine.Pin(config["supervision"]["ac_sense_gpio"]).drive(1)
        machine.ADC(machine.Pin(36)).set_uv(1800000)
        machine.ADC(machine.Pin(39)).set_uv(2070000)
    wall = WallClock(machine.RTC(), 540)
    wall.set_unix(1795316400)
    return App(config, secrets, data, hostclock.ticks_ms(), machine_module=machine,
               link=OfflineLink(config["site_id"]), wall=wall, log=lambda m: None)


def _run(app, ms):
    n = 0
    while n < ms // 10:
        n += 1
        hostclock.clock.advance(10)
        app.step(hostclock.ticks_ms())


def _outbox(app):
    return [(app.journal.get(s)[0].kind, app.journal.get(s)[0].cid) for s in app.journal.outbox()]


def test_storage_troubles_are_reported_once_each_way():
    got = []
    h = StorageHealth(got.append)
    h.boot_damage([], False, 0, "away")
    assert got == [] and not h.active
    h.boot_damage(["state.json.2: checksum"], False, 0, "away")
    for _ in range(5):
        h.update(True, 10, "away")
    h.update(False, 20, "away")
    h.update(False, 30, "away")
    h.operated(40, "disarmed")
    h.operated(50, "disarmed")
    assert [(e.kind, e.cid) for e in got] == [
        ("trouble", 307), ("trouble", 624), ("restore", 624), ("restore", 307)]
    assert got[0].label == "自己診断異常(保存データ破損)" and got[1].label == "記録メモリ満杯"
    assert not h.active and h.troubles() == []


def test_a_saved_state_is_checked_as_a_whole():
    core = {"mode": "away", "bypassed": [2], "cancelled": [], "pending": [], "in_alarm": [],
            "trips": [[2, 1]], "exit": None, "delay": 0, "delay_elapsed": None, "siren": None,
            "sound": "off", "reported": False, "flash": False, "memory": []}
    assert state_problem({"core": core, "sup": {}, "auth": {}, "saved_at": 5}) is None
    for key, junk in (("mode", "banana"), ("bypassed", "all"), ("trips", [[1]]),
                      ("exit", -5), ("delay", 9), ("sound", 3), ("flash", "yes"),
                      ("memory", [{"cid": 999}]), ("memory", [1])):
        bad = dict(core)
        bad[key] = junk
        assert state_problem({"core": bad}) is not None, key
    short = dict(core)
    del short["siren"]
    assert state_problem({"core": short}) is not None
    assert state_problem({"core": core, "sup": [1]}) is not None
    assert state_problem([core]) is not None and state_problem({"core": 1}) is not None


def test_the_app_boots_on_a_damaged_state_file_and_keeps_stepping():
    config, secrets = _site()
    d = fresh_dir("sh_damage")
    app = _app(config, secrets, d)
    app.operate("arm", hostclock.ticks_ms(), code="1234", mode="away")
    _run(app, 62000)
    assert app.core.mode == "away"
    copies = {}
    for n in ("state.json.1", "state.json.2"):
        with open(d + "/" + n, "rb") as f:
            copies[n] = f.read()
    size = len(copies["state.json.1"])
    off = 0
    while off < size:            # every 37th byte of both copies (every byte: test_boot_flash)
        for n in copies:
            bad = bytearray(copies[n])
            bad[off] ^= 0x55
            with open(d + "/" + n, "wb") as f:
                f.write(bytes(bad))
        app = _app(config, secrets, d, fresh=False)
        _run(app, 50)
        assert app.core.mode == "away", off
        assert app.storage.damaged and ("trouble", 307) in _outbox(app), off
        off += 37


def test_the_app_keeps_stepping_on_a_full_flash_and_says_so():
    config, secrets = _site()
    d = fresh_dir("sh_full")
    app = _app(config, secrets, d)
    _run(app, 1000)
    app.journal.close()
    flash = FullFlash(0).install(J, sealed, SF)
    try:
        app.operate("arm", hostclock.ticks_ms(), code="1234", mode="stay")
        _run(app, 6000)
        assert app.core.mode == "stay" and app.errors == 0
        assert app.storage.full and app.rendered.trouble
        assert [c for k, c in _outbox(app) if k == "trouble"].count(624) == 1
        assert ("closing", E.CID_STAY_ARM) in _outbox(app)      # in RAM, waiting to go out
        flash.free = 1000000
        _run(app, 6000)
        assert not app.storage.full and ("restore", 624) in _outbox(app)
    finally:
        flash.remove()
    app = _app(config, secrets, d, fresh=False)
    assert app.core.mode == "stay" and ("closing", E.CID_STAY_ARM) in _outbox(app)


def test_every_state_the_core_saves_passes_the_check():
    # The check must follow the core's snapshot format: a state the firmware itself wrote is
    # never taken for damage (that would arm the house fail-secure at every boot).
    from house import House
    h = House()
    snaps = [h.core.snapshot(h.now)]
    h.arm("away")
    snaps.append(h.core.snapshot(h.now))
    h.wait(61)
    h.open(1)
    snaps.append(h.core.snapshot(h.now))     # entry delay running
    h.wait(31)
    h.open(2)
    snaps.append(h.core.snapshot(h.now))     # alarm sounding, memory
    h.disarm()
    h.arm("stay", force=True)
    snaps.append(h.core.snapshot(h.now))     # bypassed open zones
    for s in snaps:
        assert state_problem({"core": s, "sup": {}, "auth": {}, "saved_at": None}) is None, s
        assert state_problem(json.loads(json.dumps({"core": s}))) is None, s
