# The SIA DC-09 report path (proto/dc09.py): ADM-CID reports to an alarm receiver - a
# monitoring company's receiver, or Home Assistant's SIA integration - over TCP or UDP.
#
# Stop and wait, one message at a time, oldest report first (the receiver sees them in order):
#   send -> the receiver's answer within REPLY_MS:
#     ACK for this DC-09 seq (encrypted "*ACK" when we encrypt) -> delivered (5.5.3.1); nothing
#         else ever marks a report delivered;
#     NAK with the receiver's time -> our timestamps were out of its window (5.5.3.2): the
#         offset to its clock is kept and the message sent again at once (at most NAK_RESENDS
#         times in a row);
#     DUH (5.5.3.3), a bad answer, an ACK for another seq, silence, a refused or dropped
#         connection -> logged, sent again after RETRY_MS[n] (5 s doubling to 60 s).
#   FAIL_ATTEMPTS failures in a row take the path down (`up` False) and call on_link(False, now)
#   once; the next ACK brings it up and calls on_link(True, now) (comms/routes.py turns these
#   into the path's comm trouble 350 and its restore: the trouble goes out on the other paths).
#   With nothing to send, a NULL message (the link test, 5.5.2.1) every ping interval, counted
#   from the last message sent (5.5.2) and acknowledged like a report.
# A repeat keeps its DC-09 seq; each new message takes the next one (0001-9999, 5.5.1.5).
# Every wait has a deadline; poll() never blocks. Idle (nothing pending, no ping due) it
# allocates nothing.
import errno

from mimamori.compat import const, ticks_add, ticks_diff
from mimamori.comms import netio
from mimamori.comms.paths import Path
from mimamori.comms.resolve import Address
from mimamori.log import Logger
from mimamori.proto import dc09

NAME = "dc09"
CONNECT_MS = const(10000)       # TCP connect
REPLY_MS = const(10000)         # the receiver's ACK/NAK/DUH after our last byte
RETRY_MS = (5000, 10000, 20000, 40000, 60000)
FAIL_ATTEMPTS = const(3)        # failures in a row before the path is down (trouble)
NAK_RESENDS = const(3)          # NAKs in a row resent at once before it counts as a failure
RX_MAX = const(512)             # longest answer kept while waiting for its <CR>
PLAUSIBLE_FROM = 1735689600     # 2025-01-01: an RTC before this is unset (io/clock.py)

IDLE = const(0)
RESOLVING = const(1)
CONNECTING = const(2)
WAITING = const(3)              # frame sent (or being sent), waiting for the answer


class Dc09Path(Path):
    def __init__(self, journal, cfg, wall, aes=None, wlan=None, log=None, rand=None):
        """cfg: validated comms.dc09 (store/config_comms.py); wall(): Unix seconds (UTC) or None
        while the RTC is unset; aes: cryptolib.aes (needed when cfg has a key); rand(n): n
        random bytes (os.urandom) for the encryption pad."""
        Path.__init__(self, NAME, journal, cfg["ack_deadline_s"] * 1000)
        self.cfg = cfg
        self.host = cfg["host"]
        self.port = cfg["port"]
        self.udp = cfg["protocol"] == "udp"
        self.account = cfg["account"]
        self.key = key_bytes(cfg)
        self.aes = aes
        self.wall = wall
        self.wlan = wlan
        self.log = Logger.wrap(log)
        self._rand = rand
        self.ping_ms = cfg["ping_interval_s"] * 1000
        self.on_link = None             # f(ok, now): the link went down / came back up
        self.up = None                  # unknown until the first exchange
        self.state = IDLE
        self.sent = 0                   # frames put on the wire (repeats included)
        self.acked = 0
        self._sock = None
        self._reused = False
        self._poller = None
        # where to send: an IP address as given, a host name looked up without blocking
        # (the Wi-Fi's DNS server) and kept for its TTL (comms/resolve.py)
        self._where = Address(self.host, self.port, None, wlan)
        self._seq = 0                   # DC-09 seq of the last new message
        self._cur = None                # journal seq in flight, or 0 for a NULL
        self._frame = None
        self._tx = None                 # what is left of the frame to write (TCP)
        self._rx = bytearray()
        self._buf = bytearray(128)
        self._t_state = 0
        self._retry_at = None
        self._fails = 0
        self._naks = 0
        self._last_tx = None            # ticks of the last frame sent (the ping interval)
        self._skew = 0                  # receiver's clock - ours, seconds (from a NAK)
        self._base = None               # (unix, ticks) from a NAK while our RTC is unset
        self._now = 0

    # --- the loop -----------------------------------------------------------------------------
    def poll(self, now):
        self._now = now
        try:
            if self.state == IDLE:
                self._idle(now)
            elif self.state == RESOLVING:
                if self._where.poll(now):       # OSError when the lookup failed
                    self._connect(now)
            elif self.state == CONNECTING:
                self._connecting(now)
            else:
                self._waiting(now)
        except OSError as e:
            self._failed(now, "network error %s" % (e.args[0] if e.args else e,))
        except dc09.Dc09Error as e:
            self._failed(now, str(e))

    def _idle(self, now):
        if self._retry_at is not None and ticks_diff(now, self._retry_at) < 0:
            return
        if self.box:
            self._start(self.box[0], now)
        elif self.ping_ms and (self._last_tx is None or
                               ticks_diff(now, self._last_tx) >= self.ping_ms):
            self._start(0, now)

    def _start(self, seq, now):
        """Put journal seq `seq` (0: a NULL link test) on the wire."""
        if self.key is not None and self.aes is None:
            # never in the clear when a key is configured: the path stays down (trouble 350)
            self._cur = seq
            self._failed(now, "comms.dc09.key: this build has no cryptolib (AES)")
            return
        if seq != self._cur:
            self._cur = seq
            self._seq = dc09.next_seq(self._seq)
            self._naks = 0
        try:
            self._frame = self._build(seq)
        except (dc09.Dc09Error, ValueError) as e:
            # Not encodable as ADM-CID: the other paths still carry it; never again here.
            self.log.error("dc09: seq %d not sent by DC-09: %s", seq, e)
            self.ack(seq)
            self._cur = None
            return
        if not self._where.fresh(now):
            self._where.start(netio.socket_module(), now, self._seq)
            self._set(RESOLVING, now)
        elif self._sock is None:
            self._connect(now)
        else:
            self._reused = True         # the connection of the previous exchange
            self._send(now)

    def _build(self, seq):
        c = self.cfg
        ts = self._time()
        if seq:
            got = self.journal.get(seq)
            if got is None:
                raise dc09.Dc09Error("journal seq %d gone" % seq)
            token, data = dc09.ADM_CID, dc09.from_event(got[0], self.account)
        else:
            token, data = dc09.NULL, ""
        if self.key is None:
            return dc09.message(token, self._seq, self.account, data, c["receiver"],
                                c["prefix"], ts)
        if ts is None:
            ts = PLAUSIBLE_FROM     # no clock at all yet: the receiver's NAK brings its time
        return dc09.message(token, self._seq, self.account, data, c["receiver"], c["prefix"],
                            ts, self.aes, self.key, self._pad())

    def _pad(self):
        raw = self._rand(16) if self._rand is not None else bytes(16)
        out = ""
        for b in raw:
            out += dc09._PAD[b % len(dc09._PAD)]
        return out

    def _time(self):
        """Unix seconds for the timestamp: our RTC plus the receiver's offset, else the time a
        NAK told us, else None (the timestamp is left out of a clear message)."""
        t = self.wall()
        if t is not None:
            return t + self._skew
        if self._base is not None:
            return self._base[0] + ticks_diff(self._now, self._base[1]) // 1000
        return None

    # --- transport ----------------------------------------------------------------------------
    def _connect(self, now):
        socket = netio.socket_module()
        if self.udp:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            self._sock = s
            self._send(now)
            return
        self._sock, self._poller = netio.dial(self._where.addr)
        self._set(CONNECTING, now)

    def _connecting(self, now):
        if netio.connected(self._poller):
            self._poller = None
            self._send(now)
            return
        if ticks_diff(now, self._t_state) > CONNECT_MS:
            raise OSError(errno.ETIMEDOUT)

    def _send(self, now):
        self._rx[:] = b""
        if self.udp:
            self._sock.sendto(self._frame, self._where.addr)
        else:
            self._tx = memoryview(self._frame)
            self._write()
        self.sent += 1
        self._last_tx = now
        self._set(WAITING, now)

    def _write(self):
        if self._tx is None or not len(self._tx):
            return
        n = netio.write(self._sock, self._tx)   # None: not now (a platform's busy errno)
        if n:
            self._tx = self._tx[n:]

    def _waiting(self, now):
        s = self._sock
        if self.udp:
            try:
                data, _addr = s.recvfrom(RX_MAX)
            except OSError as e:
                if e.args[0] not in netio.BUSY:
                    raise
                data = None
            if data:
                self._rx[:] = data
                if self._answer(self._rx, now):
                    return
        else:
            self._write()
            n = netio.readinto(s, self._buf)
            if n == 0:
                raise OSError(errno.ECONNRESET)      # the receiver closed the connection
            if n:
                self._rx.extend(memoryview(self._buf)[:n])
                if len(self._rx) > RX_MAX:
                    raise dc09.Dc09Error("answer: longer than %d bytes" % RX_MAX)
                end = self._rx.find(b"\r")
                while end >= 0:
                    frame = self._rx[:end + 1]
                    self._rx[:end + 1] = b""
                    if self._answer(frame, now):
                        return
                    end = self._rx.find(b"\r")
        if ticks_diff(now, self._t_state) > REPLY_MS:
            self._failed(now, "no answer within %d s" % (REPLY_MS // 1000))

    # --- the answer ---------------------------------------------------------------------------
    def _answer(self, raw, now):
        """One answer frame. True when it settled the message in flight (delivered, failed or
        sent again), False when it was a late answer to an earlier message (ignored)."""
        r = dc09.parse_reply(raw, self.aes, self.key)
        what = "seq %d" % self._cur if self._cur else "link test"
        if r.token in (dc09.ACK, dc09.DUH) and r.seq != self._seq:
            # a late answer to an earlier message (UDP, or a repeat the receiver answered
            # twice): not this message's; keep waiting for its own
            self.log.info("dc09: answer %s %04d ignored while waiting for %04d",
                          r.token, r.seq, self._seq)
            return False
        if r.token == dc09.NAK:
            if r.ts is None:
                raise dc09.Dc09Error("NAK without the receiver's time")
            self._naks += 1
            mine = self.wall()
            if mine is not None:
                self._skew = r.ts - mine
            else:
                self._base = (r.ts, now)
            self.log.warn("dc09: NAK for %s: timestamp out of the receiver's window; its "
                          "clock is %d s from ours", what, self._skew)
            if self._naks > NAK_RESENDS:
                self._failed(now, "NAK %d times in a row" % self._naks)
                return True
            self._frame = self._build(self._cur)
            self._send(now)
            return True
        if r.token == dc09.DUH:
            self._failed(now, "DUH: the receiver cannot process %s" % what)
            return True
        if r.token != dc09.ACK or r.encrypted != (self.key is not None) or \
                (r.account is not None and r.account.upper() != self.account):
            self._failed(now, "answer is not the ACK of %s (%s%s %04d)" % (
                what, "*" if r.encrypted else "", r.token, r.seq))
            return True
        # The ACK of this message: delivered end to end.
        self.acked += 1
        seq = self._cur
        self._cur = None
        self._fails = 0
        self._naks = 0
        self._retry_at = None
        self._set(IDLE, now)
        if not self.udp and len(self.box) <= (1 if seq else 0):
            self._close()       # nothing more to say: a receiver may drop idle connections
        if not self.up:
            was = self.up
            self.up = True
            if was is False:
                self.log.info("dc09: receiver %s:%d answers again", self.host, self.port)
            if self.on_link is not None:
                self.on_link(True, now)
        if seq:
            self.delivered(seq, now)
        return True

    def _failed(self, now, why):
        reused = self._reused
        self._close()
        if reused and not self.udp and self._cur is not None and self.state == WAITING and \
                not self._rx:
            # A kept connection the receiver had closed meanwhile: dial again now, no failure.
            self._reused = False
            self._set(IDLE, now)
            return
        self._fails += 1
        self._where.expire(now)         # a name may point elsewhere now: look it up again
        n = self._fails - 1
        wait = RETRY_MS[n if n < len(RETRY_MS) else len(RETRY_MS) - 1]
        self._retry_at = ticks_add(now, wait)
        self._set(IDLE, now)
        self.log.warn("dc09: %s to %s:%d failed: %s; again in %d s" % (
            "seq %d" % self._cur if self._cur else "link test", self.host, self.port, why,
            wait // 1000))
        if self._fails >= FAIL_ATTEMPTS and self.up is not False:
            self.up = False
            self.log.error("dc09: receiver %s:%d down after %d attempts", self.host, self.port,
                           self._fails)
            if self.on_link is not None:
                self.on_link(False, now)

    def _close(self):
        self._where.close()
        self._sock = netio.close(self._sock)
        self._reused = False
        self._poller = None
        self._tx = None

    def _set(self, state, now):
        self.state = state
        self._t_state = now


def key_bytes(cfg):
    """The AES key of validated comms.dc09, or None (clear). key_format "text": the key's
    characters are the key bytes (pysiaalarm, Home Assistant); "hex": two digits per byte."""
    k = cfg["key"]
    if k is None:
        return None
    return k.encode() if cfg["key_format"] == "text" else dc09.unhex(k)


def cipher():
    """MicroPython's cryptolib.aes (builds with ssl); None where there is none."""
    try:
        import cryptolib
    except ImportError:
        try:
            import ucryptolib as cryptolib
        except ImportError:
            return None
    return cryptolib.aes


def make(cfg, journal, wall, wlan=None, log=None):
    """The path from validated comms.dc09 and the app's wall clock (io/clock.py WallClock)."""
    aes = cipher() if cfg["key"] is not None else None
    try:
        from os import urandom
    except ImportError:
        urandom = None
    return Dc09Path(journal, cfg, wall.unix, aes, wlan, log, urandom)
