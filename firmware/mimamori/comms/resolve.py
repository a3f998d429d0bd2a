# Host name -> IPv4 address without blocking the loop: one DNS query (proto/dns.py) over a
# non-blocking UDP socket, polled with a deadline, resent a few times (RFC 1035 4.2.1: UDP,
# retransmission is the client's job); Address: where a link dials, looked up when a name.
# comms/mqtt.py uses it for comms.mqtt.host; an IP address is never looked up.
import errno

from mimamori.compat import ticks_diff, ticks_add, const
from mimamori.proto import dns
from mimamori.proto.dns import is_ipv4 as dns_is_ipv4

TRY_MS = const(1000)         # one query's wait for its answer
TRIES = const(3)             # then the lookup fails (the link backs off and tries again)
MAX_DATAGRAMS = const(4)     # read per poll at most (stray datagrams cannot hold the loop)
TTL_MIN_S = const(30)        # an answer is reused for its TTL, within these bounds
TTL_MAX_S = const(86400)


class Resolver:
    """One lookup: Resolver(socket_module, name, (server ip, port), now, qid); then poll(now)
    until it gives (ip, ttl_s); OSError when it fails. close() always."""

    def __init__(self, socket, name, server, now, qid):
        self.name = name
        self.server = server
        self.qid = qid & 0xFFFF
        try:
            self._q = dns.query(name, self.qid)
        except dns.DnsError as e:      # a name no DNS can hold ("a..b"): an error, not a crash
            raise OSError(errno.EINVAL, "dns: %s: %s" % (name, e))
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._s = s
        self.tries = 0
        try:
            s.setblocking(False)
            self._send(now)
        except OSError:
            s.close()
            raise

    def _send(self, now):
        self.tries += 1
        self._t = now
        self._s.sendto(self._q, self.server)

    def poll(self, now):
        for _ in range(MAX_DATAGRAMS):
            try:
                data, peer = self._s.recvfrom(512)
            except OSError as e:
                if e.args[0] == errno.EAGAIN:
                    break
                raise
            # only our server's answer to our query counts (a spoofer must guess both)
            if not _same_host(peer, self.server):
                continue
            try:
                got = dns.answer(data, self.qid)
            except dns.DnsError as e:
                raise OSError(errno.ENOENT, "dns: %s: %s" % (self.name, e))
            if got is not None:
                return got
        if ticks_diff(now, self._t) >= TRY_MS:
            if self.tries >= TRIES:
                raise OSError(errno.ETIMEDOUT, "dns: no answer for %s" % self.name)
            self._send(now)
        return None

    def close(self):
        try:
            self._s.close()
        except OSError:
            pass


def _same_host(peer, server):
    # MicroPython's recvfrom gives the peer as a tuple on the ESP32 and as raw sockaddr bytes on
    # some ports: compare what can be compared.
    if isinstance(peer, tuple):
        return peer[0] == server[0] and peer[1] == server[1]
    return True


class Address:
    """Where a link dials: an IP address as given (never looked up), or a host name looked up
    with a Resolver and reused for its answer's TTL. When a lookup fails, the last answer beats
    none (RFC 8767, serving stale) and is tried again later.

        a = Address(host, port, dns=None, wlan=None)   # dns: (server ip, port); default: Wi-Fi's
        if not a.fresh(now): a.start(socket_module, now, qid) ... until a.poll(now) is True
        a.addr                                          # (ip, port) to connect to
        a.expire(now)                                   # the peer failed: ask again
        a.close()                                       # a lookup in flight is dropped
    """

    def __init__(self, host, port, dns=None, wlan=None):
        self.host = host
        self.port = port
        self._dns = dns
        self._wlan = wlan
        self._ip = dns_is_ipv4(host)
        self.addr = (host, port) if self._ip else None
        self._until = 0
        self._resolver = None

    def fresh(self, now):
        return self._ip or (self.addr is not None and ticks_diff(now, self._until) < 0)

    def expire(self, now):
        """Look the name up again before the next dial (the last answer stays as the fallback)."""
        self._until = now

    def start(self, socket, now, qid):
        server = self._dns
        if server is None:
            ip = self._wlan.ifconfig()[3] if self._wlan is not None else "0.0.0.0"
            if ip == "0.0.0.0":
                raise OSError(errno.EHOSTUNREACH, "dns: no server")
            server = (ip, dns.PORT)
        self._resolver = Resolver(socket, self.host, server, now, qid)

    def poll(self, now):
        """True when `addr` is ready to dial; OSError when the lookup failed and none is known."""
        try:
            got = self._resolver.poll(now)
        except OSError:
            self.close()
            if self.addr is None:
                raise
            self._until = ticks_add(now, TTL_MIN_S * 1000)
            return True
        if got is None:
            return False
        self.close()
        ttl = min(max(got[1], TTL_MIN_S), TTL_MAX_S)
        self.addr = (got[0], self.port)
        self._until = ticks_add(now, ttl * 1000)
        return True

    def close(self):
        if self._resolver is not None:
            self._resolver.close()
            self._resolver = None
