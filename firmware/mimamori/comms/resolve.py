# Host name -> IPv4 address without blocking the loop: one DNS query (proto/dns.py) over a
# non-blocking UDP socket, polled with a deadline, resent a few times (RFC 1035 4.2.1: UDP,
# retransmission is the client's job). comms/mqtt.py uses it for comms.mqtt.host when that is a
# name; an IP address never comes here.
import errno

from mimamori.compat import ticks_diff, const
from mimamori.proto import dns

TRY_MS = const(1000)         # one query's wait for its answer
TRIES = const(3)             # then the lookup fails (the link backs off and tries again)
MAX_DATAGRAMS = const(4)     # read per poll at most (stray datagrams cannot hold the loop)


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
