"""The test peer of io/modem.py: an ISOmodem in V.253 voice mode on the fake UART, and the line.

IsoModemEmulator speaks the AT dialogue the driver uses (echo until ATE0, verbose result codes,
<DLE>c / <DLE>e tone reports), turns each AT+VTS into 8 kHz DTMF audio at the commanded on/off
times (+VTD, U48), runs 1400 Hz / 2300 Hz burst detectors (Goertzel, 10 ms blocks, windows set
by AT:U181) on the audio coming back, and reports BUSY / NO DIALTONE / NO ANSWER / NO CARRIER
from the Line. Tone reports need what the real chip needs: Ademco mode on (AT:UAD|40), voice
mode, off-hook.

Line: what answers at each number ("busy", "no_answer", or a far end with rx(samples) /
tx(n) -> samples, e.g. spandsp's receiver), a cut line (no dial tone; or cut `cut_after_ms`
after the answer: NO CARRIER mid-call), white noise at `snr_db` relative to the DTMF power, and
a simulated audio clock. Time moves only by tick(ms); the test drives the clock, the emulator
and the firmware together. CPython only (it is a host-side peer).
"""
import math
import random
from array import array

RATE = 8000
BLOCK = 80                      # 10 ms: detector block and audio chunk
DTMF_AMP = 5000                 # per tone: about -13 dBm0 each, a usual panel level
DTMF_LOW = {"1": 697, "2": 697, "3": 697, "A": 697, "4": 770, "5": 770, "6": 770, "B": 770,
            "7": 852, "8": 852, "9": 852, "C": 852, "*": 941, "0": 941, "#": 941, "D": 941}
DTMF_HIGH = {"1": 1209, "4": 1209, "7": 1209, "*": 1209, "2": 1336, "5": 1336, "8": 1336,
             "0": 1336, "3": 1477, "6": 1477, "9": 1477, "#": 1477, "A": 1633, "B": 1633,
             "C": 1633, "D": 1633}
DIALTONE_WAIT_MS = 2000         # NO DIALTONE after this long without one
DIAL_DIGIT_MS = 100             # DTMF dialling, per digit
BUSY_REPORT_MS = 2000           # busy cadence heard this long -> BUSY
DLE = b"\x10"


class Line:
    def __init__(self, far_ends=None, answer_ms=3000, ring_out_ms=30000, snr_db=None, seed=1):
        self.far_ends = dict(far_ends or {})    # number -> "busy" | "no_answer" | far end
        self.answer_ms = answer_ms              # ringing before a far end answers
        self.ring_out_ms = ring_out_ms          # ringing before NO ANSWER
        self.snr_db = snr_db
        self.cut = False
        self.cut_after_ms = None                # cut this long after the next answer
        self.calls = []                         # numbers dialled, in order
        self.answered = []                      # far ends that answered, in order
        self._rng = random.Random(seed)
        self._sigma = 0.0
        if snr_db is not None:
            # A DTMF burst's power: two tones of amplitude A -> A^2/2 each.
            signal = DTMF_AMP * DTMF_AMP
            self._sigma = math.sqrt(signal / (10 ** (snr_db / 10.0)))

    def noise(self, samples):
        if not self._sigma:
            return samples
        g = self._rng.gauss
        s = self._sigma
        out = array("h", samples)
        for i in range(len(out)):
            v = out[i] + int(g(0.0, s))
            out[i] = 32767 if v > 32767 else (-32768 if v < -32768 else v)
        return out


class _Goertzel:
    def __init__(self, hz):
        self.coeff = 2.0 * math.cos(2.0 * math.pi * hz / RATE)

    def power(self, block):
        c = self.coeff
        s1 = s2 = 0.0
        for x in block:
            s0 = x + c * s1 - s2
            s2 = s1
            s1 = s0
        return s1 * s1 + s2 * s2 - c * s1 * s2


class _BurstDetector:
    """Reports a burst of one frequency at its end when its length is within the window."""

    def __init__(self, hz, nominal_ms, tol_ms):
        self.g = _Goertzel(hz)
        self.hz = hz
        self.set(nominal_ms, tol_ms)
        self.run = 0

    def set(self, nominal_ms, tol_ms):
        self.lo = nominal_ms - tol_ms
        self.hi = nominal_ms + tol_ms

    def feed(self, block, total):
        """total = the block's energy; returns the burst length (ms) when one ends in window."""
        p = self.g.power(block)
        # Goertzel power of a pure tone ~ (N/2)^2 * A^2/... ; compare to total energy * N / 2.
        hit = total > BLOCK * 200.0 ** 2 and p > 0.5 * total * BLOCK / 2.0
        if hit:
            self.run += 1
            return None
        if self.run:
            ms = self.run * 1000 * BLOCK // RATE
            self.run = 0
            if self.lo <= ms <= self.hi:
                return ms
        return None


class IsoModemEmulator:
    def __init__(self, uart, line):
        self.uart = uart
        self.line = line
        uart.attach_peer(self._on_bytes)
        self.t_ms = 0
        self.echo = True
        self.ademco = False
        self.voice = False
        self.off_hook = False
        self.on_ms = 100
        self.off_ms = 100
        self.det1400 = _BurstDetector(1400, 820, 300)
        self.det2300 = _BurstDetector(2300, 100, 30)
        self.log = []               # (ms, what) for the tests
        self.commands = []          # every command line received
        self.sent_audio = array("h")    # what the modem put on the line (before noise)
        self.heard_audio = array("h")   # what came back (after noise)
        self._rx = b""
        self._pending = []          # commands waiting for the one being executed
        self._busy_until = None     # a command in progress: (kind, ms, data)
        self._tones = array("h")    # DTMF audio still to send
        self._call = None           # None | "dialtone_wait" | "ringing" | "busy" | "up"
        self._call_t = 0
        self._far = None
        self._answered_at = None
        self._cache = {}

    # --- UART side -------------------------------------------------------------------------

    def _on_bytes(self, data):
        self._rx += data
        while b"\r" in self._rx:
            line, self._rx = self._rx.split(b"\r", 1)
            line = line.strip()
            if line:
                self._pending.append(line.decode())
        return None

    def _say(self, text):
        self.uart.peer_write(b"\r\n" + text.encode() + b"\r\n")
        self.log.append((self.t_ms, text))

    def _dle(self, code):
        self.uart.peer_write(DLE + code)
        self.log.append((self.t_ms, "<DLE>" + code.decode()))

    # --- commands ---------------------------------------------------------------------------

    def _run_commands(self):
        while self._pending and self._busy_until is None:
            cmd = self._pending.pop(0)
            self.commands.append(cmd)
            if self.echo:
                self.uart.peer_write(cmd.encode() + b"\r")
            self._execute(cmd)

    def _execute(self, cmd):
        up = cmd.upper()
        if not up.startswith("AT"):
            return self._say("ERROR")
        if up in ("ATE0", "ATE1"):
            self.echo = up == "ATE1"
            return self._say("OK")
        if up.startswith("AT*Y254:W"):
            return self._say("OK")
        if up == "AT:UAD|40":
            self.ademco = True
            return self._say("OK")
        if up == "AT:UAD&FF7F":
            return self._say("OK")
        if up == "AT+FCLASS=8":
            self.voice = True
            return self._say("OK")
        if up == "AT+VLS=15":
            if not self.voice:
                return self._say("ERROR")
            self.off_hook = True
            return self._say("OK")
        if up.startswith("AT:U181,"):
            parts = up[8:].split(",")
            self.det1400.set(int(parts[0], 16), int(parts[3], 16))
            return self._say("OK")
        if up.startswith("AT+VTD="):
            self.on_ms = int(up[7:]) * 10
            return self._say("OK")
        if up.startswith("AT:U48,"):
            self.off_ms = int(up[7:], 16)
            return self._say("OK")
        if up.startswith("ATDT") or up.startswith("ATD"):
            return self._dial(cmd[4:] if up.startswith("ATDT") else cmd[3:])
        if up.startswith("AT+VTS="):
            if not (self.voice and self.off_hook and self._call == "up"):
                return self._say("ERROR")
            keys = up[7:].split(",")
            for k in keys:
                if k not in DTMF_LOW:
                    return self._say("ERROR")
            self._tones = self._render(keys)
            self.log.append((self.t_ms, "VTS " + "".join(keys)))
            self._busy_until = ("vts", None, None)
            return None
        if up == "ATH" or up == "ATH0":
            self._hang_up()
            return self._say("OK")
        return self._say("ERROR")

    def _render(self, keys):
        out = array("h")
        on = self.on_ms * RATE // 1000
        off = array("h", bytes(2 * (self.off_ms * RATE // 1000)))
        for k in keys:
            key = (k, on)
            if key not in self._cache:
                lo, hi = DTMF_LOW[k], DTMF_HIGH[k]
                w1, w2 = 2 * math.pi * lo / RATE, 2 * math.pi * hi / RATE
                self._cache[key] = array("h", (int(DTMF_AMP * (math.sin(w1 * i) + math.sin(w2 * i)))
                                               for i in range(on)))
            out.extend(self._cache[key])
            out.extend(off)
        return out

    def _dial(self, number):
        self.off_hook = True
        self.line.calls.append(number)
        self._call_t = self.t_ms
        if self.line.cut:
            self._call = "dialtone_wait"
        else:
            self._call = "dialling"
            self._dial_done = self.t_ms + DIAL_DIGIT_MS * len(number)
            self._number = number
        self._busy_until = ("dial", None, None)

    def _hang_up(self):
        self.off_hook = False
        self._call = None
        self._far = None
        self._tones = array("h")
        self._busy_until = None

    # --- time -------------------------------------------------------------------------------

    def tick(self, ms):
        """Advance the emulator (and the line's audio) by ms, in 10 ms blocks."""
        for _ in range(ms // 10):
            self._run_commands()
            self.t_ms += 10
            self._progress()
            self._audio()
            self._run_commands()

    def _progress(self):
        c = self._call
        t = self.t_ms
        if c == "dialtone_wait" and t - self._call_t >= DIALTONE_WAIT_MS:
            self._call = None
            self.off_hook = False
            self._busy_until = None
            self._say("NO DIALTONE")
        elif c == "dialling" and t >= self._dial_done:
            self._busy_until = None
            self._say("OK")
            self._call_t = t
            far = self.line.far_ends.get(self._number, "no_answer")
            self._call = "busy" if far == "busy" else "ringing"
            self._far_spec = far
        elif c == "busy" and t - self._call_t >= BUSY_REPORT_MS:
            self._call = None
            self._say("BUSY")
        elif c == "ringing":
            if self._far_spec != "no_answer" and t - self._call_t >= self.line.answer_ms:
                self._call = "up"
                far = self._far_spec
                if isinstance(far, type) or not hasattr(far, "rx"):     # a factory: one per call
                    far = far()
                self._far = far
                self.line.answered.append(far)
                self._answered_at = t
                self.log.append((t, "answered"))
            elif t - self._call_t >= self.line.ring_out_ms:
                self._call = None
                self._say("NO ANSWER")
        elif c == "up" and self.line.cut_after_ms is not None and \
                t - self._answered_at >= self.line.cut_after_ms:
            self.line.cut = True
            self.line.cut_after_ms = None
            self._call = None
            self._far = None
            self._tones = array("h")
            self._busy_until = None
            self._say("NO CARRIER")

    def _audio(self):
        if self._call != "up" or self._far is None:
            return
        if self._tones:
            out = self._tones[:BLOCK]
            del self._tones[:BLOCK]
            if len(out) < BLOCK:
                out.extend(array("h", bytes(2 * (BLOCK - len(out)))))
            if not self._tones and self._busy_until and self._busy_until[0] == "vts":
                self._busy_until = None
                self._say("OK")
        else:
            out = array("h", bytes(2 * BLOCK))
        self.sent_audio.extend(out)
        self._far.rx(self.line.noise(out))
        back = self.line.noise(self._far.tx(BLOCK))
        self.heard_audio.extend(back)
        self._detect(back)

    def _detect(self, block):
        if not (self.ademco and self.voice and self.off_hook):
            return
        total = 0.0
        for x in block:
            total += x * x
        if self.det1400.feed(block, total) is not None:
            self._dle(b"c")
        if self.det2300.feed(block, total) is not None:
            self._dle(b"e")


class Rig:
    """The firmware's landline stack (IsoModem driver + Dialer) on a fake UART, the emulator and
    a Line, moved together in 10 ms steps of virtual time."""

    def __init__(self, line, numbers=("0120000001",), account="1234", **dialer_kw):
        import hostclock
        import machine
        from mimamori.comms.dialer import Dialer
        from mimamori.io.modem import IsoModem
        hostclock.use_virtual(0)
        self.hostclock = hostclock
        self.uart = machine.UART(2, baudrate=115200)
        self.line = line
        self.emu = IsoModemEmulator(self.uart, line)
        self.logs = []
        self.modem = IsoModem(self.uart, log=self.logs.append)
        self.dialer = Dialer(self.modem, list(numbers), account, log=self.logs.append,
                             **dialer_kw)
        self.delivered = []         # (seq, ms)
        self.outcomes = []          # (outcome, number, ms)
        self.dialer.on_delivered = lambda seq: self.delivered.append((seq, self.now))
        self.dialer.on_outcome = lambda o, n: self.outcomes.append((o, n, self.now))

    @property
    def now(self):
        return self.hostclock.clock.now_ms

    def step(self):
        self.hostclock.clock.advance(10)
        self.emu.tick(10)
        self.dialer.poll(self.hostclock.ticks_ms())

    def run(self, ms, until=None):
        end = self.now + ms
        while self.now < end:
            self.step()
            if until is not None and until():
                return True
        return False

    def settle(self, ms):
        """Run until the dialer is idle with nothing queued (or ms passed)."""
        d = self.dialer
        return self.run(ms, lambda: not d.in_call and not d.pending())
