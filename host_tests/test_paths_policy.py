# The delivery policy above the report paths (comms/paths.py Router) on a real journal, with two
# scriptable paths: routing by kind and priority, the deadline hand-off, a path trouble on the
# other path, a test report on its own path only, completion when every path it went to
# acknowledged it, and the hand-off state across a reboot. Runs on CPython and on the real
# MicroPython interpreter (where heap_lock shows the idle poll allocates nothing).
RUNS_ON_MICROPYTHON = True

import micropython

from scratch import fresh_dir
from mimamori.comms.paths import Path, Router
from mimamori.core import events as E
from mimamori.store.journal import Journal


class Scripted(Path):
    """A path that records what it was offered; acknowledgements come from the test."""

    def __init__(self, name, journal, deadline_ms):
        Path.__init__(self, name, journal, deadline_ms)
        self.offered = []

    def offer(self, seq):
        Path.offer(self, seq)
        self.offered.append(seq)


def _boot(d, kinds=(None, ("alarm", "trouble", "test")), now=0):
    j = Journal(d + "/journal")
    a = Scripted("mqtt", j, 20000)
    b = Scripted("landline", j, 300000)
    late = []
    r = Router(j, [a, b], list(kinds), now, on_late=lambda n, s, e, t: late.append((n, s)))
    return j, a, b, r, late


def _add(j, kind, cid, zone=0, zone_name=""):
    return j.append(E.Event(0, kind, cid, E.Q_NEW, zone, 0, zone_name, "away"), "t", 0)


def _run(r, t0, ms):
    t = t0
    while t < t0 + ms:
        t += 10
        r.poll(t)
    return t


def test_primary_first_then_the_next_path_after_the_deadline_both_must_acknowledge():
    j, a, b, r, late = _boot(fresh_dir("paths1"))
    s = _add(j, E.ALARM, E.CID_PANIC, 12, "非常ボタン")
    t = _run(r, 0, 19000)
    assert a.offered == [s] and b.offered == []
    t = _run(r, t, 2000)
    assert b.offered == [s] and late == [("mqtt", s)] and r.handoffs == 1
    b.delivered(s, t)
    assert r.acked_by(s) == ["landline"] and s in j.outbox()     # MQTT still owes it
    t = _run(r, t, 400000)
    assert b.offered == [s]                    # acknowledged: no further hand-off, no repeat
    a.delivered(s, t)
    assert j.outbox() == []


def test_a_kind_the_fallback_does_not_carry_stays_on_the_primary():
    j, a, b, r, late = _boot(fresh_dir("paths2"))
    s = _add(j, E.STATUS, E.CID_SYSTEM_RESET)
    _run(r, 0, 30000)
    assert a.offered == [s] and b.offered == [] and r.late == 1
    a.delivered(s, 30000)
    assert j.outbox() == []


def test_a_path_trouble_goes_to_the_other_path_at_once_and_a_test_only_on_its_path():
    j, a, b, r, late = _boot(fresh_dir("paths3"))
    s = _add(j, E.TROUBLE, E.CID_COMM_TROUBLE, 0, "mqtt")
    tl = _add(j, E.TEST, E.CID_PERIODIC_TEST, 0, "landline")
    tm = _add(j, E.TEST, E.CID_PERIODIC_TEST, 0, "mqtt")
    t = _run(r, 0, 20)
    assert a.offered == [s, tm] and b.offered == [s, tl]
    _run(r, t, 400000)
    assert b.offered == [s, tl] and ("mqtt", tm) in late     # the MQTT test never to the line


def test_a_reboot_keeps_the_hand_off_and_does_not_repeat_it_where_acknowledged():
    d = fresh_dir("paths4")
    j, a, b, r, late = _boot(d)
    s1 = _add(j, E.ALARM, E.CID_PANIC, 12)
    s2 = _add(j, E.ALARM, E.CID_FIRE, 7)
    t = _run(r, 0, 21000)
    assert b.offered == [s1, s2]
    b.delivered(s1, t)
    _run(r, t, 20)
    j.close()
    j, a, b, r, late = _boot(d, now=5)         # power cut: a new journal, router and paths
    assert a.offered == [s1, s2]               # MQTT owes both
    assert b.offered == [s2]                   # s2 still on the line; s1 not again
    assert r.acked_by(s1) == ["landline"] and r.handed_to(s2) == ["mqtt", "landline"]
    a.delivered(s1, 10)
    assert j.outbox() == [s2]


def test_the_idle_poll_allocates_nothing_nor_does_waiting_for_an_ack():
    j, a, b, r, late = _boot(fresh_dir("paths5"))
    _run(r, 0, 100)
    micropython.heap_lock()
    try:
        r.poll(200)
    finally:
        micropython.heap_unlock()
    _add(j, E.ALARM, E.CID_PANIC, 12)       # in flight on MQTT, within its deadline
    _run(r, 200, 100)
    t = 1000
    micropython.heap_lock()
    try:
        while t < 2000:
            r.poll(t)
            t += 10
    finally:
        micropython.heap_unlock()
