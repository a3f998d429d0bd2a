# The line path's own communication check (issue 12 "Supervision"): the CommWatcher keeps one
# PathCheck per configured path, so the landline gets its own periodic test, a 602 sent on the
# line only (comms/paths.py: a test goes on the path it names), kissed off by spandsp's receiver
# and shown at the centre as the line's test; a line whose tests are never kissed off is trouble
# 351 (断線/回線異常), reported on the other path, MQTT. The whole controller runs (virtual board,
# real mosquitto, the centre's receiver), the ISOmodem emulator on its landline UART.
import time

import receiver as R
import vboard
from isomodem import Line
from mqtt_broker import broker  # noqa: F401 (fixture)
from spandsp import Receiver
from test_app import in_service
from test_landline_path import CENTRE, House, load_landline_house

import hostclock
from mimamori.core import events as E

FIRST_TEST_MIN = 1          # timers.first_test_after_boot_min: the first tests a minute in


def _house(broker, tmp_path, judge):
    hostclock.use_virtual(0)
    config, secrets = load_landline_house(broker.port)
    config["timers"]["first_test_after_boot_min"] = FIRST_TEST_MIN
    store = R.Store(str(tmp_path / "centre.db"))
    store.add_site(config["site_id"], secrets["site_key"], account="1234")
    lines = []
    rx = R.Receiver(store, broker.host, broker.port, out=lines.append).start()
    assert rx.wait_connected()
    judge.on_report = rx.line_report
    b = vboard.VirtualBoard(config, secrets, in_service(str(tmp_path / "flash")),
                            log=lambda m: None)
    h = House(b, Line({CENTRE: judge}))
    assert h.run(0, lambda: b.app.link.connected and b.app.journal.pending_count() == 0,
                 real_timeout=15)
    return h, store, lines, rx


def _tests(b, path):
    return [e for e, _u, _a in b.app.journal.history()
            if e.kind == E.TEST and e.cid == E.CID_PERIODIC_TEST and e.zone_name == path]


def _telco(b, kind):
    return [e for e, _u, _a in b.app.journal.history()
            if e.cid == E.CID_TELCO_FAULT and e.kind == kind]


def test_the_line_path_sends_its_own_602_by_line_and_it_is_kissed_off(broker, tmp_path):
    judge = Receiver()
    h, store, lines, rx = _house(broker, tmp_path, judge)
    b = h.b
    try:
        assert judge.reports == []
        handed = set()

        def line_test_done():
            t = _tests(b, "landline")
            if not t:
                return False
            handed.update(b.app.router.handed_to(t[0].seq))
            return t[0].seq not in b.app.journal.outbox()
        assert h.run(FIRST_TEST_MIN * 60000 + 60000, line_test_done)
        assert handed == {"landline"}                               # never handed to MQTT
        assert [r[7:10] for r in judge.reports] == ["602"]          # the line's test, by line
        assert judge.kissoffs_sent == 1
        assert h.run(0, lambda: b.app.journal.pending_count() == 0, real_timeout=15)
        assert _telco(b, E.TROUBLE) == []
        sid = b.config["site_id"]
        # the centre shows the line's 602, by line (MQTT's own check was met by the boot
        # report it delivered: any delivery restarts a path's period)
        assert ("1602", 0, None, ("landline",)) in store.seen(sid)
        assert any("定期通信試験" in x and "経路 電話回線" in x for x in lines)
    finally:
        rx.stop()


def test_a_line_whose_test_is_never_kissed_off_raises_351_reported_over_mqtt(broker, tmp_path):
    judge = Receiver(kissoffs_lost=-1)      # it hears the 602, its kissoff never comes back
    h, store, lines, rx = _house(broker, tmp_path, judge)
    b = h.b
    try:
        # 1 min to the test, then the dialer's whole budget (300 s) of calls without a kissoff
        assert h.run(FIRST_TEST_MIN * 60000 + 400000, lambda: _telco(b, E.TROUBLE))
        assert judge.reports and all(r[7:10] == "602" for r in judge.reports)
        # the centre heard the repeated 602 each time; it shows it once
        assert len([x for x in lines if "定期通信試験" in x]) == 1
        assert judge.kissoffs_sent == 0
        fault = _telco(b, E.TROUBLE)[0]
        assert fault.zone_name == "landline"
        assert h.run(0, lambda: "mqtt" in b.app.router.acked_by(fault.seq) or
                     fault.seq not in b.app.journal.outbox(), real_timeout=15)
        sid = b.config["site_id"]
        assert h.run(0, lambda: [r for r in store.seen(sid) if r[0] == "1351"],
                     real_timeout=15)
        assert [r for r in store.seen(sid) if r[0] == "1351"] == [
            ("1351", 0, fault.seq, ("mqtt",))]
        rx.tick(time.time() + R.HOLD_S + 1)    # held for its order: the line-only 602 before it
        assert any("故障" in x and "断線(電話回線)" in x and "経路 landline" in x
                   for x in lines)
        assert any(t[0] == E.CID_TELCO_FAULT for t in b.app.troubles())    # panel: trouble
    finally:
        rx.stop()
