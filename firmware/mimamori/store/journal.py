# Append-only journal and outbox on flash.
#
# Every event the core decides is appended here, with its `seq` stamped, BEFORE anything tries to
# send it. The same log is the outbox: an event stays "pending" until the centre's signed ack for
# its seq is recorded. Layout, in one directory (host: a temp dir; board: littlefs):
#
#   <10-digit first seq>.log   segment files, oldest first. A segment is named after the seq the
#                              journal would stamp next when it was opened, so `seq` stays
#                              monotonic across reboots even when every older segment is gone.
#   seq.mark.1, seq.mark.2     the installation's epoch and the seq high-water mark, two
#                              checksummed copies (store/sealed.py).
#   <name>.val.1, .2           small values (e.g. the command counter), two checksummed copies.
#
# Record = header + payload. Header: struct "<HI" = payload length, CRC32 of (length bytes +
# payload) (binascii.crc32). Payload: b"E" + compact JSON of the event, or b"A" + "<I" seq (an
# ack: 5 bytes). A power cut can leave a torn record at the end of the newest segment. On boot the
# scan checks every record; past one that does not check it searches byte by byte for the next
# one that does (salvage: a pending report written after a damaged record is still sent), and a
# segment with bad bytes is rewritten with its good records only (temp file + os.rename), so later
# appends continue on a clean tail. Bad bytes anywhere but the newest segment's tail (a torn
# append is normal after a power cut) are damage: listed in `damage` for the app to report.
#
# `seq` never goes backwards, even when records are lost: the mark holds a seq `hi` that no
# stamped seq exceeds. It is raised in blocks of MARK_BLOCK before the seqs are used (one mark
# write per block, not per event; MARK_AHEAD early, so a flash that turns full still has seqs
# covered). After a reboot the journal continues at hi + 1: a record can be lost (torn, rotten) or
# never written (full flash) after its report went out, so a gap in seq after a reboot is
# possible (at most MARK_BLOCK), a reuse is not. `epoch` (8 hex chars from
# os.urandom) names the installation: a new data directory (a wiped or replaced board) starts a
# new one, and so does a journal whose mark is lost, because then its seqs cannot be proven new;
# the centre keys reports by (site, epoch, seq).
#
# Bounds: `max_bytes` for all segments (soft), `seg_bytes` per segment. When the total passes
# `max_bytes`, the oldest segment goes; the pending events in it are first copied forward into the
# newest segment, so a report not yet acknowledged is never evicted. If the journal cannot keep
# `min_history` events (space short, or pending reports fill it), `trouble` is set.
# A write the flash refuses (full) never raises: the event stays in the outbox in RAM and still
# goes out, `write_failed` and trouble TROUBLE_FULL are set (the app shows and reports them),
# and retry() (called by the app every few seconds meanwhile) puts the mark and the RAM-only
# events on flash once there is room, which clears them. `writes` counts flash writes (appends,
# files replaced, removals): idle = none.
#
# The record format and the boot scan (salvage) live in store/journal_scan.py; the epoch and the
# seq mark's reading in store/seqmark.py.
import os
import json
import struct

from mimamori.store import sealed
from mimamori.store import journal_scan
# REC_EVENT, scan: also reached here by tests and the soak tools
from mimamori.store.journal_scan import (HDR_LEN, REC_EVENT, encode_event, record,  # noqa: F401
                                         scan, _seg_name)
from mimamori.store.seqmark import MARK, MARK_AHEAD, MARK_BLOCK  # noqa: F401

TROUBLE_SHORT = "journal_space_short"   # history below min_history because space ran short
TROUBLE_FULL = "journal_full"           # an append failed: the event lives only in RAM


class Journal:
    def __init__(self, path, max_bytes=262144, seg_bytes=16384, min_history=1000, feed=None):
        self.path = path
        self.max_bytes = max_bytes
        self.seg_bytes = seg_bytes
        self.min_history = min_history
        self.writes = 0          # flash writes since boot
        self.dropped_tail = 0    # bytes of torn tail dropped at boot
        self.damage = []         # what was found damaged at boot (text per finding): the app
                                 # shows and reports it; a torn tail is not damage
        self.trouble = None      # None or TROUBLE_*
        self.write_failed = False   # the last write failed (flash full): cleared by the next
                                    # one that works
        self.fresh = False       # a new installation: the data directory held no journal
        self.epoch = None        # 8 hex chars naming this installation (see the top)
        self.next_seq = 1
        self.boot_seq = 1        # the first seq this boot stamps (the gap ends below it)
        self._hi = 0             # no seq above this has been stamped (persisted in the mark)
        self._mark = sealed.Sealed(self._p(MARK))
        self._segs = []          # [first seq, size in bytes, event count] per segment, oldest first
        self._pending = {}       # seq -> (Event, up): the outbox
        self._order = []         # pending seqs, ascending
        self._where = {}         # pending seq -> first seq (name) of the segment holding its copy
        self._unsaved = []       # pending seqs whose record never reached flash (retry())
        self._fh = None
        self._feed = feed        # the watchdog's feed: a salvage scan of a big journal is slow
        try:
            os.mkdir(path)
        except OSError:
            pass
        self._boot()

    # --- boot -------------------------------------------------------------------------------
    def _p(self, name):
        return self.path + "/" + name

    def _boot(self):
        journal_scan.boot(self)   # the segments, the outbox, the mark (store/journal_scan.py)

    def _rewrite(self, name, data):
        tmp = self._p(name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, self._p(name))
        self.writes += 2

    # --- writing ----------------------------------------------------------------------------
    def _new_segment(self):
        if self._fh:
            self._fh.close()
            self._fh = None
        self._segs.append([self.next_seq, 0, 0])

    def _append(self, payload, is_event):
        seg = self._segs[-1]
        if seg[1] and seg[1] + HDR_LEN + len(payload) > self.seg_bytes:
            self._new_segment()
            seg = self._segs[-1]
        if self._fh is None:
            self._fh = open(self._p(_seg_name(seg[0])), "ab")
        rec = record(payload)
        self._fh.write(rec)
        self._fh.flush()      # littlefs: flush = lfs_file_sync, the record is committed
        self.writes += 1
        seg[1] += len(rec)
        if is_event:
            seg[2] += 1

    def _reserve(self, seq):
        """Raise the persisted high-water mark before `seq` is stamped, MARK_AHEAD early: if
        the flash then refuses the write, the next few seqs are still covered. A mark that
        cannot be written does not stop the report (it goes out from RAM); the write is tried
        again at the next append and by retry()."""
        if seq + MARK_AHEAD > self._hi:
            self._save_mark(seq + MARK_BLOCK - 1)

    def _save_mark(self, hi):
        """Mark = "<epoch> <hi>". On ENOSPC, room is made from acknowledged history first."""
        data = ("%s %d" % (self.epoch, hi)).encode()
        try:
            self._mark.save(data)
            self._hi = hi
        except OSError:
            try:
                self._close()
                self._evict(force=True)
                self._mark.save(data)
                self._hi = hi
            except OSError:
                self._failed()
        self.writes += self._mark.writes
        self._mark.writes = 0

    def _failed(self):
        self._close()
        self.write_failed = True
        self.trouble = TROUBLE_FULL

    def _worked(self):
        if self.write_failed:
            self.write_failed = False
            if self.trouble == TROUBLE_FULL:
                self.trouble = None

    def _write_event(self, seq, payload):
        """Append an event record; on ENOSPC make room from acknowledged history and try once
        more. False when it did not reach flash."""
        try:
            self._append(payload, True)
        except OSError:
            self._close()
            try:
                self._evict(force=True)
                self._append(payload, True)
            except OSError:
                self._failed()
                return False
        self._where[seq] = self._segs[-1][0]
        return True

    def append(self, event, wall, up=0):
        """Stamp `seq` and `wall` on `event` and append it. Returns the seq. The event is in the
        outbox from now on, until ack(seq). Never raises: a report that cannot reach flash is
        still sent from RAM, and the trouble tells the panel and the centre."""
        seq = self.next_seq
        self._reserve(seq)
        event.seq = seq
        event.wall = wall
        self._pending[seq] = (event, up)
        self._order.append(seq)
        self._where[seq] = self._segs[-1][0] if self._segs else 0
        if self._write_event(seq, b"E" + encode_event(event, up)):
            if not self._unsaved and seq <= self._hi:
                self._worked()
        else:
            self._unsaved.append(seq)
        self.next_seq = seq + 1
        try:
            self._evict(force=False)
        except OSError:
            self._failed()
        return seq

    def ack(self, seq):
        """Record the centre's ack of `seq`. Returns True if it was pending (a duplicate ack
        writes nothing). An ack that cannot be written only means a resend after a reboot
        (the centre acks the duplicate again)."""
        if seq not in self._pending:
            return False
        del self._pending[seq]
        del self._where[seq]
        self._order.remove(seq)
        if seq in self._unsaved:
            self._unsaved.remove(seq)
            return True           # never reached flash: nothing to mark acknowledged there
        try:
            self._append(b"A" + struct.pack("<I", seq), False)
        except OSError:
            self._failed()
        return True

    def retry(self):
        """While writes fail (flash full): try again to put the mark and the pending events that
        live only in RAM on flash. The app calls it every few seconds; it writes nothing
        otherwise. Clears the trouble when everything is on flash."""
        if not self.write_failed:
            return
        self._close()
        self._reserve(self.next_seq)
        if self.next_seq - 1 > self._hi:
            return
        while self._unsaved:
            seq = self._unsaved[0]
            ev, up = self._pending[seq]
            if not self._write_event(seq, b"E" + encode_event(ev, up)):
                return
            self._unsaved.pop(0)
        self._worked()

    def _close(self):
        if self._fh:
            try:
                self._fh.close()
            except OSError:
                pass
            self._fh = None

    def total_bytes(self):
        t = 0
        for s in self._segs:
            t += s[1]
        return t

    def history_count(self):
        n = 0
        for s in self._segs:
            n += s[2]
        return n

    def _free_ok(self):
        # When the filesystem can tell, keep two segments' worth of space free.
        try:
            st = os.statvfs(self.path)
        except (OSError, AttributeError):
            return True
        return st[0] * st[4] >= 2 * self.seg_bytes

    def _evict(self, force):
        evicted = False
        while len(self._segs) > 1 and (force or self.total_bytes() > self.max_bytes
                                        or not self._free_ok()):
            first = self._segs[0][0]
            carry = [s for s in self._order if self._where.get(s) == first]
            if carry and not force and 2 * len(self._order) * self.total_bytes() > (
                    self.max_bytes * self.history_count()):
                break   # pending reports fill half the journal: keep them, raise the trouble
            # The few pending events in the oldest segment are copied forward (same seq) first.
            for s in carry:
                ev, up = self._pending[s]
                self._append(b"E" + encode_event(ev, up), True)
                self._where[s] = self._segs[-1][0]
            os.remove(self._p(_seg_name(first)))
            self.writes += 1
            self._segs.pop(0)
            force = False
            evicted = True
        over = self.total_bytes() > self.max_bytes or not self._free_ok()
        if over or (evicted and self.history_count() < self.min_history):
            self.trouble = TROUBLE_SHORT
        elif self.trouble == TROUBLE_SHORT and self.history_count() >= self.min_history:
            self.trouble = None

    # --- reading ----------------------------------------------------------------------------
    def base(self, seq):
        """The frame's `base` for pending `seq`: the oldest pending seq such that every seq from
        it up to `seq` was stamped. Seqs stamped since this boot follow the gap the boot left
        above the mark, so they do not name an older report as their base (the centre would
        wait for the seqs of the gap, which never come)."""
        b = self._order[0] if self._order else seq
        if seq >= self.boot_seq and b < self.boot_seq:
            return self.boot_seq
        return b

    def outbox(self):
        """Pending seqs, ascending (the list itself: do not modify)."""
        return self._order

    def get(self, seq):
        """(Event, up) of a pending seq, or None."""
        return self._pending.get(seq)

    def pending_count(self):
        return len(self._order)

    def history(self):
        """Every journalled event still on flash, oldest first, with its ack state: yields
        (Event, up, acked). Reads the segments (store/journal_scan.py): for the panel log, tests."""
        return journal_scan.history(self)

    def close(self):
        self._close()

    # --- small persistent values: two checksummed copies (store/sealed.py) ----------------------
    def save_value(self, name, value):
        """Persist a small JSON value. Returns False (and raises the write trouble) when the
        flash refused; never raises."""
        v = sealed.Sealed(self._p(name + ".val"))
        v.load()                 # the generation to continue from, and the old file to remove
        try:
            v.save(json.dumps(value).encode())
            ok = True
        except OSError:
            self._failed()
            ok = False
        self.writes += v.writes
        if ok and not self._unsaved and self.next_seq - 1 <= self._hi:
            self._worked()
        return ok

    def load_value(self, name, default=None):
        """The value saved last, from whichever copy checks (the plain <name>.val of the previous
        version too). `default` only when nothing was saved or no copy checks; the latter is
        added to `damage`."""
        v = sealed.Sealed(self._p(name + ".val"))
        payload = v.load()
        self.damage.extend(v.problems)
        if payload is None:
            return default
        try:
            return json.loads(payload.decode())
        except (UnicodeError, ValueError):
            self.damage.append("%s.val: not JSON" % name)
            return default
