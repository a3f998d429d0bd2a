# The installer's entry points on the board (firmware/mimamori/service.py, issue 13): what the
# installer CLI reads over mpremote. Each verb prints JSON lines and ends with exactly one
# {"done": true} or {"error": ...}; nothing secret is printed. On both runtimes.
RUNS_ON_MICROPYTHON = True

import json

import hostclock
from sample_board import Board, INSTALLER_CODE, RESIDENT_CODE, read_json, own_secrets
from scratch import fresh_dir
from mimamori import VERSION
from mimamori import service as S

WINDOW = 3          # リビング窓
FRONT_DOOR = 1      # 玄関ドア


def _call(verb, *args, **kw):
    """Run a verb; its lines as dicts (the last one is done or error)."""
    out = []
    S.print = lambda line: out.append(json.loads(line))   # the module's print, captured
    try:
        verb(*args, **kw)
    finally:
        del S.print
    ends = [d for d in out if "done" in d or "error" in d]
    assert len(ends) == 1 and ends[0] is out[-1], out
    return out


def _house(name, config=True, secrets=True):
    """A scratch folder standing for the board's / with the sample house's files."""
    root = fresh_dir("svc_" + name)
    S.ROOT = root
    files = [("/pins.json", read_json("pins.json"))]
    if config:
        files.append(("/config.json", read_json("config.sample.json")))
    if secrets:
        files.append(("/secrets.json", own_secrets(read_json("secrets.sample.json"))))
    for path, obj in files:
        with open(root + path, "w") as f:
            f.write(json.dumps(obj))
    return root


def test_info_names_the_firmware_board_and_config_state():
    _house("info", config=False)
    out = _call(S.info)
    assert out == [{"firmware": "mimamori", "version": VERSION, "board": "esp32-devkitc",
                    "romfs": False, "config": "missing"}, {"done": True}]
    root = _house("info2")
    assert _call(S.info)[0]["config"] == "ok"
    cfg = read_json("config.sample.json")
    cfg["timers"]["entry_delay_s"] = 90
    with open(root + "/config.json", "w") as f:
        f.write(json.dumps(cfg))
    assert _call(S.info)[0]["config"] == "timers.entry_delay_s: 90 is above the maximum 45"


def test_status_reads_what_the_controller_left_on_flash():
    root = _house("status")
    b = Board("svc_status", data=root + "/data")
    b.run(1000)
    b.app.operate("arm", b.now(), code=RESIDENT_CODE, mode="stay")
    b.set(WINDOW, True)
    b.run(31000)                       # the cancel window runs out: 異常, alarm memory
    for code in ("0000", "0001", "0002", "0003", "0004"):
        b.app.operate("disarm", b.now(), code=code)     # a lockout
    b.run(100)
    live = _call(S.status, app=b.app)[0]
    saved = _call(S.status)[0]         # after mpremote's soft reset: from flash and the pins
    for d in (live, saved):
        assert d["mode"] == "stay" and d["mode_label"] == "在宅セット"
        assert d["alarm_memory"] is True
        assert d["open_zones"] == [{"zone": WINDOW, "name": "リビング窓"}]
        assert d["seq"] == b.app.journal.next_seq - 1 and d["seq"] >= 4
        assert 290 <= d["lockout_s"] <= 300, d
        assert d["walk_test"] is False
    assert saved["troubles"] == live["troubles"]
    assert (live["state"], saved["state"]) == ("running", "ok")


def test_status_says_why_when_the_config_is_missing():
    _house("status_missing", config=False)
    out = _call(S.status)
    assert "/config.json: file not found" in out[-1]["error"]


def test_logs_lists_the_journal_then_the_controller_log_and_nothing_secret():
    root = _house("logs")
    b = Board("svc_logs", data=root + "/data")
    b.run(1000)
    b.app.operate("arm", b.now(), code=RESIDENT_CODE, mode="away")
    b.app.operate("disarm", b.now(), code=RESIDENT_CODE)
    with open(root + "/data/log.txt", "w") as f:     # what the ring saved before the reset
        f.write("warn\t2026-12-01T10:00:00+09:00\tstorage: state.json.1: checksum\n")
    out = _call(S.logs)
    events = [d for d in out if "seq" in d]
    assert [(d["cid"], d["q"]) for d in events] == [(305, 1), (401, 3), (401, 1)]
    assert events[1]["text"] == "外出セット/解除" and events[1]["user"] == 1
    assert events[0]["time"].startswith("2026-") and events[0]["kind"] == "status"
    assert out[-2] == {"log": {"level": "warn", "time": "2026-12-01T10:00:00+09:00",
                               "msg": "storage: state.json.1: checksum"}}
    later = _call(S.logs, since=events[1]["seq"])
    assert [d["seq"] for d in later if "seq" in d] == [events[2]["seq"]]
    text = json.dumps(out)
    for v in (b.secrets["site_key"], "1234"):
        assert v not in text


def test_walktest_shows_each_trip_and_the_untriggered_zones():
    root = _house("walk")
    b = Board("svc_walk", data=root + "/data")
    b.run(1000)
    script = {30: (FRONT_DOOR, True), 60: (FRONT_DOOR, False), 90: (WINDOW, True),
              120: (WINDOW, False)}
    steps = [0]

    def on_step(app):
        steps[0] += 1
        hostclock.clock.advance(0)
        if steps[0] in script:
            b.set(*script[steps[0]])
        if steps[0] == 200:        # the installer's code at the panel ends it
            app.operate("walk_test", hostclock.ticks_ms(), code=INSTALLER_CODE)
    out = _call(S.walktest, INSTALLER_CODE, 600, app=b.app, on_step=on_step)
    assert out[0] == {"walk": "start", "seconds": 600}
    trips = [d for d in out if "zone" in d and "active" in d]
    assert [(d["zone"], d["name"], d["active"]) for d in trips] == [
        (1, "玄関ドア", True), (1, "玄関ドア", False), (3, "リビング窓", True),
        (3, "リビング窓", False)]
    assert trips[0]["type"] == "magnet"
    end = out[-2]
    assert end["walk"] == "end" and out[-1] == {"done": True}
    left = [d["zone"] for d in end["untriggered"]]
    assert FRONT_DOOR not in left and WINDOW not in left and len(left) == 13
    cids = [(e.cid, e.qualifier) for e in b.events() if e.cid == 607]
    assert cids == [(607, 1), (607, 3)]
    assert [e for e in b.events() if e.kind == "alarm"] == []


def test_walktest_ends_on_ctrl_c_and_refuses_a_resident_or_wrong_code():
    root = _house("walk_ctrl_c")
    b = Board("svc_walk_c", data=root + "/data")
    b.run(1000)

    def interrupt(app):
        raise KeyboardInterrupt
    out = _call(S.walktest, INSTALLER_CODE, app=b.app, on_step=interrupt)
    assert out[0]["walk"] == "start" and out[-2]["walk"] == "end" and out[-1] == {"done": True}
    assert b.app.core.walk is None
    out = _call(S.walktest, RESIDENT_CODE, app=b.app)
    assert out == [{"error": "not_installer: 歩行試験は施工者コードで開始します"}]
    out = _call(S.walktest, "9999", app=b.app)
    assert out == [{"error": "wrong code"}]


class _Reader:
    def __init__(self, card):
        self.card = card
        self.asked = None

    def read_once(self, timeout_ms):
        self.asked = timeout_ms
        return self.card


def test_read_card_gives_the_card_id_and_kind():
    _house("card")
    r = _Reader(("04a1b2c3", "mifare"))
    assert _call(S.read_card, 5000, reader=r) == [{"card": "04A1B2C3", "kind": "mifare"},
                                                   {"done": True}]
    assert r.asked == 5000
    assert _call(S.read_card, reader=_Reader(None)) == [{"error": "no card"}]
    out = _call(S.read_card, 100)      # the sample house has no reader configured
    assert len(out) == 1 and "card reader" in out[0]["error"], out


def test_factory_reset_erases_the_house_only_when_confirmed():
    import os
    root = _house("reset")
    b = Board("svc_reset", data=root + "/data")
    b.run(500)
    assert _call(S.factory_reset, "yes")[-1]["error"].startswith("not confirmed")
    assert sorted(os.listdir(root)) == ["config.json", "data", "pins.json", "secrets.json"]
    out = _call(S.factory_reset, "ERASE")
    assert out == [{"erased": ["/data", "/config.json", "/secrets.json"]}, {"done": True}]
    assert os.listdir(root) == ["pins.json"]
