# DNS A-record lookups on the wire (RFC 1035), sans-I/O: build the query, read the answer.
#
# Why our own: MicroPython's socket.getaddrinfo() blocks until lwIP's resolver answers or gives
# up (seconds with a slow or dead DNS server), and the loop that watches the zones must never
# stall. comms/resolve.py sends this query over a non-blocking UDP socket instead and polls for
# the answer with a deadline. An IP address in comms.mqtt.host needs none of it.
from mimamori.compat import const

PORT = const(53)
QTYPE_A = const(1)           # RFC 1035 3.2.2: a host address
QCLASS_IN = const(1)         # RFC 1035 3.2.4: the Internet
FLAG_QR = const(0x8000)      # RFC 1035 4.1.1: a response
FLAG_RD = const(0x0100)      # recursion desired
FLAG_TC = const(0x0200)      # truncated
RCODE_NXDOMAIN = const(3)    # the name does not exist
MAX_NAME = const(253)


class DnsError(ValueError):
    pass


def is_ipv4(s):
    """True for a dotted-quad IPv4 address ("192.168.1.10"): nothing to resolve."""
    parts = s.split(".")
    if len(parts) != 4:
        return False
    for p in parts:
        if not p or len(p) > 3 or not p.isdigit() or int(p) > 255:
            return False
    return True


def query(name, qid):
    """The bytes of a recursive query for name's A record, with the 16-bit id qid."""
    if not name or len(name) > MAX_NAME:
        raise DnsError("bad host name")
    out = bytearray(12)
    out[0] = qid >> 8 & 0xFF
    out[1] = qid & 0xFF
    out[2] = FLAG_RD >> 8
    out[5] = 1                                   # one question
    for label in name.encode().split(b"."):
        if not label or len(label) > 63:         # RFC 1035 2.3.4
            raise DnsError("bad host name")
        out.append(len(label))
        out.extend(label)
    out.extend(b"\x00\x00\x01\x00\x01")           # root, QTYPE A, QCLASS IN
    return bytes(out)


def _skip_name(msg, i):
    while True:
        if i >= len(msg):
            raise DnsError("truncated answer")
        n = msg[i]
        if n & 0xC0 == 0xC0:                     # a compression pointer ends the name
            return i + 2
        if n == 0:
            return i + 1
        i += 1 + n


def answer(msg, qid):
    """(IPv4 address string, TTL seconds) from a response to query qid; None when msg is not
    that response (another id: ignore it and keep waiting). DnsError when the server says the
    name has no address, or the message is broken."""
    if len(msg) < 12 or (msg[0] << 8 | msg[1]) != qid or not msg[2] & (FLAG_QR >> 8):
        return None
    if msg[2] & (FLAG_TC >> 8):
        raise DnsError("truncated answer")
    rcode = msg[3] & 0x0F
    if rcode == RCODE_NXDOMAIN:
        raise DnsError("no such host")
    if rcode:
        raise DnsError("server failure %d" % rcode)
    qd = msg[4] << 8 | msg[5]
    an = msg[6] << 8 | msg[7]
    i = 12
    for _ in range(qd):
        i = _skip_name(msg, i) + 4
    for _ in range(an):
        i = _skip_name(msg, i)
        if i + 10 > len(msg):
            raise DnsError("truncated answer")
        rtype = msg[i] << 8 | msg[i + 1]
        rclass = msg[i + 2] << 8 | msg[i + 3]
        ttl = msg[i + 4] << 24 | msg[i + 5] << 16 | msg[i + 6] << 8 | msg[i + 7]
        size = msg[i + 8] << 8 | msg[i + 9]
        i += 10
        if i + size > len(msg):
            raise DnsError("truncated answer")
        if rtype == QTYPE_A and rclass == QCLASS_IN and size == 4:   # a CNAME before it: skip
            return "%d.%d.%d.%d" % (msg[i], msg[i + 1], msg[i + 2], msg[i + 3]), ttl
        i += size
    raise DnsError("no address for the host")
