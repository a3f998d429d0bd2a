# Report paths (issue 11.1): the delivery policy above the paths, with MQTT (real mosquitto, the
# real centre receiver) as the primary and a scriptable test path (support/testpath.py) as the
# fallback to the same centre. What a centre operator sees: each report once, whatever path
# brought it; a path's trouble on the other path; nothing lost or repeated across a reboot.
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import pytest  # noqa: E402

import hostclock  # noqa: E402
import receiver as R  # noqa: E402
import vboard  # noqa: E402
from mqtt_broker import broker  # noqa: E402,F401 (fixture)
from testpath import TestLine  # noqa: E402
from test_app import in_service, load_site, run_until  # noqa: E402

PANIC = 12          # 非常ボタン (24 h)
ALL_BUT_STATE = ["alarm", "trouble", "opening", "closing", "test"]


def with_test_path(config, kinds=ALL_BUT_STATE):
    config["comms"]["paths"] = [{"name": "mqtt", "kinds": None},
                                {"name": "test", "kinds": tuple(kinds)}]
    return config


def shown(lines, site, seq):
    return [x for x in lines if "site=%s" % site in x and " seq=%d " % seq in x + " "]


def panic_seq(b):
    return max(e.seq for e, _u, _a in b.app.journal.history() if e.kind == "alarm")


@pytest.fixture
def site(broker, tmp_path):
    """The sample house on the centre's broker, with the test path as its second path."""
    hostclock.use_virtual(0)
    config, secrets = load_site(broker.port)
    with_test_path(config)
    store = R.Store(str(tmp_path / "centre.db"))
    store.add_site(config["site_id"], secrets["site_key"])
    lines = []
    rx = R.Receiver(store, broker.host, broker.port, out=lines.append).start()
    assert rx.wait_connected()
    line = TestLine(store, config["site_id"], out=lines.append)
    b = vboard.VirtualBoard(config, secrets, in_service(str(tmp_path / "flash")),
                            log=lambda m: None, paths={"test": line.path})
    yield b, store, lines, broker, line
    rx.stop()


@pytest.fixture
def offline(tmp_path):
    """MQTT's broker unreachable (port 1), the test path to a centre."""
    hostclock.use_virtual(0)
    config, secrets = load_site()
    with_test_path(config)
    store = R.Store(str(tmp_path / "centre.db"))
    store.add_site(config["site_id"], secrets["site_key"])
    line = TestLine(store, config["site_id"])
    b = vboard.VirtualBoard(config, secrets, str(tmp_path / "flash"), log=lambda m: None,
                            paths={"test": line.path})
    b.run(1000)
    return b, store, line


def test_primary_down_fallback_carries_it_both_acknowledge_centre_shows_it_once(site):
    b, store, lines, broker, line = site
    sid = b.config["site_id"]
    line.auto_ack = True
    assert run_until(b, lambda: b.app.link.connected and b.app.journal.pending_count() == 0)
    broker.stop()
    b.press(PANIC)
    seq = panic_seq(b)
    b.run(15000)
    assert seq not in line.sent          # MQTT's deadline (20 s) not yet passed: primary only
    b.run(10000)
    assert line.sent.count(seq) == 1     # handed to the fallback while MQTT keeps trying
    assert b.app.router.acked_by(seq) == ["test"]
    assert seq in b.app.journal.outbox()     # not done: MQTT has not acknowledged it yet
    assert len(shown(lines, sid, seq)) == 1 and "非常" in shown(lines, sid, seq)[0]
    broker.start()
    assert run_until(b, lambda: b.app.journal.pending_count() == 0, 30)
    assert b.app.delivery.delivered >= 1     # MQTT acknowledged it too
    assert line.sent.count(seq) == 1
    b.run(1000)
    assert len(shown(lines, sid, seq)) == 1                      # shown once
    assert [r[1] for r in store.reports(sid)].count(seq) == 1    # stored once


def test_routine_reports_stay_on_the_primary_when_it_acknowledges_in_time(site):
    b, store, lines, broker, line = site
    line.auto_ack = True
    assert run_until(b, lambda: b.app.link.connected and b.app.journal.pending_count() == 0)
    b.press(PANIC)
    assert run_until(b, lambda: b.app.journal.pending_count() == 0)
    b.run(30000)
    assert line.sent == [] and b.app.router.handoffs == 0


def test_an_mqtt_path_trouble_goes_out_on_the_other_path(offline):
    b, store, line = offline
    sid = b.config["site_id"]
    line.auto_ack = True
    b.run(11 * 60000)                # the first periodic test on MQTT (10 min) fails after 20 s
    troubles = [e for e, _u, _a in b.app.journal.history()
                if e.kind == "trouble" and e.zone_name == "mqtt"]
    assert [e.cid for e in troubles] == [350]
    seq = troubles[0].seq
    assert line.sent.count(seq) == 1             # at once, not after MQTT's deadline
    assert b.app.router.acked_by(seq) == ["test"]
    assert [r[1] for r in store.reports(sid) if r[2] == "trouble"] == [seq]
    # the MQTT test report itself was not handed on: it tests MQTT only
    tests = [e.seq for e, _u, _a in b.app.journal.history()
             if e.kind == "test" and e.zone_name == "mqtt"]
    assert tests and not set(tests) & set(line.sent)


def test_a_reboot_neither_loses_a_hand_off_nor_repeats_it_where_acknowledged(offline):
    b, store, line = offline
    b.press(PANIC)
    first = panic_seq(b)
    b.run(21000)
    assert line.sent == [first]          # handed over, not acknowledged yet
    b.reboot()                           # power cut in the middle of the hand-off
    b.run(1000)                          # well before another 20 s deadline
    assert line.sent == [first, first]   # the hand-off survived: on the line again at once
    assert b.app.router.handed_to(first) == ["mqtt", "test"]
    line.release(first)
    b.run(1000)
    assert b.app.router.acked_by(first) == ["test"]
    b.press(PANIC)
    second = panic_seq(b)
    assert second > first
    b.run(21000)
    line.release(second)
    b.run(1000)
    b.reboot()                           # both acknowledged on the line, MQTT still owes them
    b.run(30000)
    assert line.sent.count(first) == 2 and line.sent.count(second) == 1   # not again
    assert b.app.router.acked_by(first) == ["test"] and b.app.router.acked_by(second) == ["test"]
    assert first in b.app.journal.outbox() and second in b.app.journal.outbox()
    assert [r[1] for r in store.reports(b.config["site_id"]) if r[2] == "alarm"].count(first) == 1


def test_comms_paths_is_validated_with_field_names():
    import json
    from mimamori.store.config import ConfigError, validate_config
    board = os.path.join(ROOT, "boards", "esp32-devkitc")
    cfg = json.load(open(os.path.join(board, "config.sample.json"), encoding="utf-8"))
    pins = json.load(open(os.path.join(board, "pins.json"), encoding="utf-8"))
    assert validate_config(cfg, pins)["comms"]["paths"] == [{"name": "mqtt", "kinds": None}]
    cfg["comms"]["paths"] = [{"name": "mqtt"}, {"name": "landline", "kinds": ["alarm", "x"]}]
    with pytest.raises(ConfigError) as e:
        validate_config(cfg, pins)
    msg = str(e.value)
    assert "comms.paths[1].name: landline is not enabled" in msg
    assert "comms.paths[1].kinds: expected null or a list of alarm" in msg


def test_the_landline_path_dials_the_centre_and_the_second_receiver_in_turn(tmp_path):
    # comms.landline.backup_number: the dialer alternates between the two receivers call by call
    import machine
    from test_config import sample, wire_landline
    from mimamori.comms import path_landline
    from mimamori.store.config import validate_config
    from mimamori.store.journal import Journal
    cfg, pins, _ = sample()
    wire_landline(cfg)["backup_number"] = "0398765432"
    line = validate_config(cfg, pins)["comms"]["landline"]
    machine.reset_all()
    path = path_landline.make(line, Journal(str(tmp_path / "j")), machine)
    assert path.dialer.numbers == ("0312345678", "0398765432")
    del cfg["comms"]["landline"]["backup_number"]
    line = validate_config(cfg, pins)["comms"]["landline"]
    path = path_landline.make(line, Journal(str(tmp_path / "j2")), machine)
    assert path.dialer.numbers == ("0312345678",)
