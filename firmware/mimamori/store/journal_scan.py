# The journal's records on flash and the boot scan (store/journal.py describes the layout).
#
# Record = header + payload. Header: struct "<HI" = payload length, CRC32 of (length bytes +
# payload) (binascii.crc32). Payload: b"E" + compact JSON of the event, or b"A" + "<I" seq (an
# ack: 5 bytes). scan() walks a segment's bytes, past bad ones to the next record that checks
# (salvage); boot() reads every segment into a Journal and rewrites the damaged ones.
import json
import os

import struct
from binascii import crc32

from mimamori.core.events import Event
from mimamori.store import seqmark
from mimamori.store.sealed import _exists

HDR = "<HI"
HDR_LEN = 6
REC_EVENT = 0x45   # b"E"
REC_ACK = 0x41     # b"A"
MAX_PAYLOAD = 2048  # a record longer than this is corruption, not an event

def _seg_name(first):
    return "%010d.log" % first




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


def boot(j):
    """Read every segment: the outbox (events not acknowledged), where each pending copy sits,
    the segment sizes, the seq to continue at (store/seqmark.py), the damage found. A segment
    with bad bytes is rewritten with its good records only."""
    names = []
    for name in os.listdir(j.path):
        if name.endswith(".tmp"):
            try:
                os.remove(j._p(name))   # a rename that never happened: the old file is intact
                j.writes += 1
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
        if j._feed:
            j._feed()
        first = int(name[:10])
        if first - 1 > top:
            top = first - 1
        try:
            with open(j._p(name), "rb") as f:
                data = f.read()
        except (OSError, MemoryError):
            j.damage.append("%s: unreadable" % name)
            data = b""
        recs, good, skipped = scan(data)
        tail = len(data) - good
        if skipped or (tail and i != last):
            j.damage.append("%s: %d bad bytes skipped" % (name, skipped + tail))
        count = 0
        size = 0
        for r in recs:
            size += HDR_LEN + len(r)
            if r[0] == REC_EVENT:
                try:
                    ev, up = decode_event(r[1:])
                except (KeyError, ValueError, TypeError, IndexError):
                    j.damage.append("%s: an event that checks but does not decode" % name)
                    continue
                events[ev.seq] = (ev, up)
                j._where[ev.seq] = first
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
            j.dropped_tail += skipped + tail
            try:
                j._rewrite(name, b"".join(record(r) for r in recs))
            except OSError:
                size = len(data)     # flash full: appends go after the bad bytes; the
                                     # next boot's scan skips them again
        j._segs.append([first, size, count])
    seqmark.load(j, top, int(names[-1][:10]) if names else 0)
    for seq in sorted(events):
        if seq not in acked:
            j._pending[seq] = events[seq]
            j._order.append(seq)
        else:
            del j._where[seq]
    if not j._segs:
        j._new_segment()


def history(j):
    """Every journalled event still on flash, oldest first, with its ack state:
    yields (Event, up, acked). Reads the segments: for the panel log and tests."""
    for seg in j._segs:
        name = j._p(_seg_name(seg[0]))
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
                yield ev, up, ev.seq not in j._pending
