# Landline scenarios on the emulated line, judged by spandsp's Contact ID receiver: what the
# centre receives, what the controller counts as delivered, and which outcome each call ends in.
from isomodem import Line, Rig
from spandsp import Receiver

from mimamori.core import events as E
from mimamori.proto import contactid as C

A = "0120000001"
B = "0120000002"
NOISE_SNR_DB = 12       # README "Landline (Contact ID)": the documented noisy-line figure


def _alarm(seq, zone=1, cid=E.CID_PERIMETER):
    e = E.Event(0, E.ALARM, cid, E.Q_NEW, zone=zone)
    e.seq = seq
    return e


def _outcomes(rig):
    return [(o, n) for o, n, _t in rig.outcomes]


def test_busy_then_answered_on_the_next_call():
    rx = Receiver()
    line = Line({A: "busy"})
    rig = Rig(line, numbers=[A, B], pause_ms=3000)
    line.far_ends[B] = rx
    rig.dialer.offer(_alarm(1))
    assert rig.settle(120000)
    assert _outcomes(rig) == [("busy", A), ("delivered", B)]
    assert [s for s, _ in rig.delivered] == [1] and rx.reports == [C.from_event(_alarm(1), "1234")[:15]]
    assert line.calls == [A, B]


def test_no_answer_on_the_first_number_the_second_answers():
    rx = Receiver()
    rig = Rig(Line({A: "no_answer", B: rx}, ring_out_ms=20000), numbers=[A, B], pause_ms=3000)
    rig.dialer.offer(_alarm(2))
    assert rig.settle(120000)
    assert _outcomes(rig) == [("no_answer", A), ("delivered", B)]
    assert [s for s, _ in rig.delivered] == [2] and len(rx.reports) == 1


def test_a_receiver_that_never_kisses_off_four_attempts_per_call_then_the_budget_ends():
    rxa, rxb = Receiver(kissoffs_lost=-1), Receiver(kissoffs_lost=-1)
    rig = Rig(Line({A: rxa, B: rxb}), numbers=[A, B], max_calls=2, pause_ms=3000,
              retry_ms=600000)
    rig.dialer.offer(_alarm(3))
    assert rig.run(200000, lambda: rig.dialer.last_outcome == "budget_spent")
    # Each call: the same message 4 times (the receiver decoded it each time, but the panel never
    # heard a kissoff), then the next number; then the session's budget of calls is spent.
    msg = C.from_event(_alarm(3), "1234")[:15]
    assert rxa.reports == [msg] * C.ATTEMPTS and rxb.reports == [msg] * C.ATTEMPTS
    assert _outcomes(rig) == [("no_kissoff", A), ("no_kissoff", B), ("budget_spent", None)]
    assert rig.delivered == [] and rig.dialer.pending() == 1        # still pending
    assert rig.dialer.up is False and not rig.dialer.in_call
    assert any("gave up after 2 call(s); 1 report(s) still waiting" in x for x in rig.logs)
    # Nothing more until the retry time: the pending report is not forgotten.
    calls = len(rig.line.calls)
    rig.run(60000)
    assert len(rig.line.calls) == calls


def test_kissoff_only_on_the_second_attempt():
    rx = Receiver(kissoffs_lost=1)
    rig = Rig(Line({A: rx}), numbers=[A])
    rig.dialer.offer(_alarm(4))
    assert rig.settle(60000)
    assert len(rx.reports) == 2 and rx.kissoffs_sent == 1
    assert _outcomes(rig) == [("delivered", A)] and [s for s, _ in rig.delivered] == [4]
    assert any("no kissoff for seq 4 (attempt 1), again" in x for x in rig.logs)


def test_a_noisy_line_at_the_documented_snr_still_delivers():
    rx = Receiver()
    rig = Rig(Line({A: rx}, snr_db=NOISE_SNR_DB, seed=7), numbers=[A], capacity=8)
    evs = [_alarm(10 + i, zone=i + 1) for i in range(3)]
    for e in evs:
        rig.dialer.offer(e)
    assert rig.settle(120000)
    assert [s for s, _ in rig.delivered] == [10, 11, 12]
    assert rx.reports == [C.from_event(e, "1234")[:15] for e in evs]


def test_a_line_cut_mid_call_is_its_own_outcome_and_the_report_stays_pending():
    line = Line({A: Receiver, B: Receiver})         # a fresh receiver answers each call
    rig = Rig(line, numbers=[A, B], max_calls=3, pause_ms=3000)
    line.cut_after_ms = 1500            # after the handshake, during the first digits
    rig.dialer.offer(_alarm(5))
    assert rig.run(120000, lambda: rig.dialer.last_outcome == "budget_spent")
    # Cut mid-call, then every further call finds no dial tone and fails at once.
    assert _outcomes(rig) == [("line_cut", A), ("no_dialtone", B), ("no_dialtone", A),
                              ("budget_spent", None)]
    assert rig.delivered == [] and rig.dialer.pending() == 1 and rig.dialer.up is False
    t_fail = [t for o, _n, t in rig.outcomes if o == "no_dialtone"]
    assert all(t2 - t1 < 3000 + 2500 for t1, t2 in zip(t_fail, t_fail[1:]))
    # The line comes back: the next session delivers it.
    line.cut = False
    rig.dialer.offer(_alarm(6))         # a new report starts a session at once
    assert rig.settle(60000)
    assert [s for s, _ in rig.delivered] == [5, 6] and rig.dialer.up


def test_five_reports_queued_go_in_one_call():
    rx = Receiver()
    rig = Rig(Line({A: rx}), numbers=[A])
    evs = [_alarm(20 + i, zone=i + 1) for i in range(5)]
    for e in evs:
        rig.dialer.offer(e)
    assert rig.settle(120000)
    assert _outcomes(rig) == [("delivered", A)] and rig.line.calls == [A]
    assert [s for s, _ in rig.delivered] == [20, 21, 22, 23, 24]
    assert rx.reports == [C.from_event(e, "1234")[:15] for e in evs]
    t = [t for _s, t in rig.delivered]
    assert all(b - a <= 3000 for a, b in zip(t, t[1:])), t     # each further message <= 3 s


def test_a_report_offered_during_a_call_goes_in_the_same_call():
    rx = Receiver()
    rig = Rig(Line({A: rx}), numbers=[A])
    rig.dialer.offer(_alarm(30))
    assert rig.run(30000, lambda: rig.dialer.state == "sending")
    fire = _alarm(31, zone=9, cid=E.CID_SMOKE)
    rig.dialer.offer(fire)
    assert rig.settle(60000)
    assert [s for s, _ in rig.delivered] == [30, 31] and rig.line.calls == [A]
