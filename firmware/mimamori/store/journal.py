# Append-only journal and outbox on flash.
#
# Every event the core decides is appended here, with its `seq` stamped, BEFORE anything tries to
# send it. The same log is the outbox: an event stays "pending" until the centre's signed ack for
# its seq is recorded. Layout, in one directory (host: a temp dir; board: littlefs):
#
#   <10-digit first seq>.log   segment files, oldest first. A segment is named after the seq the
#                              journal would stamp next when it was opened, so `seq` stays
#                              monotonic across reboots even when every older segment is gone.
#   <name>.val                 small values (e.g. the command counter), written temp + rename.
#
# Record = header + payload. Header: struct "<HI" = payload length, CRC32 of (length bytes +
# payload) (binascii.crc32). Payload: b"E" + compact JSON of the event, or b"A" + "<I" seq (an
# ack: 5 bytes). A power cut can leave a torn record at the end of the newest segment: on boot
# the scan stops at the first record whose length or CRC does not check, and the good prefix is
# rewritten (temp file + os.rename) so later appends continue on a clean tail. Only os and open.
#
# Bounds: `max_bytes` for all segments (soft), `seg_bytes` per segment. When the total passes
# `max_bytes`, the oldest segment goes; the pending events in it are first copied forward into the
# newest segment, so a report not yet acknowledged is never evicted. If the journal cannot keep
# `min_history` events (space short, or pending reports fill it), `trouble` is set; the app shows
# it and reports it. `writes` counts flash writes (appends, renames, removals): idle = none.
import os
import json
import struct
from binascii import crc32

from mimamori.core.events import Event

HDR = "<HI"
HDR_LEN = 6
REC_EVENT = 0x45   # b"E"
REC_ACK = 0x41     # b"A"
MAX_PAYLOAD = 2048  # a record longer than this is corruption, not an event

TROUBLE_SHORT = "journal_space_short"   # history below min_history because space ran short
TROUBLE_FULL = "journal_full"           # an append failed: the event lives only in RAM


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


def scan(data):
    """Walk the records in `data` (bytes of one segment). Returns (records, good_len) where
    records is a list of payloads and good_len the length of the valid prefix."""
    recs = []
    pos = 0
    end = len(data)
    while end - pos >= HDR_LEN:
        ln, crc = struct.unpack_from(HDR, data, pos)
        if ln == 0 or ln > MAX_PAYLOAD or pos + HDR_LEN + ln > end:
            break
        payload = data[pos + HDR_LEN:pos + HDR_LEN + ln]
        if crc32(payload, crc32(data[pos:pos + 2])) & 0xFFFFFFFF != crc:
            break
        recs.append(payload)
        pos += HDR_LEN + ln
    return recs, pos


class Journal:
    def __init__(self, path, max_bytes=262144, seg_bytes=16384, min_history=1000):
        self.path = path
        self.max_bytes = max_bytes
        self.seg_bytes = seg_bytes
        self.min_history = min_history
        self.writes = 0          # flash writes since boot
        self.dropped_tail = 0    # bytes of torn tail dropped at boot
        self.trouble = None      # None or TROUBLE_*
        self.next_seq = 1
        self._segs = []          # [first seq, size in bytes, event count] per segment, oldest first
        self._pending = {}       # seq -> (Event, up): the outbox
        self._order = []         # pending seqs, ascending
        self._where = {}         # pending seq -> first seq (name) of the segment holding its copy
        self._fh = None
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
                os.remove(self._p(name))       # a rename that never happened: the old file is intact
                self.writes += 1
            elif name.endswith(".log") and len(name) == 14 and name[:10].isdigit():
                names.append(name)
        names.sort()
        acked = set()
        events = {}
        top = 0
        for i, name in enumerate(names):
            first = int(name[:10])
            if first - 1 > top:
                top = first - 1
            with open(self._p(name), "rb") as f:
                data = f.read()
            recs, good = scan(data)
            if good < len(data):
                # Torn tail (power cut mid-append), or corruption: keep the good prefix only.
                self.dropped_tail += len(data) - good
                self._rewrite(name, data[:good])
            count = 0
            for r in recs:
                if r[0] == REC_EVENT:
                    ev, up = decode_event(r[1:])
                    events[ev.seq] = (ev, up)
                    self._where[ev.seq] = first
                    count += 1
                    if ev.seq > top:
                        top = ev.seq
                elif r[0] == REC_ACK and len(r) == 5:
                    acked.add(struct.unpack_from("<I", r, 1)[0])
            self._segs.append([first, good, count])
        self.next_seq = top + 1
        for seq in sorted(events):
            if seq not in acked:
                self._pending[seq] = events[seq]
                self._order.append(seq)
            else:
                del self._where[seq]
        if not self._segs:
            self._new_segment()

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

    def append(self, event, wall, up=0):
        """Stamp `seq` and `wall` on `event` and append it. Returns the seq. The event is in the
        outbox from now on, until ack(seq)."""
        seq = self.next_seq
        event.seq = seq
        event.wall = wall
        payload = b"E" + encode_event(event, up)
        self._pending[seq] = (event, up)
        self._order.append(seq)
        # Never raises: a report that cannot reach flash is still sent from RAM, and the
        # trouble tells the panel and the centre.
        try:
            self._append(payload, True)
        except OSError:
            # Out of space: make room from acknowledged history and try once more.
            self._close()
            try:
                self._evict(force=True)
                self._append(payload, True)
            except OSError:
                self._close()
                self.trouble = TROUBLE_FULL   # still sent from RAM while the power stays on
        self._where[seq] = self._segs[-1][0] if self._segs else 0
        self.next_seq = seq + 1
        try:
            self._evict(force=False)
        except OSError:
            self._close()
            self.trouble = TROUBLE_FULL
        return seq

    def ack(self, seq):
        """Record the centre's ack of `seq`. Returns True if it was pending (a duplicate ack
        writes nothing)."""
        if seq not in self._pending:
            return False
        del self._pending[seq]
        del self._where[seq]
        self._order.remove(seq)
        try:
            self._append(b"A" + struct.pack("<I", seq), False)
        except OSError:
            self._close()
            self.trouble = TROUBLE_FULL
        return True

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
                recs, _ = scan(f.read())
            for r in recs:
                if r[0] == REC_EVENT:
                    ev, up = decode_event(r[1:])
                    yield ev, up, ev.seq not in self._pending

    def close(self):
        self._close()

    # --- small persistent values (temp + rename) ---------------------------------------------
    def save_value(self, name, value):
        tmp = self._p(name + ".val.tmp")
        with open(tmp, "w") as f:
            f.write(json.dumps(value))
        os.rename(tmp, self._p(name + ".val"))
        self.writes += 2

    def load_value(self, name, default=None):
        try:
            with open(self._p(name + ".val")) as f:
                return json.loads(f.read())
        except (OSError, ValueError):
            return default
