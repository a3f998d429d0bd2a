# Non-blocking socket calls with the platforms' quirks named once (mqtt_as's BUSY_ERRORS). Every
# link (comms/mqtt.py, and any other report path on a socket) reads and writes through these, so
# "not now" is told from "broken" in one place.
import errno

try:
    import select               # noqa: F401 - the links' poll(); tests swap it with socket
except ImportError:             # pragma: no cover
    import uselect as select    # noqa: F401

# "Not now" from a non-blocking socket call: EINPROGRESS from connect(), EAGAIN from a read or
# write that would block, ETIMEDOUT from the ESP32/ESP8266 stacks' non-blocking reads, and 118
# and 119, the numbers the ESP32 port raises from a non-blocking connect or read (lwIP errors
# through newlib's errno: EHOSTUNREACH, EINPROGRESS). None of them ends a session: the link's own
# deadlines judge whether the peer is still there.
BUSY = (errno.EINPROGRESS, errno.EAGAIN, errno.ETIMEDOUT, 118, 119)


def socket_module():
    # Imported when first needed: a build without networking can still import the links.
    try:
        import usocket as socket    # the MicroPython API (host: host_tests/fakes/usocket.py)
    except ImportError:             # a port without the u-alias
        import socket
    return socket


def dial(addr):
    """A TCP socket whose non-blocking connect to addr has started, and the poller that tells
    when it is done (connected()); a real failure raises OSError."""
    socket = socket_module()
    s = socket.socket()
    try:
        s.setblocking(False)
        try:
            s.connect(addr)
        except OSError as e:
            if e.args[0] not in BUSY:
                raise
    except OSError:
        s.close()
        raise
    p = select.poll()
    p.register(s, select.POLLOUT)
    return s, p


def connected(poller):
    """True once the connect dial() started has completed; OSError when it was refused."""
    ready = poller.poll(0)
    if ready:
        ev = ready[0][1]
        if ev & (select.POLLERR | select.POLLHUP):
            raise OSError(errno.ECONNREFUSED)
        if ev & select.POLLOUT:
            return True
    return False


def close(s):
    """Close a socket that may be broken already (None: nothing to close). Always None."""
    if s is not None:
        try:
            s.close()
        except OSError:
            pass


def write(s, buf):
    """Bytes the socket took now (0 or None: none), or OSError when the connection is broken."""
    try:
        return s.write(buf)
    except OSError as e:
        if e.args[0] not in BUSY:
            raise
        return None


def readinto(s, buf):
    """Bytes read now, None when nothing is there yet (or half a TLS record); 0: the peer closed."""
    try:
        return s.readinto(buf)
    except OSError as e:
        if e.args[0] not in BUSY:
            raise
        return None
