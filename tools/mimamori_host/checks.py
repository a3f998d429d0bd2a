"""What a verified event frame must look like before the centre stores it: every field's type
and a sane size (a validly signed frame can still be odd: any resident can read the site key
from the panel's flash). tools/receiver.py re-exports it."""

class Refused(Exception):
    """A frame the centre will not store as a report; str(e) is the reason."""


def _text(d, name, most, none_ok=False):
    v = d.get(name)
    if (v is None and none_ok) or (isinstance(v, str) and len(v) <= most):
        return v
    raise Refused("bad_field:" + name)


def _int(d, name, lo, hi, missing_ok=False):
    if name not in d and missing_ok:
        return None
    v = d.get(name)
    if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi:
        return v
    raise Refused("bad_field:" + name)


def _hex(v, n):
    return isinstance(v, str) and len(v) == n and all(c in "0123456789abcdef" for c in v)


EVENT_FIELDS = ("v", "site", "epoch", "seq", "ts", "up", "kind", "service", "label", "cid",
                "zone", "zone_name", "user", "mode", "urgent", "base", "path", "mac")


def check_report(d):
    """Every field of a verified event frame has its type and a sane size (a validly signed
    frame can still be odd: any resident can read the site key from the panel's flash).
    Raises Refused('bad_field:<name>')."""
    for k in d:
        if k not in EVENT_FIELDS:
            raise Refused("bad_field:" + (k if len(k) <= 32 else k[:32]))
    seq = _int(d, "seq", 1, 2 ** 32 - 1)
    if "epoch" in d and not _hex(d["epoch"], 8):
        raise Refused("bad_field:epoch")
    _int(d, "base", 1, seq, missing_ok=True)
    _text(d, "ts", 40, none_ok=True)
    _int(d, "up", 0, 2 ** 40)
    _text(d, "kind", 16)
    svc = d.get("service")
    if not isinstance(svc, dict) or sorted(svc) != ["code", "label"]:
        raise Refused("bad_field:service")
    _text(svc, "code", 4)
    _text(svc, "label", 32)
    _text(d, "label", 64)
    cid = _text(d, "cid", 4)
    if len(cid) != 4 or not cid.isdigit() or not cid.isascii():
        raise Refused("bad_field:cid")
    _int(d, "zone", 0, 9999)
    _text(d, "zone_name", 64)
    _int(d, "user", 0, 9999)
    _text(d, "mode", 16)
    if not isinstance(d.get("urgent"), bool):
        raise Refused("bad_field:urgent")
    if "path" in d:                 # a report path's test or trouble (frame.PATH_CIDS)
        _text(d, "path", 16)
