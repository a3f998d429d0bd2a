"""Landline bench: line time of Contact ID reports, ours and spandsp's own sender, on one line.

    .venv/bin/python tools/bench/landline.py [--snr DB] [--reports N]

Ours: the firmware's Dialer + IsoModem driver on the emulated ISOmodem (host_tests/fakes/
isomodem.py), calling spandsp's Contact ID receiver. Figures are line (simulated) time:
  - hand-off (the report offered to the dialer) -> first kissoff: set-up commands, dialling (100 ms per digit), ringing until the
    answer (Line.answer_ms), the receiver's handshake, 250 ms, 16 digits, the kissoff;
  - each further message in the same call: kissoff to kissoff.
Reference: spandsp's ademco_contactid_sender on the same Line model (same dialling + ringing
time, same noise), talking to the same receiver: its first kissoff and kissoff-to-kissoff.
Targets (issue 12): <= 10 s to the first kissoff, <= 3 s per further message.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
for _p in ("firmware", "host_tests/fakes", "host_tests/support"):
    sys.path.insert(0, os.path.join(ROOT, _p))

from isomodem import BLOCK, DIAL_DIGIT_MS, Line, Rig  # noqa: E402
from spandsp import Receiver, Sender  # noqa: E402

from mimamori.core import events as E  # noqa: E402
from mimamori.proto import contactid as C  # noqa: E402

NUMBER = "0120000001"


def _events(n):
    out = []
    for i in range(n):
        e = E.Event(0, E.ALARM, E.CID_PERIMETER, E.Q_NEW, zone=i + 1)
        e.seq = i + 1
        out.append(e)
    return out


def ours(n, snr_db=None):
    rx = Receiver()
    rig = Rig(Line({NUMBER: rx}, snr_db=snr_db), numbers=[NUMBER], capacity=max(16, n))
    t0 = rig.now
    wall = time.perf_counter()
    for e in _events(n):
        rig.dialer.offer(e)
    assert rig.settle(600000), rig.logs[-3:]
    wall = time.perf_counter() - wall
    t = [ms - t0 for _s, ms in rig.delivered]
    assert len(t) == n and len(rx.reports) == n
    return t, (rig.now - t0) / 1000.0 / wall


def spandsp_sender(n, snr_db=None):
    """spandsp's sender on the same line: same dialling + ringing time, then audio both ways."""
    line = Line(snr_db=snr_db)
    rx, tx = Receiver(), Sender()
    msgs = [C.from_event(e, "1234") for e in _events(n)]
    connect_ms = DIAL_DIGIT_MS * len(NUMBER) + line.answer_ms
    t_ms, kissoffs, sent = connect_ms, [], 0

    def put():
        m = msgs[len(kissoffs)]
        tx.put(m[0:4], int(m[6]), m[7:10], m[10:12], m[12:15])

    put()
    seen = 0
    while len(kissoffs) < n and t_ms < connect_ms + 60000:
        a = tx.tx(BLOCK)
        rx.rx(line.noise(a))
        b = rx.tx(BLOCK)
        tx.rx(line.noise(b))
        t_ms += 10
        while seen < len(tx.events):
            code = tx.events[seen]
            seen += 1
            if code == 1:                   # a good kissoff
                kissoffs.append(t_ms)
                if len(kissoffs) < n:
                    put()
            elif code == 0:                 # 4 attempts without one
                return "4 attempts without a kissoff"
    if len(kissoffs) == n:
        return kissoffs
    return "no kissoff in 60 s" if -1 in tx.events else "its detector heard no handshake in 60 s"



def _figures(t):
    if isinstance(t, str):
        return t
    further = [b - a for a, b in zip(t, t[1:])]
    return t[0] / 1000.0, (max(further) / 1000.0 if further else 0.0)


def measure(n=5, snr_db=None):
    t_ours, speed = ours(n, snr_db)
    t_ref = spandsp_sender(n, snr_db)
    return {"ours": _figures(t_ours), "ref": _figures(t_ref), "n": n, "speed": speed,
            "snr": snr_db}


def rows(r):
    line = "emulated ISOmodem + Line (%s), spandsp receiver, %d reports, sim %.0fx real time" % (
        "no noise" if r["snr"] is None else "%g dB SNR" % r["snr"], r["n"], r["speed"])
    return [
        ("landline: hand-off -> first kissoff", "%.2f" % r["ours"][0], "s", "<= 10 s", line),
        ("landline: each further message (worst)", "%.2f" % r["ours"][1], "s", "<= 3 s", line),
    ] + ([("spandsp sender: " + r["ref"], "-", "", "(reference)", line)]
         if isinstance(r["ref"], str) else [
        ("spandsp sender: connect -> first kissoff", "%.2f" % r["ref"][0], "s", "(reference)",
         line),
        ("spandsp sender: each further message (worst)", "%.2f" % r["ref"][1], "s",
         "(reference)", line),
    ])


def main(argv):
    snr = None
    n = 5
    if "--snr" in argv:
        snr = float(argv[argv.index("--snr") + 1])
    if "--reports" in argv:
        n = int(argv[argv.index("--reports") + 1])
    rs = rows(measure(n, snr))
    w = max(len(x[0]) for x in rs)
    print("%-*s  %8s  %-4s  %-12s  %s" % (w, "figure", "value", "unit", "target", "measured on"))
    for name, value, unit, target, where in rs:
        print("%-*s  %8s  %-4s  %-12s  %s" % (w, name, value, unit, target, where))


if __name__ == "__main__":
    main(sys.argv[1:])
