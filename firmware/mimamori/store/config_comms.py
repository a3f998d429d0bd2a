# config.json `comms`: the MQTT broker (host, TLS and its CA, keepalive, topics), the landline
# (Contact ID account, the centre's number, the modem's UART) and the SIA DC-09 receiver, with
# every default filled in.
from mimamori.store.config_check import REQUIRED, kind, only

BAUDS = (9600, 19200, 38400, 57600, 115200)
ACCOUNT_CHARS = "0123456789BCDEF"   # Contact ID: 'A' is the DTMF digit 0, never an account digit
DIAL_CHARS = "0123456789*#"


# comms.paths (README "Architecture"): the report path names, the report kinds (core/events.py)
PATH_NAMES = ("mqtt", "landline", "dc09")
REPORT_KINDS = ("alarm", "trouble", "restore", "opening", "closing", "bypass", "test", "cancel",
                "status")
LINE_KINDS = ("alarm", "trouble", "opening", "closing", "test")   # landline default: seed 5.


def comms(k, v):
    c = k.c
    if c.obj("comms", v, ("mqtt", "landline", "dc09", "paths"), "an object with mqtt") is None:
        return None
    line = landline(k, v.get("landline", {}))
    sia = dc09(k, v.get("dc09", {}))
    return {"mqtt": mqtt(k, v.get("mqtt", REQUIRED)), "landline": line, "dc09": sia,
            "paths": paths(k, v.get("paths", REQUIRED), bool(line and line["enabled"]),
                           bool(sia and sia["enabled"]))}


def paths(k, v, line_on, dc09_on=False):
    """comms.paths: the report paths in priority order, each with the report kinds it carries
    (null: every kind). Default: MQTT for everything, then the landline (when enabled) for
    LINE_KINDS, then DC-09 (when enabled) for every kind. README "Architecture"."""
    c = k.c
    p = "comms.paths"
    if v is REQUIRED:
        out = [{"name": "mqtt", "kinds": None}]
        if line_on:
            out.append({"name": "landline", "kinds": LINE_KINDS})
        if dc09_on:
            out.append({"name": "dc09", "kinds": None})
        return out
    if not isinstance(v, list) or not v:
        c.bad(p, "expected a list of {name, kinds}, mqtt among them, got %s" % kind(v))
        return None
    out = []
    for i, x in enumerate(v):
        q = "%s[%d]" % (p, i)
        if c.obj(q, x, ("name", "kinds"), "an object with name") is None:
            continue
        name = c.choice(q + ".name", x.get("name", REQUIRED), PATH_NAMES)
        if name is not None and name in [o["name"] for o in out]:
            c.bad(q + ".name", "'%s' is listed twice" % name)
        if name == "landline" and not line_on:
            c.bad(q + ".name", "landline is not enabled (comms.landline.enabled)")
        if name == "dc09" and not dc09_on:
            c.bad(q + ".name", "dc09 is not enabled (comms.dc09.enabled)")
        kinds = x.get("kinds")
        if kinds is not None and (not isinstance(kinds, list) or not kinds or
                                  [j for j in kinds if j not in REPORT_KINDS]):
            c.bad(q + ".kinds", "expected null or a list of %s" % ", ".join(REPORT_KINDS))
            kinds = None
        out.append({"name": name, "kinds": tuple(kinds) if kinds is not None else None})
    if "mqtt" not in [o["name"] for o in out]:
        c.bad(p, "mqtt must be listed (the state, Home Assistant and commands use it)")
    return out


def mqtt(k, v):
    c = k.c
    p = "comms.mqtt"
    known = ("host", "port", "tls", "ca_file", "tls_name", "keepalive_s", "ack_deadline_s",
             "topic_prefix")
    if c.obj(p, v, known, "an object with at least host") is None:
        return None
    host = c.str(p + ".host", v.get("host", REQUIRED), 1, 253)
    if host is not None and (" " in host or "/" in host):
        c.bad(p + ".host", "'%s' must be a host name or an IP address" % host)
    tls = c.bool(p + ".tls", v.get("tls", REQUIRED), default=False)
    # TLS without the broker's CA would encrypt to whoever answers: refused, not weakened.
    ca = c.str(p + ".ca_file", v.get("ca_file", REQUIRED), 1, 64, default=None)
    if tls and "ca_file" not in v:
        c.bad(p + ".ca_file", "required when tls is true: the path on flash of the broker's "
              "CA certificate (PEM or DER), e.g. /ca.pem")
    # The name the broker's certificate must carry, when it is not the host dialled (an IP
    # address dialled to avoid DNS, a certificate issued for the broker's DNS name).
    tls_name = c.str(p + ".tls_name", v.get("tls_name", REQUIRED), 1, 253, default=None)
    if tls_name is not None and (" " in tls_name or "/" in tls_name):
        c.bad(p + ".tls_name", "'%s' must be a host name" % tls_name)
    prefix = c.str(p + ".topic_prefix", v.get("topic_prefix", REQUIRED), 1, 64,
                   default="mimamori/v1")
    if prefix is not None and ("+" in prefix or "#" in prefix or " " in prefix
                               or prefix[0] == "/" or prefix[-1] == "/"):
        c.bad(p + ".topic_prefix", "'%s' must not hold spaces, the MQTT wildcards + and #, "
              "or a leading or trailing /" % prefix)
    return {
        "host": host,
        "port": c.int(p + ".port", v.get("port", REQUIRED), 1, 65535,
                      default=8883 if tls else 1883),
        "tls": tls,
        "ca_file": ca,
        "tls_name": tls_name,
        "keepalive_s": c.int(p + ".keepalive_s", v.get("keepalive_s", REQUIRED), 10, 3600,
                             default=60),
        "ack_deadline_s": c.int(p + ".ack_deadline_s", v.get("ack_deadline_s", REQUIRED),
                                5, 120, default=20),
        "topic_prefix": prefix,
    }


def landline(k, v):
    c = k.c
    p = "comms.landline"
    if c.obj(p, v, ("enabled", "account", "centre_number", "backup_number", "uart")) is None:
        return None
    on = c.bool(p + ".enabled", v.get("enabled", REQUIRED), default=False)
    # Disabled: the other keys may stay (checked all the same, typos included) but none is
    # required.
    need = REQUIRED if on else None
    out = {"enabled": on, "account": None, "centre_number": None, "backup_number": None,
           "uart": None}
    acc = v.get("account", REQUIRED)
    rule = "4 characters of 0-9 and B-F"
    if acc is REQUIRED:
        c.missing(p + ".account", need, rule)
    elif not isinstance(acc, str):
        c.bad(p + ".account", "expected %s, got %s" % (rule, kind(acc)))
    elif len(acc) != 4 or not only(acc, ACCOUNT_CHARS):
        c.bad(p + ".account", "'%s' must be %s (Contact ID account)" % (acc, rule))
    else:
        out["account"] = acc
    # The centre's receiver, and optionally a second receiver: the dialer alternates between
    # them call by call (a busy or dead receiver line does not stop the report).
    out["centre_number"] = _number(c, p + ".centre_number", v.get("centre_number", REQUIRED), need)
    out["backup_number"] = _number(c, p + ".backup_number", v.get("backup_number", REQUIRED), None)
    u = v.get("uart", REQUIRED)
    if u is REQUIRED:
        c.missing(p + ".uart", need, "an object with id, tx, rx and baud")
    elif c.obj(p + ".uart", u, ("id", "tx", "rx", "baud")) is not None:
        q = p + ".uart"
        out["uart"] = {
            "id": c.choice(q + ".id", u.get("id", REQUIRED), (1, 2)),
            "tx": k.pin(q + ".tx", u.get("tx", REQUIRED), "out"),
            "rx": k.pin(q + ".rx", u.get("rx", REQUIRED), "in"),
            "baud": c.choice(q + ".baud", u.get("baud", REQUIRED), BAUDS),
        }
    return out


def _number(c, path, num, need):
    """A receiver's telephone number, or None (missing and not needed)."""
    rule = "1-20 dial characters of 0-9, * and #"
    if num is REQUIRED:
        c.missing(path, need, rule)
    elif not isinstance(num, str):
        c.bad(path, "expected %s, got %s" % (rule, kind(num)))
    elif not 1 <= len(num) <= 20 or not only(num, DIAL_CHARS):
        c.bad(path, "'%s' must be %s" % (num, rule))
    else:
        return num
    return None


# comms.dc09: the SIA DC-09 receiver (comms/path_dc09.py, README "SIA DC-09"). The key is AES's:
# "text" takes its characters as the key bytes (pysiaalarm, so Home Assistant's SIA integration:
# 16/24/32 hex characters), "hex" reads it as hex digits (32/48/64, most receivers). Messages
# name the field and the rule, never the key.
DC09_KEYS = ("host", "port", "protocol", "account", "key", "key_format", "receiver", "prefix",
             "ping_interval_s", "ack_deadline_s", "enabled")
HEX_CHARS = "0123456789ABCDEFabcdef"


def dc09(k, v):
    c = k.c
    p = "comms.dc09"
    if c.obj(p, v, DC09_KEYS) is None:
        return None
    on = c.bool(p + ".enabled", v.get("enabled", REQUIRED), default=False)
    need = REQUIRED if on else None
    host = c.str(p + ".host", v.get("host", REQUIRED), 1, 253, default=need)
    if host is not None and (" " in host or "/" in host):
        c.bad(p + ".host", "'%s' must be a host name or an IP address" % host)
    out = {"enabled": on, "host": host,
           "port": c.int(p + ".port", v.get("port", REQUIRED), 1, 65535, default=need),
           "protocol": c.choice(p + ".protocol", v.get("protocol", REQUIRED), ("tcp", "udp"),
                                default="tcp"),
           "account": None, "key": None,
           "key_format": c.choice(p + ".key_format", v.get("key_format", REQUIRED),
                                  ("text", "hex"), default="text"),
           "receiver": _hex_id(c, p + ".receiver", v.get("receiver", REQUIRED), 1, 6, None),
           "prefix": _hex_id(c, p + ".prefix", v.get("prefix", REQUIRED), 1, 6, "0"),
           "ping_interval_s": c.int(p + ".ping_interval_s", v.get("ping_interval_s", REQUIRED),
                                    0, 86400, default=60),
           "ack_deadline_s": c.int(p + ".ack_deadline_s", v.get("ack_deadline_s", REQUIRED),
                                   5, 300, default=30)}
    if out["ping_interval_s"] is not None and 0 < out["ping_interval_s"] < 10:
        c.bad(p + ".ping_interval_s", "%d: 0 (no link test) or 10-86400 seconds"
              % out["ping_interval_s"])
    out["account"] = _hex_id(c, p + ".account", v.get("account", REQUIRED), 3, 16, need)
    key = v.get("key", REQUIRED)
    fmt = out["key_format"]
    sizes = (16, 24, 32) if fmt == "text" else (32, 48, 64)
    rule = ("%d, %d or %d hex characters (key_format %s: %s)" % (
        sizes + (fmt, "each character is a key byte, as Home Assistant's SIA integration takes "
                 "it" if fmt == "text" else "two hex digits per key byte")))
    if key is REQUIRED or key is None:
        pass                                # no key: the messages go in the clear
    elif not isinstance(key, str) or len(key) not in sizes or not only(key, HEX_CHARS):
        c.bad(p + ".key", "expected " + rule)     # never the key itself
    else:
        out["key"] = key
    return out


def _hex_id(c, path, v, lo, hi, default):
    rule = "%d-%d hex characters (0-9, A-F)" % (lo, hi)
    if v is REQUIRED:
        return c.missing(path, default, rule)
    if v is None and default is None:
        return None
    if not isinstance(v, str) or not lo <= len(v) <= hi or not only(v, HEX_CHARS):
        c.bad(path, "expected %s, got %s" % (rule, repr(v) if isinstance(v, str) else kind(v)))
        return None
    return v.upper()
