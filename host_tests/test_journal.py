# The journal/outbox: what a power cut at any instant leaves behind is recovered on the next boot,
# seq stays monotonic, pending reports are never evicted, and an idle controller writes nothing.
# Runs on CPython and on the real MicroPython interpreter (in-memory filesystem there).
import os

from mimamori.core import events as E
from mimamori.store import journal as J

RUNS_ON_MICROPYTHON = True

_n = [0]


def _tmpdir():
    try:
        import tempfile
        return tempfile.mkdtemp()
    except ImportError:
        _n[0] += 1
        d = "/jt%d" % _n[0]
        os.mkdir(d)
        return d


def _alarm(i, name="台所"):
    return E.Event(1000 + i, E.ALARM, E.CID_SMOKE, E.Q_NEW, zone=3, user=0, zone_name=name,
                   mode="away")


def _segs(d):
    return sorted(n for n in os.listdir(d) if n.endswith(".log"))


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def test_append_stamps_seq_and_survives_reboot():
    d = _tmpdir()
    j = J.Journal(d)
    for i in range(5):
        ev = _alarm(i)
        assert j.append(ev, "2026-11-22T12:00:0%d+09:00" % i, up=60 + i) == i + 1
        assert ev.seq == i + 1 and ev.wall.endswith("+09:00")
    assert j.ack(2) and j.ack(4)
    j.close()
    j2 = J.Journal(d)
    assert j2.outbox() == [1, 3, 5]
    ev, up = j2.get(3)
    assert (ev.kind, ev.cid, ev.zone, ev.zone_name, ev.mode, up) == (E.ALARM, 111, 3, "台所", "away", 62)
    assert ev.label == "火災(煙)" and ev.wall == "2026-11-22T12:00:02+09:00"
    seq = j2.append(_alarm(9), "w")
    assert 6 <= seq <= 5 + J.MARK_BLOCK            # never reused; a gap is allowed after a reboot
    assert [e.seq for e, _, _ in j2.history()] == [1, 2, 3, 4, 5, seq]
    assert [a for _, _, a in j2.history()] == [False, True, False, True, False, False]


def test_torn_tail_at_every_byte_offset():
    d = _tmpdir()
    j = J.Journal(d)
    for i in range(3):
        j.append(_alarm(i), "w%d" % i)
    j.ack(1)
    j.close()
    seg = d + "/" + _segs(d)[0]
    full = _read(seg)
    before = len(full)
    # Two more records: an event then an ack; the power is cut somewhere inside them.
    j = J.Journal(d)
    s4 = j.append(_alarm(3, "玄関"), "w3")
    j.ack(2)
    j.close()
    grown = _read(seg)
    recs, good = J.scan(grown)[0], J.scan(grown)[1]
    assert good == len(grown) and len(recs) == 6
    ev_end = before + 6 + len(recs[4])
    for cut in range(before, len(grown) + 1):
        _write(seg, grown[:cut])
        j = J.Journal(d)
        if cut < ev_end:
            assert j.outbox() == [2, 3], cut
        elif cut < len(grown):
            assert j.outbox() == [2, 3, s4], cut
        else:
            assert j.outbox() == [3, s4]
        # s4 was stamped: never stamped again, even when its record is torn (a torn record and
        # a rotten one look the same: its report may have gone out already)
        assert j.next_seq > s4, (cut, j.next_seq)
        # the tail was dropped, so the next append lands on a clean log
        seq = j.append(_alarm(7), "w")
        j.close()
        j = J.Journal(d)
        assert seq in j.outbox() and j.dropped_tail == 0 and getattr(j, "damage", []) == [], cut
        assert J.scan(_read(seg))[1] == len(_read(seg))
        j.close()
    # garbage after the good records (a half-written header that never got its CRC)
    _write(seg, full + b"\x40\x00\xde\xad")
    j = J.Journal(d)
    assert j.outbox() == [2, 3] and j.dropped_tail == 4


def test_crc_catches_a_flipped_byte():
    d = _tmpdir()
    j = J.Journal(d)
    j.append(_alarm(0), "w")
    j.append(_alarm(1), "w")
    j.close()
    seg = d + "/" + _segs(d)[0]
    data = bytearray(_read(seg))
    data[-3] ^= 0x01
    _write(seg, bytes(data))
    j = J.Journal(d)
    assert j.outbox() == [1] and j.next_seq > 2     # the rotten report's seq is never reused


def _journal_files(d):
    return sorted(n for n in os.listdir(d) if not n.endswith(".tmp"))


def test_one_flipped_byte_anywhere_never_reuses_a_seq_nor_loses_a_later_report():
    # Six reports, 2 and 5 acknowledged; then one bit of one byte of one file goes bad. Wherever
    # it lands: the next seq is above every seq stamped (the centre would take a reused seq for
    # a duplicate and swallow the new report), the epoch stays, and every pending report except
    # the one whose own record rotted is still in the outbox (no report is lost behind it).
    d = _tmpdir()
    j = J.Journal(d)
    for i in range(6):
        j.append(_alarm(i), "w")
    j.ack(2)
    j.ack(5)
    epoch = getattr(j, "epoch", None)
    j.close()
    files = {}
    for n in _journal_files(d):
        files[n] = _read(d + "/" + n)
    checked = 0
    for name in files:
        orig = files[name]
        for off in range(len(orig)):
            bad = bytearray(orig)
            bad[off] ^= 0x10
            _write(d + "/" + name, bytes(bad))
            j = J.Journal(d)
            assert j.next_seq > 6, (name, off, j.next_seq)
            lost = set([1, 3, 4, 6]) - set(j.outbox())
            assert len(lost) <= 1, (name, off, j.outbox())
            assert set(j.outbox()) <= set([1, 2, 3, 4, 5, 6]), (name, off, j.outbox())
            if name.startswith("seq.mark"):
                assert getattr(j, "epoch", None) == epoch and not lost, (name, off)
            assert j.append(_alarm(9), "w") > 6
            j.close()
            for n in _journal_files(d):         # back to the undamaged journal
                if n in files:
                    _write(d + "/" + n, files[n])
                else:
                    os.remove(d + "/" + n)
            checked += 1
    assert checked > 300


def test_a_damaged_record_in_the_middle_is_skipped_and_reported():
    d = _tmpdir()
    j = J.Journal(d)
    for i in range(4):
        j.append(_alarm(i), "w")
    j.close()
    seg = d + "/" + _segs(d)[0]
    data = bytearray(_read(seg))
    recs = J.scan(bytes(data))[0]
    second = 6 + len(recs[0]) + 10          # a byte inside the second record
    data[second] ^= 0xFF
    _write(seg, bytes(data))
    j = J.Journal(d)
    assert j.outbox() == [1, 3, 4]           # the pending reports after it are still sent
    assert j.next_seq > 4 and j.damage and "bad bytes" in j.damage[0]
    j.close()
    j = J.Journal(d)                         # rewritten with its good records: found once
    assert j.outbox() == [1, 3, 4] and j.damage == []


def test_a_new_installation_starts_a_new_epoch_and_keeps_it():
    d = _tmpdir()
    j = J.Journal(d)
    assert j.fresh and len(j.epoch) == 8 and int(j.epoch, 16) >= 0
    assert j.epoch == j.epoch.lower()
    j.append(_alarm(0), "w")
    epoch = j.epoch
    j.close()
    j = J.Journal(d)
    assert j.epoch == epoch and not j.fresh and j.damage == []
    j.close()
    e = J.Journal(_tmpdir())                 # a wiped or replaced board: another epoch
    assert e.fresh and e.epoch != epoch and e.next_seq == 1
    # both copies of the mark lost: the seqs cannot be proven new, so a new epoch
    for n in os.listdir(d):
        if n.startswith("seq.mark"):
            _write(d + "/" + n, b"\x00" * 20)
    j = J.Journal(d)
    assert j.epoch != epoch and not j.fresh and j.damage and j.next_seq == 2


def test_a_wiped_journal_directory_keeps_the_mark_of_the_seqs_used():
    # Every segment gone (the mark survives): seq continues above what was ever stamped.
    d = _tmpdir()
    j = J.Journal(d)
    for i in range(10):
        j.ack(j.append(_alarm(i), "w"))
    j.close()
    for n in _segs(d):
        os.remove(d + "/" + n)
    j = J.Journal(d)
    assert j.append(_alarm(11), "w") > 10


def test_leftover_temp_file_is_ignored():
    d = _tmpdir()
    j = J.Journal(d)
    j.save_value("cmd_ctr", 41)
    j.save_value("cmd_ctr", 42)
    j.close()
    _write(d + "/cmd_ctr.val.tmp", b"4")   # power cut before the rename
    j = J.Journal(d)
    assert j.load_value("cmd_ctr") == 42
    assert "cmd_ctr.val.tmp" not in os.listdir(d)
    assert j.load_value("missing", 7) == 7


def test_a_saved_value_survives_one_torn_or_rotten_file():
    # The command counter: if one file holding it rots or is torn, the value must not fall back
    # to its default (a captured command could be replayed).
    d = _tmpdir()
    j = J.Journal(d)
    j.save_value("cmd_ctr", 41)
    j.save_value("cmd_ctr", 1234567)
    j.close()
    names = [n for n in os.listdir(d) if n.startswith("cmd_ctr")]
    assert names
    for name in names:
        orig = _read(d + "/" + name)
        for off in range(len(orig)):
            bad = bytearray(orig)
            bad[off] ^= 0x04
            _write(d + "/" + name, bytes(bad))
            assert J.Journal(d).load_value("cmd_ctr", 0) == 1234567, (name, off)
        for cut in range(len(orig)):
            _write(d + "/" + name, orig[:cut])
            assert J.Journal(d).load_value("cmd_ctr", 0) == 1234567, (name, cut)
        _write(d + "/" + name, orig)
    os.remove(d + "/" + names[0])
    j = J.Journal(d)
    assert j.load_value("cmd_ctr", 0) == 1234567
    j.save_value("cmd_ctr", 1234568)         # a save repairs the missing copy
    assert J.Journal(d).load_value("cmd_ctr", 0) == 1234568


def test_a_value_of_the_previous_version_is_kept():
    d = _tmpdir()
    J.Journal(d).close()
    _write(d + "/cmd_ctr.val", b"977")       # the plain file the version before wrote
    j = J.Journal(d)
    assert j.load_value("cmd_ctr", 0) == 977
    j.save_value("cmd_ctr", 978)
    assert "cmd_ctr.val" not in os.listdir(d)
    assert J.Journal(d).load_value("cmd_ctr", 0) == 978


def test_idle_controller_writes_nothing():
    d = _tmpdir()
    j = J.Journal(d)
    j.append(_alarm(0), "w")
    j.ack(1)
    j.close()
    j = J.Journal(d)
    assert j.writes == 0
    for _ in range(100):
        j.outbox()
        j.pending_count()
        assert not j.ack(1)        # a duplicate ack writes nothing
    assert j.writes == 0
    seq = j.append(_alarm(1), "w")   # the first after a boot also raises the seq mark (2 copies)
    assert j.writes == 1 + 2
    j.ack(seq)
    assert j.writes == 4
    j.ack(j.append(_alarm(2), "w"))
    assert j.writes == 6


def test_seq_monotonic_when_old_segments_are_gone():
    d = _tmpdir()
    j = J.Journal(d, max_bytes=3000, seg_bytes=1000, min_history=1)
    for i in range(60):
        j.append(_alarm(i), "w")
        j.ack(i + 1)
    j.close()
    names = _segs(d)
    assert len(names) <= 4
    for n in names[:-1]:
        os.remove(d + "/" + n)
    _write(d + "/" + names[-1], b"")   # and the newest is empty
    j = J.Journal(d, max_bytes=3000, seg_bytes=1000, min_history=1)
    assert j.append(_alarm(99), "w") > 60


def test_bounded_history_keeps_pending_and_raises_trouble():
    d = _tmpdir()
    j = J.Journal(d, max_bytes=8000, seg_bytes=1000, min_history=20)
    keep = []
    for i in range(400):
        seq = j.append(_alarm(i), "w")
        if i % 50 == 7:
            keep.append(seq)          # never acknowledged
        else:
            j.ack(seq)
    total = 0
    for n in _segs(d):
        total += len(_read(d + "/" + n))
    assert total <= 8000 + 1000
    assert j.outbox() == keep
    assert j.trouble is None
    j.close()
    j = J.Journal(d, max_bytes=8000, seg_bytes=1000, min_history=20)
    assert j.outbox() == keep and j.next_seq > 400
    # now the centre stops acknowledging: the journal grows past its budget, keeps every report
    for i in range(100):
        j.append(_alarm(i), "w")
    assert j.pending_count() == len(keep) + 100
    assert j.trouble == J.TROUBLE_SHORT
    j.close()
    j = J.Journal(d, max_bytes=8000, seg_bytes=1000, min_history=20)
    assert j.pending_count() == len(keep) + 100
    for s in list(j.outbox()):
        j.ack(s)
    for i in range(60):
        j.ack(j.append(_alarm(i), "w"))
    assert j.trouble is None and j.pending_count() == 0


def test_thousand_events_of_history_with_defaults():
    d = _tmpdir()
    j = J.Journal(d)
    for i in range(1100):
        j.ack(j.append(_alarm(i, "リビングの掃き出し窓"), "2026-11-22T12:00:00+09:00", up=i))
    n = 0
    for _ in j.history():
        n += 1
    assert n >= 1000
    assert j.trouble is None
    assert 2200 <= j.writes <= 2300   # one per append and ack, plus segment removals


class _DownLink:
    """A link whose broker is away: what delivery sees during an outage."""
    connected = False

    def topic(self, name):
        return b"mimamori/v1/site-001/" + name.encode()

    def poll(self, now):
        pass

    def publish(self, *a):
        return False


def _heap_lock():
    try:
        import micropython
        micropython.heap_lock()
        return micropython
    except (ImportError, AttributeError):
        return None


def test_delivery_steady_state_allocates_nothing():
    # Delivery lives in comms/, but its steady state is the journal's outbox: idle (nothing
    # pending) and waiting out an outage (reports pending, link down). On MicroPython the heap
    # is locked, so any allocation raises MemoryError.
    from mimamori.comms import delivery as DL
    from mimamori.comms.delivery import Delivery
    from mimamori.proto import frame as F
    saved = (DL.ticks_diff, DL.ticks_add)
    try:
        # On the board ticks_diff is C. The test harness's hostclock.ticks_diff is Python, and on a
        # 32-bit port its 2**30 period is a big int: a negative difference allocates. So the
        # heap-locked check runs delivery on the interpreter's own ticks functions.
        import utime
        DL.ticks_diff, DL.ticks_add = utime.ticks_diff, utime.ticks_add
    except ImportError:
        pass
    try:
        _steady_state(Delivery, F)
    finally:
        DL.ticks_diff, DL.ticks_add = saved


def _steady_state(Delivery, F):
    j = J.Journal(_tmpdir())
    handed = []
    d = Delivery(j, _DownLink(), F.site_key("00" * 32), "site-001", handoff=handed.append,
                 ack_deadline_s=20)
    t = 1000
    d.poll(t)
    d.poll(t + 1)
    mp = _heap_lock()
    try:
        n = 0
        while n < 200:        # no range(): its iterator would be an allocation
            n += 1
            t += 10
            d.poll(t)
    finally:
        if mp:
            mp.heap_unlock()
    j.append(_alarm(0), "w")
    j.append(_alarm(1), "w")
    d.poll(t)
    d.poll(t + 300)       # first sweep records when each was first seen
    d.poll(t + 301)
    t += 301
    w = j.writes
    mp = _heap_lock()
    try:
        n = 0
        while n < 200:
            n += 1
            t += 10       # 2 s of polling, below the 20 s deadline
            d.poll(t)
    finally:
        if mp:
            mp.heap_unlock()
    assert handed == [] and j.writes == w
    d.poll(t + 20000)
    assert [e.seq for e in handed] == [1, 2]


def test_a_full_flash_never_crashes_append_and_the_report_still_goes_out():
    # ENOSPC on every write: the event stays in the outbox (RAM) and the trouble is raised.
    j = J.Journal(_tmpdir(), seg_bytes=600)
    for i in range(8):
        j.append(E.Event(0, E.OPENING, E.CID_OPEN_CLOSE), "2026-01-01T00:00:00+09:00")
    real = j._append

    def full(payload, is_event):
        raise OSError(28)   # ENOSPC (MicroPython's errno module has no ENOSPC name)
    j._append = full
    fire = E.Event(0, E.ALARM, E.CID_SMOKE, E.Q_NEW, 8, 0, "寝室 煙感知器")
    seq = j.append(fire, "2026-01-01T00:00:01+09:00")
    assert j.trouble == "journal_full"
    assert j.get(seq)[0] is fire and seq in j.outbox()
    j._append = real


def test_a_full_flash_keeps_reports_in_ram_and_puts_them_on_flash_when_space_returns():
    from fullflash import FullFlash
    from mimamori.store import sealed
    d = _tmpdir()
    j = J.Journal(d, seg_bytes=600)
    j.ack(j.append(_alarm(0), "w"))
    j.close()                                # (its open segment file would bypass the quota)
    flash = FullFlash(0).install(J, sealed)
    try:
        fire = E.Event(0, E.ALARM, E.CID_SMOKE, E.Q_NEW, 7, 0, "寝室 煙感知器")
        seqs = [j.append(fire, "w")] + [j.append(_alarm(i), "w") for i in range(70)]
        assert j.trouble == J.TROUBLE_FULL and j.write_failed
        assert j.outbox() == seqs and j.get(seqs[0])[0] is fire     # still sent from RAM
        j.retry()                            # still full: nothing changes, nothing raises
        assert j.write_failed and j.outbox() == seqs
        j.ack(seqs[1])                       # acknowledged while only in RAM
        flash.free = 10 ** 6                 # space again
        j.retry()
        assert not j.write_failed and j.trouble is None
    finally:
        flash.remove()
    j.close()
    j = J.Journal(d, seg_bytes=600)          # a power cut now loses nothing
    assert j.outbox() == [seqs[0]] + seqs[2:]
    assert j.next_seq > seqs[-1]


def test_reports_stamped_while_the_flash_was_full_then_a_power_cut_never_reuse_a_seq():
    # The reports went out from RAM but never reached flash; then the power went. Their seqs
    # must not be stamped again on new reports (the centre would take those for duplicates).
    from fullflash import FullFlash
    from mimamori.store import sealed
    d = _tmpdir()
    j = J.Journal(d)
    for i in range(J.MARK_BLOCK - J.MARK_AHEAD - 1):
        j.ack(j.append(_alarm(i), "w"))
    j.close()
    flash = FullFlash(0).install(J, sealed)
    try:
        sent = [j.append(_alarm(i), "w") for i in range(J.MARK_AHEAD)]
        assert j.write_failed and j.outbox() == sent
    finally:
        flash.remove()                       # the power cut: RAM is gone
    j = J.Journal(d)
    assert j.outbox() == [] and j.next_seq > max(sent)


def test_reports_after_a_reboot_do_not_make_the_centre_wait_for_the_gap():
    # A frame's `base` tells the centre which earlier seqs to wait for before showing it. The seqs
    # of a reboot's gap never come, so a report stamped after the reboot names the first seq of
    # this boot, not an older pending report.
    d = _tmpdir()
    j = J.Journal(d)
    old = [j.append(_alarm(i), "w") for i in range(3)]
    j.ack(old[0])
    j.close()
    j = J.Journal(d)
    new = [j.append(_alarm(i), "w") for i in range(2)]
    assert new[0] > old[-1] + 1                 # the gap (the boot continues above the mark)
    assert j.base(old[1]) == old[1] and j.base(old[2]) == old[1]
    assert j.base(new[0]) == new[0] and j.base(new[1]) == new[0]
    j.ack(old[1])
    j.ack(old[2])
    assert j.base(new[1]) == new[0]
    j.ack(new[0])
    assert j.base(new[1]) == new[1]
