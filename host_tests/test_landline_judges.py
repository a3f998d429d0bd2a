# The landline judged by third parties: our dialer + ISOmodem driver, through the emulated modem
# and line at 8 kHz, to spandsp's Ademco Contact ID receiver (libspandsp2), which sends the
# handshake, decodes the DTMF, checks the checksum and sends the kissoff itself. multimon-ng
# decodes the same audio as a second judge of the digits. A report counts as delivered only on
# the kissoff the receiver chose to send.
import subprocess

from isomodem import RATE, Line, Rig
from spandsp import Receiver

from mimamori.core import events as E
from mimamori.core import zones as Z
from mimamori.proto import contactid as C

NUMBER = "0120000001"


def _ev(seq, kind, cid, q=E.Q_NEW, zone=0, user=0):
    e = E.Event(0, kind, cid, q, zone=zone, user=user)
    e.seq = seq
    return e


def _every_report_kind():
    """異常 of every zone type (and their restores), opening/closing by user, 406, troubles,
    periodic test 602 - what the controller sends over the line."""
    evs = []
    cids = sorted(set(list(Z._TYPE_CID.values()) + list(Z._FIRE_CID.values()) +
                      [E.CID_ENTRY_EXIT]))
    for i, cid in enumerate(cids):
        evs.append((E.ALARM, cid, E.Q_NEW, i + 1, 0))
    evs.append((E.RESTORE, E.CID_PERIMETER, E.Q_RESTORE, 1, 0))
    evs.append((E.OPENING, E.CID_OPEN_CLOSE, E.Q_NEW, 0, 2))
    evs.append((E.CLOSING, E.CID_OPEN_CLOSE, E.Q_RESTORE, 0, 2))
    evs.append((E.CLOSING, E.CID_STAY_ARM, E.Q_RESTORE, 0, 3))
    evs.append((E.CANCEL, E.CID_CANCEL, E.Q_NEW, 0, 1))
    for cid in (E.CID_AC_LOSS, E.CID_LOW_BATTERY, E.CID_COMM_TROUBLE, E.CID_TELCO_FAULT,
                E.CID_FAIL_TO_COMM, E.CID_SENSOR_TROUBLE, E.CID_SYSTEM_RESET):
        evs.append((E.TROUBLE, cid, E.Q_NEW, 0, 0))
    evs.append((E.RESTORE, E.CID_AC_LOSS, E.Q_RESTORE, 0, 0))
    evs.append((E.TEST, E.CID_PERIODIC_TEST, E.Q_NEW, 0, 0))
    evs.append((E.TEST, E.CID_PERIODIC_TEST, E.Q_NEW, 15, 0))   # check value 10: sent as 0
    return [_ev(100 + i, *a) for i, a in enumerate(evs)]


def multimon_digits(audio):
    """multimon-ng's reading of 8 kHz audio (resampled to its 22050 Hz by sox)."""
    sox = subprocess.run(["sox", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c",
                          "1", "-", "-t", "raw", "-r", "22050", "-e", "signed", "-b", "16", "-c",
                          "1", "-"], input=audio.tobytes(), capture_output=True, check=True)
    mm = subprocess.run(["multimon-ng", "-q", "-c", "-a", "DTMF", "-t", "raw", "-"],
                        input=sox.stdout, capture_output=True, check=True)
    return "".join(line.split(":", 1)[1].strip() for line in mm.stdout.decode().splitlines()
                   if line.startswith("DTMF:"))


def test_spandsp_kisses_off_every_report_kind_and_multimon_reads_the_same_digits():
    rx = Receiver()
    rig = Rig(Line({NUMBER: rx}), numbers=[NUMBER], account="1234", capacity=64)
    evs = _every_report_kind()
    for e in evs:
        assert rig.dialer.offer(e)
    assert rig.settle(300000), rig.logs[-5:]
    # Urgent reports (alarms, 406) go on the line before the rest; each group in its own order.
    evs = [e for e in evs if e.urgent] + [e for e in evs if not e.urgent]
    expected = [C.from_event(e, "1234") for e in evs]
    assert any(m.endswith("0") for m in expected)          # the check-value-10 case is in
    # The judge: every message decoded with a good checksum, in order, and kissed off.
    assert rx.reports == [m[:15] for m in expected]
    assert rx.kissoffs_sent == len(evs)
    assert [s for s, _t in rig.delivered] == [e.seq for e in evs]
    assert [o for o, _n, _t in rig.outcomes] == ["delivered"]     # one call for them all
    assert rig.dialer.up and rig.dialer.pending() == 0
    # The second judge: multimon-ng hears exactly these digits in the same audio.
    assert multimon_digits(rig.emu.sent_audio) == "".join(C.to_dtmf(m) for m in expected)


def _runs(audio, lo=1000):
    """(start, length) in samples of the stretches where |sample| exceeds lo (10 ms bridging)."""
    runs, start, quiet = [], None, 0
    for i, x in enumerate(audio):
        if x > lo or x < -lo:
            if start is None:
                start = i
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet > 8:           # a sine crosses zero; 1 ms of quiet is a gap
                runs.append((start, i - quiet + 1 - start))
                start, quiet = None, 0
    if start is not None:
        runs.append((start, len(audio) - start))
    return runs


def test_line_timing_matches_dc05():
    rx = Receiver()
    rig = Rig(Line({NUMBER: rx}), numbers=[NUMBER])
    rig.dialer.offer(_ev(1, E.ALARM, E.CID_BURGLARY, zone=4))
    assert rig.settle(60000)
    ms = 1000.0 / RATE
    heard = _runs(rig.emu.heard_audio)          # receiver -> modem: 1400, 2300, kissoff
    sent = _runs(rig.emu.sent_audio)            # modem -> receiver: 16 digits
    assert len(heard) == 3 and len(sent) == 16, (heard, sent)
    (h1, l1), (h2, l2), (k, lk) = heard
    assert 90 <= l1 * ms <= 110 and 90 <= l2 * ms <= 110 and 90 <= (h2 - h1 - l1) * ms <= 110
    first_digit = sent[0][0]
    pre = (first_digit - (h2 + l2)) * ms
    assert C.PRE_DIGITS_MIN_MS <= pre <= C.PRE_DIGITS_MAX_MS, pre
    for i, (start, length) in enumerate(sent):
        # (the amplitude threshold trims up to a sample or so at each edge)
        assert C.DIGIT_MIN_MS - 1 <= length * ms <= C.DIGIT_MAX_MS, (i, length * ms)
        if i:
            gap = (start - sent[i - 1][0] - sent[i - 1][1]) * ms
            assert C.DIGIT_MIN_MS - 1 <= gap <= C.DIGIT_MAX_MS + 1, (i, gap)
    last_digit_end = sent[-1][0] + sent[-1][1]
    assert (k - last_digit_end) * ms <= C.KISSOFF_START_MS and lk * ms >= C.KISSOFF_MIN_MS
    assert [s for s, _t in rig.delivered] == [1]
