# The centre listens for DC-09 too (tools/receiver_dc09.py: pysiaalarm's server feeding
# tools/receiver.py's Receiver). A report that reaches the centre both by MQTT (the signed frame)
# and by DC-09 (our path's ADM-CID, through pysiaalarm) is shown to the operator once, whichever
# comes first; the second is noted as the other path.
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import receiver as R  # noqa: E402
import receiver_dc09 as RD  # noqa: E402
from dc09_judge import drive  # noqa: E402
from test_dc09_judge import Journal, make_path  # noqa: E402
from testpath import _Capture  # noqa: E402
from mimamori.core import events as E  # noqa: E402
from mimamori.proto import frame as F  # noqa: E402

SITE = "site-dc09"
KEY_HEX = "11" * 32
ACCOUNT = "AB12"
DC09_KEY = "0123456789ABCDEF"


def centre(tmp_path, udp=False):
    store = R.Store(str(tmp_path / "centre.db"))
    store.add_site(SITE, KEY_HEX)
    RD.add_account(store, ACCOUNT, SITE, DC09_KEY)
    lines = []
    rx = R.Receiver(store, out=lines.append)
    rx.c = _Capture()
    intake = RD.Intake(rx, "127.0.0.1", 0, udp).start()
    return store, rx, intake, lines


def by_mqtt(rx, e):
    e.wall = "2026-12-01T12:00:00+09:00"
    rx.handle("mimamori/v1/%s/event" % SITE,
              F.event_frame(F.site_key(KEY_HEX), SITE, e, 10))


def by_dc09(intake, e, udp=False):
    n = len(intake.results)
    p = make_path([e], intake.port, "udp" if udp else "tcp", DC09_KEY)
    assert drive(p, lambda: p.got == [e.seq], real_timeout=10)
    # pysiaalarm answers first, then hands the event to the centre (its handler's order)
    end = time.monotonic() + 5
    while len(intake.results) == n and time.monotonic() < end:
        time.sleep(0.01)


def test_a_report_by_dc09_then_mqtt_is_shown_once(tmp_path):
    store, rx, intake, lines = centre(tmp_path)
    try:
        e = E.Event(0, E.ALARM, E.CID_PANIC, E.Q_NEW, zone=12)
        by_dc09(intake, e)
        assert intake.results == ["shown"]
        by_mqtt(rx, e)
        shown = [x for x in lines if "非常" in x and "経路追加" not in x]
        assert len(shown) == 1 and "(経路 DC-09)" in shown[0], lines
        assert any("経路追加" in x for x in lines)
    finally:
        intake.stop()


def test_a_report_by_mqtt_then_dc09_is_shown_once(tmp_path):
    store, rx, intake, lines = centre(tmp_path, udp=True)
    try:
        e = E.Event(0, E.CLOSING, E.CID_OPEN_CLOSE, E.Q_RESTORE, user=2)
        e.seq = 1
        by_mqtt(rx, e)
        by_dc09(intake, e, udp=True)
        assert intake.results == ["both"]
        assert len([x for x in lines if "外出セット" in x and "経路追加" not in x]) == 1, lines
        assert any("経路追加" in x and "DC-09" in x for x in lines)
    finally:
        intake.stop()


def test_an_unknown_account_never_reaches_the_operator(tmp_path):
    store, rx, intake, lines = centre(tmp_path)
    try:
        p = make_path([E.Event(0, E.ALARM, E.CID_FIRE, E.Q_NEW, zone=3)], intake.port, "tcp",
                      DC09_KEY)
        p.account = "9999"          # a controller the centre does not know
        drive(p, lambda: False, board_ms=3000, real_timeout=3)
        assert p.got == [] and intake.results == [] and not lines
    finally:
        intake.stop()
