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
import os
import json
import struct
from binascii import crc32, hexlify

from mimamori.core.events import Event
from mimamori.store import sealed

HDR = "<HI"
HDR_LEN = 6
REC_EVENT = 0x45   # b"E"
REC_ACK = 0x41     # b"A"
MAX_PAYLOAD = 2048  # a record longer than this is corruption, not an event

TROUBLE_SHORT = "journal_space_short"   # history below min_history because space ran short
TROUBLE_FULL = "journal_full"           # an append failed: the event lives only in RAM

MARK = "seq.mark"
MARK_BLOCK = 64     # seqs reserved per mark write (2 file writes per 48 events or so), and at
                    # most this gap in seq after a reboot
MARK_AHEAD = 16     # the mark is raised this many seqs before it runs out


def new_epoch():
    """8 lowercase hex chars, random: the hardware RNG on a board (os.urandom), else the random
    module, else the clock (a new installation only needs to differ from the last one)."""
    try:
        return hexlify(os.urandom(4)).decode()
    except (AttributeError, OSError, NotImplementedError):
        pass
    try:
        import random
        return "%08x" % random.getrandbits(32)
    except (ImportError, AttributeError, ValueError):
        from mimamori.compat import ticks_ms
        return "%08x" % ((ticks_ms() * 2654435761) & 0xFFFFFFFF)


def _is_epoch(s):
    if len(s) != 8:
        return False
    for c in s:
        if c not in "0123456789abcdef":
            return False
    return True


def _seg_name(first):
    return "%010d.log" % first


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def encode_event(ev, up):
    d = {"s": ev.seq, "w": ev.wall, "t": ev.ticks, "k": ev.kind, "c": ev.cid, "q": ev.qualifier,
         "z": ev.zone, "u": ev.user, "n": ev.zone_name, "m": ev.mode, "p": up}
    return json.dumps(d).encode()


def decode_event(b):
    d = json.loads(b)
    ev = Event(d["t"], d["k"], d["c"], d["q"], d["z"], d["u"], d["n"], d["m"])
    ev.seq = d["s"]
    ev.wall = d["w"]
    return ev, d.get("p", 0)


def record(payload):
    """Header + payload bytes for one record."""
    n = struct.pack("<H", len(payload))
    return struct.pack(HDR, len(payload), crc32(payload, crc32(n)) & 0xFFFFFFFF) + payload


def _record_at(data, pos, end):
    """Length of the payload of a record that checks at `pos`, else 0. The cheap tests (length,
    record type, JSON object) come first: the salvage search calls this at every byte."""
    if end - pos < HDR_LEN + 5:
        return 0
    ln, crc = struct.unpack_from(HDR, data, pos)
    if ln < 5 or ln > MAX_PAYLOAD or pos + HDR_LEN + ln > end:
        return 0
    kind = data[pos + HDR_LEN]
    if kind == REC_ACK:
        if ln != 5:
            return 0
    elif kind != REC_EVENT or data[pos + HDR_LEN + 1] != 0x7B:   # b"E{"
        return 0
    if crc32(data[pos + HDR_LEN:pos + HDR_LEN + ln], crc32(data[pos:pos + 2])) & 0xFFFFFFFF != crc:
        return 0
    return ln


def scan(data):
    """Walk the records in `data` (bytes of one segment). Returns (records, end, skipped):
    records, the payloads of every record that checks, in order; end, where the last of them
    ends (bytes after it: a torn append, or damage); skipped, bad bytes before `end` (damage
    in the middle: the search went past them to the next record that checks)."""
    recs = []
    pos = 0
    good = 0
    skipped = 0
    end = len(data)
    while end - pos >= HDR_LEN:
        ln = _record_at(data, pos, end)
        if not ln:
            pos += 1
            continue
        if pos > good:
            skipped += pos - good
        recs.append(data[pos + HDR_LEN:pos + HDR_LEN + ln])
        pos += HDR_LEN + ln
        good = pos
    return recs, good, skipped


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
        names = []
        for name in os.listdir(self.path):
            if name.endswith(".tmp"):
                try:
                    os.remove(self._p(name))   # a rename that never happened: the old file is intact
                    self.writes += 1
                except OSError:
                    pass
            elif name.endswith(".log") and len(name) == 14 and name[:10].isdigit():
                names.append(name)
        names.sort()
        acked = set()
        events = {}
        top = 0
        last = len(names) - 1
        for i, name in enumerate(names):
            if self._feed:
                self._feed()
            first = int(name[:10])
            if first - 1 > top:
                top = first - 1
            try:
                with open(self._p(name), "rb") as f:
                    data = f.read()
            except (OSError, MemoryError):
                self.damage.append("%s: unreadable" % name)
                data = b""
            recs, good, skipped = scan(data)
            tail = len(data) - good
            if skipped or (tail and i != last):
                self.damage.append("%s: %d bad bytes skipped" % (name, skipped + tail))
            count = 0
            size = 0
            for r in recs:
                size += HDR_LEN + len(r)
                if r[0] == REC_EVENT:
                    try:
                        ev, up = decode_event(r[1:])
                    except (KeyError, ValueError, TypeError, IndexError):
                        self.damage.append("%s: an event that checks but does not decode" % name)
                        continue
                    events[ev.seq] = (ev, up)
                    self._where[ev.seq] = first
                    count += 1
                    if ev.seq > top:
                        top = ev.seq
                elif r[0] == REC_ACK:
                    a = struct.unpack_from("<I", r, 1)[0]
                    acked.add(a)
                    if a > top:
                        top = a
            if skipped or tail:
                # Keep only the records that check, so appends continue on a clean tail and the
                # damage is not found again at every boot.
                self.dropped_tail += skipped + tail
                try:
                    self._rewrite(name, b"".join(record(r) for r in recs))
                except OSError:
                    size = len(data)     # flash full: appends go after the bad bytes; the
                                         # next boot's scan skips them again
            self._segs.append([first, size, count])
        self._load_mark(top, int(names[-1][:10]) if names else 0)
        for seq in sorted(events):
            if seq not in acked:
                self._pending[seq] = events[seq]
                self._order.append(seq)
            else:
                del self._where[seq]
        if not self._segs:
            self._new_segment()

    def _load_mark(self, top, newest):
        """Epoch and next_seq from the mark and the records found. Writes nothing: the mark is
        written by the first append (an idle controller writes nothing).

        The boot continues above the mark, not after the newest record: a record may be lost
        (torn, rotten, a segment gone) or may never have reached a full flash, and its report
        may have gone out from RAM all the same. A gap in seq after a reboot (at most
        MARK_BLOCK), never a reuse."""
        m = self._mark
        payload = m.load()
        mark = None
        if payload is not None:
            try:
                ep, hi = payload.decode().split(" ")
                if _is_epoch(ep) and hi.isdigit():
                    mark = (ep, int(hi))
            except (UnicodeError, ValueError):
                pass
            if mark is None:
                m.problems.append("%s: not a mark" % MARK)
        self.damage.extend(m.problems)
        if mark is not None:
            self.epoch, hi = mark
            self._hi = hi if hi > top else top
            self.next_seq = self.boot_seq = self._hi + 1
            return
        self.epoch = new_epoch()
        self.next_seq = self.boot_seq = top + 1
        if not newest and m.status == sealed.NONE:
            self.fresh = True          # nothing here before: a new installation
        elif m.status != sealed.NONE or payload is not None:
            self.damage.append("%s: lost, new epoch %s" % (MARK, self.epoch))
        # else: a journal from the version before the mark: a new epoch, seq continues

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
        """Every journalled event still on flash, oldest first, with its ack state:
        yields (Event, up, acked). Reads the segments: for the panel log and tests."""
        for seg in self._segs:
            name = self._p(_seg_name(seg[0]))
            if not _exists(name):
                continue
            with open(name, "rb") as f:
                recs = scan(f.read())[0]
            for r in recs:
                if r[0] == REC_EVENT:
                    try:
                        ev, up = decode_event(r[1:])
                    except (KeyError, ValueError, TypeError, IndexError):
                        continue
                    yield ev, up, ev.seq not in self._pending

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
