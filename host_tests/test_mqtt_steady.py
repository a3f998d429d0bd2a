# The MQTT link's steady state on the real MicroPython: once the session is up, polling it
# (nothing to read; keepalive pings and their PINGRESPs) allocates nothing. (Parsing a PUBACK
# allocates nothing either: test_mqtt_codec.py.)
# WebAssembly has no sockets, so the link dials a scripted broker: a stand-in for the socket
# module and for select.poll, the only two things comms/mqtt.py asks the platform for.
import micropython

from mimamori.comms import mqtt as M
from mimamori.comms import netio

RUNS_ON_MICROPYTHON = True

CONNACK_OK = b"\x20\x02\x00\x00"
SUBACK = b"\x90\x04\x00\x01\x00\x01"


class ScriptedBroker:
    """A connected TCP socket whose peer answers like a broker: CONNACK and SUBACK at once, a
    PINGRESP to each PINGREQ, a PUBACK to each QoS 1 PUBLISH. Allocates nothing per call."""

    def __init__(self):
        self.out = bytearray(64)       # bytes queued for the link to read
        self.n = 0
        self.pings = 0
        self.reports = 0

    def _queue(self, b):
        for x in b:
            self.out[self.n] = x
            self.n += 1

    # the socket API comms/mqtt.py uses
    def setblocking(self, flag):
        pass

    def connect(self, addr):
        pass

    def write(self, buf):
        i = 0
        while i < len(buf):                 # walk the packets written (MQTT fixed headers)
            t = buf[i] >> 4
            ln = buf[i + 1]                  # our packets here are < 128 bytes
            if t == 1:
                self._queue(CONNACK_OK)
            elif t == 8:
                self._queue(SUBACK)
            elif t == 12:
                self.pings += 1
                self.out[self.n] = 0xD0
                self.out[self.n + 1] = 0
                self.n += 2
            elif t == 3 and buf[i] & 6:
                self.reports += 1
                h = i + 2
                p = h + 2 + (buf[h] << 8 | buf[h + 1])
                self.out[self.n] = 0x40
                self.out[self.n + 1] = 2
                self.out[self.n + 2] = buf[p]
                self.out[self.n + 3] = buf[p + 1]
                self.n += 4
            i += 2 + ln
        return len(buf)

    def readinto(self, buf):
        if not self.n:
            return None
        n = self.n
        for i in range(n):
            buf[i] = self.out[i]
        self.n = 0
        return n

    def close(self):
        pass


class _Poll:
    def register(self, s, ev):
        pass

    def poll(self, ms):
        return [(None, 4)]                # POLLOUT: the TCP connect is done


class _Platform:
    """Stands in for both the socket module and select."""
    POLLOUT = 4
    POLLERR = 8
    POLLHUP = 16

    def __init__(self):
        self.sock = ScriptedBroker()

    def socket(self):
        return self.sock

    def poll(self):
        return _Poll()


def test_the_links_steady_state_poll_allocates_nothing():
    plat = _Platform()
    real = (netio.socket_module, netio.select)
    netio.socket_module = lambda: plat
    netio.select = plat
    try:
        link = M.MqttLink("site-001", "127.0.0.1", 1883, keepalive_s=10)
        t = 1000
        for _ in range(10):
            link.poll(t)
            t += 10
        assert link.connected, link.last_error
        # warm up: one report and its PUBACK, one keepalive round
        assert link.publish(link.topic("event"), b'{"seq":1}', False, 1)
        for _ in range(700):
            link.poll(t)
            t += 10
        assert link.pubacks == 1 and plat.sock.pings >= 1
        pings = plat.sock.pings
        micropython.heap_lock()       # real on MicroPython: any allocation raises MemoryError
        try:
            for _ in range(1500):     # 15 s: three keepalive pings and their PINGRESPs
                link.poll(t)
                t += 10
        finally:
            micropython.heap_unlock()
        assert link.connected and link.drops == 0, link.last_error
        assert plat.sock.pings >= pings + 2
    finally:
        netio.socket_module, netio.select = real
