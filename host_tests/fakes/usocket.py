# Host shim: MicroPython's socket API on CPython, for umqtt.simple and mimamori.comms.mqtt.
#
# MicroPython sockets are streams: write(buf[, n]) / read(n) / readinto(buf), and in non-blocking
# mode a would-block returns None instead of raising. CPython sockets have send/recv and raise
# BlockingIOError. This wrapper gives the firmware the ESP32 port's behaviour on the host.
# (On the real MicroPython interpreter `usocket` is the built-in module; this file is not used.)
import socket as _s
import errno as _errno

AF_INET = _s.AF_INET
SOCK_STREAM = _s.SOCK_STREAM
SOCK_DGRAM = _s.SOCK_DGRAM
SOL_SOCKET = _s.SOL_SOCKET
SO_REUSEADDR = _s.SO_REUSEADDR
IPPROTO_TCP = _s.IPPROTO_TCP


def getaddrinfo(host, port, af=0, type=0, proto=0, flags=0):
    return _s.getaddrinfo(host, port, af or _s.AF_INET, type or _s.SOCK_STREAM, proto, flags)


class socket:
    def __init__(self, af=AF_INET, type=SOCK_STREAM, proto=0, sock=None):
        self._s = sock if sock is not None else _s.socket(af, type, proto)
        self._blocking = True

    def fileno(self):
        return self._s.fileno()

    def setsockopt(self, *a):
        self._s.setsockopt(*a)

    def settimeout(self, t):
        self._s.settimeout(t)
        self._blocking = t is None or t > 0

    def setblocking(self, flag):
        self._s.setblocking(flag)
        self._blocking = bool(flag)

    def connect(self, addr):
        # non-blocking: raises OSError(EINPROGRESS) like MicroPython (BlockingIOError is one)
        self._s.connect(addr)

    def write(self, buf, n=None):
        if isinstance(buf, str):      # MicroPython streams take str too (umqtt's client id)
            buf = buf.encode()
        mv = memoryview(buf)
        if n is not None:
            mv = mv[:n]
        if self._blocking:
            self._s.sendall(mv)
            return len(mv)
        try:
            return self._s.send(mv)
        except (BlockingIOError, InterruptedError):
            return None

    send = write

    def readinto(self, buf, n=None):
        try:
            return self._s.recv_into(buf, n or len(buf))
        except (BlockingIOError, InterruptedError):
            return None

    def read(self, n=-1):
        if not self._blocking:
            try:
                return self._s.recv(n)
            except (BlockingIOError, InterruptedError):
                return None
        out = b""
        while len(out) < n:
            chunk = self._s.recv(n - len(out))
            if not chunk:
                break
            out += chunk
        return out

    recv = read

    # datagrams (comms/resolve.py's DNS queries): on MicroPython a non-blocking recvfrom with
    # nothing waiting raises OSError(EAGAIN) - unlike the stream reads above, which return None
    def sendto(self, buf, addr):
        return self._s.sendto(buf, addr)

    def recvfrom(self, n):
        try:
            return self._s.recvfrom(n)
        except (BlockingIOError, InterruptedError):
            raise OSError(_errno.EAGAIN, "EAGAIN")

    def close(self):
        self._s.close()

    def __repr__(self):
        return "<usocket shim %r>" % (self._s,)


EINPROGRESS = _errno.EINPROGRESS
