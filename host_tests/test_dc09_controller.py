# The whole controller (virtual board) with SIA DC-09 as its first report path, pysiaalarm's
# TCP server as the receiver: while the receiver is down the reports are retried and the DC-09
# path's trouble (350) is handed to the other path (MQTT) at once; when it is back the reports
# reach it in journal order, each acknowledged on DC-09, and the trouble is restored.
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import hostclock  # noqa: E402
import vboard  # noqa: E402
from dc09_judge import Judge, Scripted  # noqa: E402
from mimamori.core import events as E  # noqa: E402
from mimamori.store.config import validate_config  # noqa: E402
from test_app import load_site, run_until  # noqa: E402

PANIC = 12
ACCOUNT = "00C0FFEE"
KEY = "F00DFACE12345678"        # 16 characters: Home Assistant's form (key_format text)


def dc09_site(port):
    config, secrets = load_site()          # MQTT's broker unreachable (port 1)
    config["comms"]["dc09"] = {"enabled": True, "host": "127.0.0.1", "port": port,
                               "protocol": "tcp", "account": ACCOUNT, "key": KEY,
                               "key_format": "text", "receiver": "1", "prefix": "0",
                               "ping_interval_s": 0, "ack_deadline_s": 30}
    config["comms"]["paths"] = [{"name": "dc09", "kinds": None},
                                {"name": "mqtt", "kinds": None}]
    return config, secrets


def test_validated_config_fills_the_dc09_defaults():
    import json
    board = os.path.join(ROOT, "boards", "esp32-devkitc")
    cfg = json.load(open(os.path.join(board, "config.sample.json"), encoding="utf-8"))
    pins = json.load(open(os.path.join(board, "pins.json"), encoding="utf-8"))
    cfg["comms"]["dc09"] = {"enabled": True, "host": "192.0.2.7", "port": 12128,
                            "account": "1234"}
    out = validate_config(cfg, pins)["comms"]
    assert out["dc09"] == {"enabled": True, "host": "192.0.2.7", "port": 12128,
                           "protocol": "tcp", "account": "1234", "key": None,
                           "key_format": "text", "receiver": None, "prefix": "0",
                           "ping_interval_s": 60, "ack_deadline_s": 30}
    assert out["paths"][-1] == {"name": "dc09", "kinds": None}


def test_bad_dc09_settings_are_refused_naming_the_field_never_the_key():
    import json
    import pytest
    from mimamori.store.config import ConfigError
    board = os.path.join(ROOT, "boards", "esp32-devkitc")
    cfg = json.load(open(os.path.join(board, "config.sample.json"), encoding="utf-8"))
    pins = json.load(open(os.path.join(board, "pins.json"), encoding="utf-8"))
    cfg["comms"]["dc09"] = {"enabled": True, "host": "rx.example", "port": 0,
                            "protocol": "sctp", "account": "12", "key": "SECRETKEY123456Z",
                            "key_format": "text", "ping_interval_s": 5}
    with pytest.raises(ConfigError) as e:
        validate_config(cfg, pins)
    msg = str(e.value)
    for field in ("comms.dc09.port", "comms.dc09.protocol", "comms.dc09.account",
                  "comms.dc09.key", "comms.dc09.ping_interval_s"):
        assert field in msg, (field, msg)
    assert "SECRETKEY" not in msg
    cfg["comms"]["dc09"] = {"enabled": False}
    cfg["comms"]["paths"] = [{"name": "mqtt", "kinds": None}, {"name": "dc09", "kinds": None}]
    with pytest.raises(ConfigError, match=r"comms.paths\[1\].name: dc09 is not enabled"):
        validate_config(cfg, pins)


def _dc09_events(b, kind, cid):
    return [e for e, _u, _a in b.app.journal.history()
            if e.kind == kind and e.cid == cid and e.zone_name == "dc09"]


def test_receiver_down_path_trouble_on_mqtt_then_back_delivered_in_order(tmp_path):
    hostclock.use_virtual(0)
    with Scripted("tcp", []) as gone:
        port = gone.port            # nobody listens here once it is closed
    config, secrets = dc09_site(port)
    b = vboard.VirtualBoard(config, secrets, str(tmp_path / "flash"), log=lambda m: None)
    # refused three times (5 s and 10 s apart): the path is down, trouble 350 names it
    assert run_until(b, lambda: _dc09_events(b, E.TROUBLE, E.CID_COMM_TROUBLE))
    trouble = _dc09_events(b, E.TROUBLE, E.CID_COMM_TROUBLE)[0]
    assert "mqtt" in b.app.router.handed_to(trouble.seq)        # on the other path at once
    assert any(t[0] == E.CID_COMM_TROUBLE for t in b.app.troubles())   # the panel shows it
    b.press(PANIC)
    b.run(2000)
    pending = list(b.app.journal.outbox())
    panic = max(e.seq for e, _u, _a in b.app.journal.history() if e.kind == E.ALARM)
    assert panic in pending and not b.app.router.acked_by(panic)
    with Judge("tcp", ACCOUNT, KEY, port=port) as j:
        assert run_until(b, lambda: all("dc09" in b.app.router.acked_by(s) or
                                        s not in b.app.journal.outbox() for s in pending)
                         and _dc09_events(b, E.RESTORE, E.CID_COMM_TROUBLE), real_timeout=20)
        assert j.settle(len(pending))
    got = [(ev.event_qualifier, ev.event_type) for ev in j.events]
    by_seq = {e.seq: e for e, _u, _a in b.app.journal.history()}
    want = [(str(by_seq[s].qualifier), "%03d" % by_seq[s].cid) for s in pending]
    assert got[:len(want)] == want                  # in journal order, panic among them
    assert ("1", "120") in got
    assert all(ev.encrypted and ev.account == ACCOUNT for ev in j.events)
