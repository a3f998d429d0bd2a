# Delivery's order and ack rules on both runtimes (CPython and the real MicroPython): 異常 go out
# ahead of routine reports and outside the window; an ack must name the exact report (its ref)
# to count, and an ack of another report with the same seq sets no clock; frames carry the
# journal's epoch. A link double records what the controller publishes, in order.
import os

from mimamori.comms import delivery as D
from mimamori.core import events as E
from mimamori.proto import frame as F
from mimamori.store.journal import Journal

RUNS_ON_MICROPYTHON = True

KEY = F.site_key("00112233445566778899aabbccddeeff" * 2)
SITE = "site-001"
_n = [0]


def _tmpdir():
    try:
        import tempfile
        return tempfile.mkdtemp()
    except ImportError:
        _n[0] += 1
        d = "/dq%d" % _n[0]
        os.mkdir(d)
        return d


class _Link:
    """Connected or not, with a queue that takes `room` more messages."""

    def __init__(self):
        self.connected = False
        self.room = 1000
        self.out = []            # event frames published, as dicts, in order
        self.on_message = None
        self.on_up = None

    def topic(self, name):
        return b"mimamori/v1/site-001/" + name.encode()

    def poll(self, now):
        pass

    def can_publish(self, nbytes):
        return self.connected and self.room > 0

    def publish(self, topic, payload, retain=False, qos=0):
        if not self.can_publish(len(payload)):
            return False
        self.room -= 1
        if topic.endswith(b"/event"):
            self.out.append(F.parse(payload))
        return True

    def up(self):
        self.connected = True
        self.on_up()


class _EpochJournal(Journal):
    def __init__(self, *a, **k):
        Journal.__init__(self, *a, **k)
        self.epoch = "0a1b2c3d"      # a known epoch instead of a random one


def _routine(j, i):
    ev = E.Event(i, E.CLOSING if i % 2 else E.OPENING, E.CID_OPEN_CLOSE,
                 E.Q_RESTORE if i % 2 else E.Q_NEW, user=1, mode="away")
    return j.append(ev, "2026-11-22T12:00:00+09:00", 5)


def _panic(j):
    ev = E.Event(99, E.ALARM, E.CID_PANIC, E.Q_NEW, zone=9, zone_name="非常ボタン", mode="away")
    return j.append(ev, "2026-11-22T12:00:30+09:00", 35)


def _setup(journal_class=Journal):
    j = journal_class(_tmpdir())
    link = _Link()
    d = D.Delivery(j, link, KEY, SITE, retry_min_ms=3000, retry_max_ms=12000)
    return j, link, d


def _ack(d, seq, ref, t=None):
    d._on_message(d._t_ack, F.ack_frame(KEY, SITE, seq, ref, t))


def test_a_panic_goes_out_first_when_the_link_returns():
    j, link, d = _setup()
    routine = []
    n = 0
    while n < 12:
        routine.append(_routine(j, n))
        n += 1
    panic = _panic(j)
    d.poll(1000)
    assert link.out == []                   # the link is down: everything waits
    link.up()
    d.poll(1010)
    d.poll(1020)                            # (at most a window's worth of publishes per poll)
    seqs = [f["seq"] for f in link.out]
    assert seqs[0] == panic                 # the 異常 first ...
    assert seqs[1:] == routine[:D.WINDOW]   # ... then the routine ones in order, a window's worth
    assert link.out[0]["base"] == routine[0]


def test_a_panic_is_not_held_by_a_full_window_nor_by_a_full_queue_of_routine_reports():
    j, link, d = _setup()
    link.up()
    n = 0
    while n < 12:
        _routine(j, n)
        n += 1
    d.poll(1000)
    d.poll(1010)
    assert len(link.out) == D.WINDOW        # the window is full, nobody acks
    panic = _panic(j)
    d.poll(1020)
    assert link.out[-1]["seq"] == panic     # out at once, not after the retry interval
    # a queue with no room: routine reports wait; the panic is first when room comes back
    j2, link2, d2 = _setup()
    link2.up()
    link2.room = 0
    _routine(j2, 0)
    _routine(j2, 1)
    d2.poll(1000)
    p2 = _panic(j2)
    link2.room = 1
    d2.poll(1010)
    assert [f["seq"] for f in link2.out] == [p2]


def test_an_ack_counts_only_for_the_report_it_names_and_only_then_sets_the_clock():
    j, link, d = _setup(_EpochJournal)
    times = []
    d.on_time = times.append
    link.up()
    seq = _panic(j)
    d.poll(1000)
    sent = link.out[0]
    assert sent["epoch"] == "0a1b2c3d"
    other = E.Event(5, E.ALARM, E.CID_FIRE, E.Q_NEW, zone=2, zone_name="寝室", mode="away")
    other.seq = seq
    other.wall = "2026-11-20T08:00:00+09:00"
    _ack(d, seq, F.event_ref(SITE, other, 5, "0a1b2c3d"), 1795000000 - 86400)   # another report
    _ack(d, seq, F.report_ref(sent)[:31] + "0", 1795000000)
    assert j.outbox() == [seq] and d.delivered == 0 and d.bad_acks == 2 and times == []
    _ack(d, seq, F.report_ref(sent), 1795000000)
    assert j.outbox() == [] and d.delivered == 1 and times == [1795000000]
    _ack(d, seq, F.report_ref(sent), 1795000001)    # a repeated ack: nothing more
    assert d.delivered == 1 and times == [1795000000]
