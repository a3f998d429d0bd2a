# Silicon Labs ISOmodem (Si2457 / Si2493 class, with the Si3018 line-side DAA) on a UART, in
# V.253 voice mode, driven by AT commands only, as AN93 section 8.2.1 ("Implementing the Ademco
# Contact ID Protocol", Tables 144 and 145) lays out:
#   - the 2300 Hz and 1400 Hz tone detectors are loaded once after reset (AT*y254:w... writes,
#     AN93 Table 145 steps 1-2) and Ademco mode is switched on (U-register AD bit 6 set, bit 7 -
#     SIA mode - cleared);
#   - per call: AT+FCLASS=8 (voice mode), AT+VLS=15 (off-hook, tone detection on), the 1400 Hz
#     detector set for the 100 ms handshake burst (AT:U181,...), DTMF timing for data tones
#     (AT+VTD on time in 10 ms units, U48 off time in ms, hex), ATDT<number>;
#   - the detectors report a valid burst at its END as a shielded code: <DLE>c for 1400 Hz,
#     <DLE>e for 2300 Hz (0x10 0x63 / 0x10 0x65);
#   - after the handshake the 1400 Hz detector is set for the kissoff burst (AT:U181,...);
#   - each message is one AT+VTS=<k>,<k>,... (the modem answers OK once the tones are out);
#   - ATH hangs up.
# Call progress arrives as result codes: BUSY, NO DIALTONE, NO CARRIER (loop current lost: the
# line was cut or the far end hung up), NO ANSWER; V.253's <DLE>b (busy) is taken as BUSY too.
#
# Assumptions (AN93's text is terse; see README "Landline (Contact ID)"): AT:U181,<a>,<b>,<c>,<d>
# writes four consecutive U-registers from 0x181, of which the first is the burst's nominal length
# and the last its tolerance, both in ms, hex (AN93's "0x334 ... 0x12C" = 820 +- 300 ms for the
# kissoff; "0x78 ... 0x1C" = 120 +- 28 ms for the handshake); ATD in voice mode returns OK once
# the number is dialled and the modem keeps watching call progress.
#
# Non-blocking: poll() takes only what uart.any() says is there, parses it, and returns one event
# at a time. Nothing here waits; the caller (comms/dialer.py) keeps every deadline. With no bytes
# waiting, poll() allocates nothing. The UART object is given (drivers get hardware objects).
from mimamori.compat import const

DLE = const(0x10)
CR = const(0x0D)
LF = const(0x0A)

# Events returned by poll().
EV_NONE = const(0)
EV_OK = const(1)
EV_ERROR = const(2)
EV_BUSY = const(3)
EV_NO_DIALTONE = const(4)
EV_NO_CARRIER = const(5)
EV_NO_ANSWER = const(6)
EV_TONE_1400 = const(7)     # <DLE>c: a valid 1400 Hz burst ended (handshake part 1 / kissoff)
EV_TONE_2300 = const(8)     # <DLE>e: a valid 2300 Hz burst ended (handshake part 2)
EV_RING = const(9)
EVENT_NAMES = ("none", "ok", "error", "busy", "no_dialtone", "no_carrier", "no_answer",
               "tone_1400", "tone_2300", "ring")

RESULTS = {
    b"OK": EV_OK,
    b"ERROR": EV_ERROR,
    b"BUSY": EV_BUSY,
    b"NO DIALTONE": EV_NO_DIALTONE,
    b"NO DIAL TONE": EV_NO_DIALTONE,
    b"NO CARRIER": EV_NO_CARRIER,
    b"NO ANSWER": EV_NO_ANSWER,
    b"RING": EV_RING,
}
SHIELDED = {
    0x63: EV_TONE_1400,     # 'c'
    0x65: EV_TONE_2300,     # 'e'
    0x62: EV_BUSY,          # 'b' V.253 busy
}

# Once after reset (AN93 Table 145 steps 1-3): 2300 Hz detector, 1400 Hz detector, echo off,
# Ademco tone reporting on (UAD bit 6), SIA mode off (UAD bit 7).
INIT = (
    "ATE0",
    "AT*y254:w8686,1AA,CCDF,C73B,C001,0",
    "AT*y254:w868B,1AA,D3D1,C39A,3FFF,DDD",
    "AT*y254:w8690,1AA,C34B,C35F,3FFF,54A0",
    "AT*y254:w8695,C,400",
    "AT*y254:w8697,7BE,E050,CC04,3FFF,345F",
    "AT*y254:w869C,7BE,BF39,CA8D,3FFF,37B5",
    "AT*y254:w86A1,C,300,C00,CCD",
    "AT*y254:w86A5,100,2A44,C480,C001,0",
    "AT*y254:w86AA,167,25BC,C22F,3FFF,EC95",
    "AT*y254:w86AF,167,303D,C21E,3FFF,BEF2",
    "AT*y254:w86B4,C,400",
    "AT*y254:w86B6,812,1E2F,C772,3FFF,D55F",
    "AT*y254:w86BB,939,3394,C6FC,3FFF,D345",
    "AT*y254:w86C0,1000,0,0,0,0",
    "AT*y254:w86C5,C,140,8C0,CCD",
    "AT:UAD|40",
    "AT:UAD&FF7F",
)
VOICE_MODE = "AT+FCLASS=8"
OFF_HOOK_LISTEN = "AT+VLS=15"
HANG_UP = "ATH"
_LINE_MAX = const(48)
_QUEUE = const(16)
_DIAL_CHARS = "0123456789*#,PTW"
_VTS_KEYS = "0123456789*#ABCD"


class ModemError(ValueError):
    pass


def burst_detector(nominal_ms, tolerance_ms):
    """AT command setting the 1400 Hz detector to report bursts of nominal +- tolerance ms."""
    return "AT:U181,%X,0,0,%X" % (nominal_ms, tolerance_ms)


def dtmf_timing(on_ms, off_ms):
    """AT commands for DTMF on time (+VTD, 10 ms units) and off time (U48, ms, hex)."""
    if on_ms % 10:
        raise ModemError("DTMF on time %d ms: +VTD has 10 ms steps" % on_ms)
    return ("AT+VTD=%d" % (on_ms // 10), "AT:U48,%X" % off_ms)


def dial(number):
    """ATDT<number>; only dialling characters, so nothing else reaches the modem's parser."""
    if not number:
        raise ModemError("receiver number is empty")
    for ch in number:
        if _DIAL_CHARS.find(ch) < 0:
            raise ModemError("receiver number %r: %r is not a dialling character" % (number, ch))
    return "ATDT" + number


def send_tones(keys):
    """AT+VTS with one DTMF key per parameter (V.253), at the timing set by dtmf_timing()."""
    out = "AT+VTS="
    for i in range(len(keys)):
        if _VTS_KEYS.find(keys[i]) < 0:
            raise ModemError("%r is not a DTMF key" % keys[i])
        out += keys[i] if i == 0 else "," + keys[i]
    return out


class IsoModem:
    def __init__(self, uart, log=None):
        self.uart = uart
        self.log = log or (lambda *a: None)
        self._line = bytearray(_LINE_MAX)
        self._n = 0
        self._dle = False
        self._q = bytearray(_QUEUE)
        self._head = 0
        self._count = 0
        self.info = None            # last line that was not a result code (e.g. a register read)
        self.sent = 0               # commands written (for the bench and the logs)

    def send(self, cmd):
        """Write one AT command line. The caller waits for its result through poll()."""
        self.uart.write(cmd.encode() + b"\r")
        self.sent += 1

    def flush(self):
        """Forget half-read input and queued events (before a new call)."""
        self._n = 0
        self._dle = False
        self._count = 0

    def poll(self):
        """Parse whatever the UART holds; return the next event (EV_NONE when there is none)."""
        u = self.uart
        if u.any():
            data = u.read(u.any())
            if data:
                for b in data:
                    self._feed(b)
        if not self._count:
            return EV_NONE
        ev = self._q[self._head]
        self._head = (self._head + 1) % _QUEUE
        self._count -= 1
        return ev

    def _push(self, ev):
        if self._count == _QUEUE:       # the caller stopped listening: drop the oldest
            self._head = (self._head + 1) % _QUEUE
            self._count -= 1
        self._q[(self._head + self._count) % _QUEUE] = ev
        self._count += 1

    def _feed(self, b):
        if self._dle:
            self._dle = False
            ev = SHIELDED.get(b)
            if ev is not None:
                self._push(ev)
            return
        if b == DLE:
            self._dle = True
            return
        if b == CR or b == LF:
            if self._n:
                line = bytes(self._line[:self._n])
                self._n = 0
                ev = RESULTS.get(line)
                if ev is not None:
                    self._push(ev)
                elif not line.startswith(b"AT"):    # an echo is not information
                    self.info = line
            return
        if self._n < _LINE_MAX:
            self._line[self._n] = b
            self._n += 1
