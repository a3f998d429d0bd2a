# `socket` on the virtual board: TCP streams carried by the chip runner (tools/serialboard.mjs)
# to the host's bridge (tools/serialboard.py), which opens real sockets. The WebAssembly
# interpreter has no network of its own. MicroPython's stream semantics: a non-blocking connect
# raises EINPROGRESS; in non-blocking mode write/read return None when they would block.
# UDP (the DNS resolver) is not bridged: configure the broker by IP address on the virtual board.
import binascii
import errno
import _vb
from select import POLLIN, POLLOUT, POLLERR, POLLHUP

AF_INET = 2
SOCK_STREAM = 1
SOCK_DGRAM = 2
SOL_SOCKET = 1
SO_REUSEADDR = 4
IPPROTO_TCP = 6


def getaddrinfo(host, port, af=0, type=0, proto=0, flags=0):
    return [(AF_INET, SOCK_STREAM, IPPROTO_TCP, "", (host, port))]


class socket:
    def __init__(self, af=AF_INET, type=SOCK_STREAM, proto=0):
        if type != SOCK_STREAM:
            raise OSError(errno.EOPNOTSUPP)
        self._id = None
        self._blocking = True

    def setblocking(self, flag):
        self._blocking = bool(flag)

    def settimeout(self, t):
        self._blocking = t is None or t > 0

    def setsockopt(self, *a):
        pass

    def _status(self):
        return -errno.ENOTCONN if self._id is None else _vb.net_status(self._id)

    def _wait_up(self):
        while self._status() == 0:
            _vb.sleep(5)
        st = self._status()
        if st < 0:
            raise OSError(-st)

    def connect(self, addr):
        self._id = _vb.net_open(str(addr[0]), int(addr[1]))
        if not self._blocking:
            raise OSError(errno.EINPROGRESS)
        self._wait_up()

    def write(self, buf, n=None):
        if isinstance(buf, str):
            buf = buf.encode()
        mv = memoryview(buf)
        if n is not None:
            mv = mv[:n]
        st = self._status()
        if st == 0:
            if not self._blocking:
                return None
            self._wait_up()
        elif st < 0:
            raise OSError(-st)
        if _vb.net_peek(self._id) < 0:
            raise OSError(errno.ECONNRESET)
        return _vb.net_send(self._id, binascii.hexlify(mv).decode())

    send = write

    def read(self, n=-1):
        while True:
            st = self._status()
            if st < 0 and st != -errno.ENOTCONN:
                raise OSError(-st)
            h = _vb.net_recv(self._id, n if n and n > 0 else 4096) if self._id else ""
            if h is None:
                return b""
            if h:
                return binascii.unhexlify(h)
            if not self._blocking:
                return None
            _vb.sleep(5)

    recv = read

    def readinto(self, buf, n=None):
        want = len(buf) if not n else min(n, len(buf))
        data = self.read(want)
        if data is None:
            return None
        buf[:len(data)] = data
        return len(data)

    def close(self):
        if self._id is not None:
            _vb.net_close(self._id)
            self._id = None

    def _events(self, mask):
        if self._id is None:
            return POLLHUP
        st = _vb.net_status(self._id)
        if st < 0:
            return POLLERR | POLLHUP
        ev = 0
        if st == 1 and mask & POLLOUT:
            ev |= POLLOUT
        if mask & POLLIN and _vb.net_peek(self._id) != 0:
            ev |= POLLIN
        return ev
