# Wire frames between the controller and the monitoring centre: JSON, UTF-8, signed.
#
# Signature: `mac` = hex HMAC-SHA256, keyed with the site key (64 hex chars = 32 bytes), over the
# CANONICAL bytes of the frame without `mac`: keys sorted by code point, no spaces, strings as raw
# UTF-8 with only `"`, `\` and control characters escaped (\uXXXX lower-case hex), integers in
# decimal, true/false/null; floats are refused (their text differs between runtimes). json.dumps
# differs between CPython and MicroPython (ensure_ascii, sort_keys, separators), so we encode
# ourselves: the same bytes on both, which the tests check with fixed vectors.
#
# Frames (v = 1):
#   event  controller -> centre  <prefix>/<site>/event
#          {v, site, epoch, seq, ts, up, kind, service: {code, label}, label, cid, zone,
#           zone_name, user, mode, urgent, base, mac} (+ path for PATH_CIDS)
#          cid = 4 Contact ID digits: the event qualifier (1 new/opening, 3 restore/closing,
#          6 status) followed by the 3-digit event code, as in the Contact ID message
#          "ACCT 18 Q XYZ GG CCC": "1111" = new fire (smoke), "3401" = closing by user.
#          epoch = 8 lowercase hex digits naming the controller's journal (a new installation or
#          a wiped board starts a new epoch): the centre keys reports by (site, epoch, seq).
#   ack    centre -> controller  <prefix>/<site>/ack   {type: "ack", v, site, seq, ref, t, mac}
#          ref = report_ref() of the exact report acknowledged: the controller counts a report
#          delivered only when the ref matches it, so an ack of another report that had the same
#          seq (a captured old ack, a wiped board) confirms nothing.
#   cmd    centre -> controller  <prefix>/<site>/cmd   see mimamori.core.commands
#   result controller -> centre  <prefix>/<site>/ack   {type: "result", v, site, ctr, cmd, ok,
#                                                       reason, mac}
# HMAC is built here from hashlib.sha256 (RFC 2104), as not every firmware image has `hmac`.
import json
import hashlib
from binascii import hexlify, unhexlify

V = 1
_BLOCK = 64
REF_HEX = 32        # a report reference: the first 16 bytes of a SHA-256, in hex
# Contact ID codes about a report path, not a zone (350/351/354 path troubles, 601/602 tests):
# their event frame has zone 0 and `path` (mqtt, line) instead of a zone_name (issue 10.10).
PATH_CIDS = (350, 351, 354, 601, 602)


class FrameError(ValueError):
    """A frame that does not parse or does not verify; str(e) is the reason code."""


def _esc(s, out):
    out.append('"')
    for c in s:
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif ord(c) < 0x20:
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    out.append('"')


def _enc(v, out):
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, int):
        out.append(str(v))
    elif isinstance(v, str):
        _esc(v, out)
    elif isinstance(v, dict):
        _enc_dict(v, out, None)
    elif isinstance(v, (list, tuple)):
        out.append("[")
        for i in range(len(v)):
            if i:
                out.append(",")
            _enc(v[i], out)
        out.append("]")
    else:
        raise FrameError("bad_value")


def _enc_dict(d, out, skip, skip2=None):
    out.append("{")
    first = True
    for k in sorted(d):
        if k == skip or k == skip2:
            continue
        if not isinstance(k, str):
            raise FrameError("bad_key")
        if not first:
            out.append(",")
        first = False
        _esc(k, out)
        out.append(":")
        _enc(d[k], out)
    out.append("}")


def canonical(d, skip="mac", skip2=None):
    """Canonical UTF-8 bytes of dict `d` without the keys `skip` (and `skip2`)."""
    out = []
    _enc_dict(d, out, skip, skip2)
    try:
        return "".join(out).encode()
    except UnicodeError:          # a lone surrogate (CPython): no UTF-8 for it, no valid mac
        raise FrameError("bad_value")


def report_ref(d):
    """The reference an ack binds to: hex SHA-256 (first 16 bytes) of the canonical event frame
    without `mac` and without `base` (base changes between resends of the same report). Two
    reports that share a seq (a wiped board, a damaged journal) have different refs."""
    return hexlify(hashlib.sha256(canonical(d, "mac", "base")).digest()[:REF_HEX // 2]).decode()


def hmac_sha256(key, msg):
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key + b"\x00" * (_BLOCK - len(key))
    ipad = bytes([b ^ 0x36 for b in key])
    opad = bytes([b ^ 0x5C for b in key])
    h = hashlib.sha256(ipad)
    h.update(msg)
    inner = h.digest()
    h = hashlib.sha256(opad)
    h.update(inner)
    return h.digest()


def site_key(hex_key):
    """The 32-byte key from its 64 hex characters (secrets.site_key)."""
    if not isinstance(hex_key, str) or len(hex_key) != 64:
        raise ValueError("site_key must be 64 hex characters")
    return unhexlify(hex_key)


def mac_of(key, d):
    return hexlify(hmac_sha256(key, canonical(d))).decode()


def _same(a, b):
    # constant time for equal lengths: the comparison does not reveal how many chars matched
    if len(a) != len(b):
        return False
    r = 0
    for i in range(len(a)):
        r |= ord(a[i]) ^ ord(b[i])
    return r == 0


def sign(key, d):
    """Add `mac` to dict `d`; return the frame's bytes (canonical, with the mac)."""
    d["mac"] = mac_of(key, d)
    return canonical(d, None)


def verify(key, d):
    """Raise FrameError unless `d` carries a good mac."""
    m = d.get("mac")
    if not isinstance(m, str):
        raise FrameError("missing_mac")
    if not _same(m, mac_of(key, d)):
        raise FrameError("bad_mac")


def parse(payload):
    """bytes -> dict, or FrameError('malformed')."""
    try:
        if isinstance(payload, (bytes, bytearray, memoryview)):
            payload = bytes(payload).decode()
        d = json.loads(payload)
    except (ValueError, UnicodeError, TypeError, RuntimeError):
        # RuntimeError: nesting too deep for the parser (CPython's RecursionError is one)
        raise FrameError("malformed")
    if not isinstance(d, dict):
        raise FrameError("malformed")
    return d


def cid_digits(event):
    return "%d%03d" % (event.qualifier, event.cid)


def event_dict(site, event, up, base=None, epoch=None):
    d = {
        "v": V, "site": site, "seq": event.seq, "ts": event.wall, "up": up,
        "kind": event.kind, "service": {"code": event.service, "label": event.service_label},
        "label": event.label, "cid": cid_digits(event), "zone": event.zone,
        "zone_name": event.zone_name, "user": event.user, "mode": event.mode,
        "urgent": event.urgent,
    }
    if epoch is not None:
        d["epoch"] = epoch
    if event.cid in PATH_CIDS:
        # A report path's test or trouble: zone 0 and the path by name, never in a zone field.
        d["path"] = event.zone_name
        d["zone_name"] = ""
    if base is not None:
        # The oldest report the controller still holds unacknowledged: every seq from base up
        # to this one is on its way, so the centre can show a site's reports in order even when
        # the broker dropped some while the centre was not subscribed.
        d["base"] = base
    return d


def event_frame(key, site, event, up, base=None, epoch=None):
    """The signed event frame's bytes for a journalled event (seq and wall stamped)."""
    return sign(key, event_dict(site, event, up, base, epoch))


def event_ref(site, event, up, epoch=None):
    """report_ref() of the frame event_frame() builds for this event (any base)."""
    return report_ref(event_dict(site, event, up, None, epoch))


def verify_event(key, payload, site=None):
    """Centre side: bytes -> verified dict (FrameError with the reason otherwise)."""
    d = parse(payload)
    verify(key, d)
    seq = d.get("seq")
    if d.get("v") != V or not isinstance(seq, int) or isinstance(seq, bool) or \
            (site and d.get("site") != site):
        raise FrameError("bad_fields")
    return d


def ack_frame(key, site, seq, ref, t=None):
    """The centre's signed ack of the report whose report_ref() is `ref`. `t`: the centre's
    clock (Unix seconds), from which a controller whose RTC is unset (after a power loss) sets
    it: authenticated time, unlike plain NTP."""
    d = {"type": "ack", "v": V, "site": site, "seq": seq, "ref": ref}
    if t is not None:
        d["t"] = t
    return sign(key, d)


def _is_ref(r):
    if not isinstance(r, str) or len(r) != REF_HEX:
        return False
    for c in r:
        if c not in "0123456789abcdef":
            return False
    return True


def verify_ack_ref(key, site, payload):
    """Controller side: (acked seq, ref of the acked report, the centre's time or None) from an
    ack frame, or FrameError. An ack without a ref (the format before acks named their report)
    is refused: 'missing_ref'. Our own command results also travel on the ack topic: they raise
    FrameError('not_ack')."""
    d = parse(payload)
    if d.get("type") != "ack":
        raise FrameError("not_ack")
    verify(key, d)
    seq = d.get("seq")
    if d.get("site") != site or d.get("v") != V or not isinstance(seq, int) or \
            isinstance(seq, bool) or seq < 1:
        raise FrameError("bad_fields")
    ref = d.get("ref")
    if ref is None:
        raise FrameError("missing_ref")
    if not _is_ref(ref):
        raise FrameError("bad_fields")
    t = d.get("t")
    if t is not None and (not isinstance(t, int) or isinstance(t, bool) or t < 0):
        raise FrameError("bad_fields")
    return seq, ref, t


def verify_ack_time(key, site, payload):
    """(acked seq, the centre's time or None): see verify_ack_ref."""
    seq, ref, t = verify_ack_ref(key, site, payload)
    return seq, t


def verify_ack(key, site, payload):
    """The acked seq only (see verify_ack_ref)."""
    return verify_ack_ref(key, site, payload)[0]


def result_frame(key, site, ctr, cmd, ok, reason):
    return sign(key, {"type": "result", "v": V, "site": site, "ctr": ctr, "cmd": cmd, "ok": ok,
                      "reason": reason})
