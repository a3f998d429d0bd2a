# Fake `machine` that behaves like MicroPython's ESP32 port (checked against ports/esp32 of
# MicroPython 1.2x: machine_pin.c, machine_timer.c, machine_wdt.c, modmachine.c). Plain Python that
# also runs inside the real MicroPython interpreter (which has no `machine` of its own there).
#
# Where the port behaves in a surprising way, so does this fake, because firmware must cope:
# - Pin objects are singletons per GPIO (Pin(4) is Pin(4)); OUT is input+output, so value() reads
#   the driven level back. GPIO34-39 are input only (OUT -> ValueError "pin can only be input")
#   and have no internal pulls (a pull request is silently ignored, the input floats). The fake
#   is an ESP32 unless reset_all("esp32s3") makes it an ESP32-S3 (pads 0-21, 26-48, all with
#   output and pulls).
# - Pin.irq(handler=None, trigger=IRQ_FALLING|IRQ_RISING, wake=None): no `hard` argument
#   (TypeError). On the port the handler is always soft: the GPIO ISR schedules it with
#   mp_sched_schedule. Here it runs synchronously inside the test's pin.drive(), i.e. as if the
#   scheduler ran it at once; while `disable_irq()` is in force or the test holds the scheduler
#   (`hold_scheduler()`), calls queue up to SCHEDULER_DEPTH and the rest are DROPPED, as the port
#   drops them when its schedule queue is full (counted in `dropped_irqs`).
# - Timer callbacks are soft as well (hard=True -> ValueError); they fire from the host clock as
#   virtual time advances (hostclock.VirtualClock waiters).
# - WDT(id=0, timeout=5000): id must be 0, timeout below 1000 ms -> ValueError (the port works in
#   whole seconds); it cannot be stopped. Not fed in time -> a reset is recorded in `resets`,
#   the board halts (timers and pin IRQs stop) and reset_cause() returns WDT_RESET.
# - reset() never returns on a board: here it records the reset and raises BoardReset (a
#   BaseException, so firmware's `except Exception` cannot swallow it). After esp_restart() the
#   port reports SOFT_RESET. deepsleep() records and raises BoardReset (DEEPSLEEP_RESET next).
#   soft_reset() raises SystemExit as the port does.
#
# Test-side API (not on the board): pins[n] (registry by GPIO number), Pin.drive(level),
# Pin.release(), Pin.irq_handler; ADC.set_uv(); UART.peer_write/peer_read/attach_peer;
# i2c_attach() (register or stream devices), i2c_detach(); SPI.peer; resets, sleeps,
# dropped_irqs; hold_scheduler()/release_scheduler();
# reboot() (boot again after a recorded reset, keeping the cause); reset_all() (fresh board,
# power-on).
import hostclock

# --- reset causes and wake constants (modmachine.c) ---
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
SLEEP = 2
DEEPSLEEP = 4

SCHEDULER_DEPTH = 8         # MICROPY_SCHEDULER_DEPTH on the ESP32 port
_FREQS = (20000000, 40000000, 80000000, 160000000, 240000000)
# The chips this fake can be (reset_all("esp32s3")), from their datasheets: the GPIO pads, the
# input-only pads (no output, no internal pulls) and the ADC1/ADC2 pads. The ESP32 is the default.
_CHIPS = {
    "esp32": (tuple(range(0, 20)) + (21, 22, 23, 25, 26, 27) + tuple(range(32, 40)),
              (34, 35, 36, 37, 38, 39),
              (32, 33, 34, 35, 36, 37, 38, 39, 0, 2, 4, 12, 13, 14, 15, 25, 26, 27)),
    # ESP32-S3: pads 0-21 and 26-48, every one can drive and has pulls; ADC on GPIO1-20.
    "esp32s3": (tuple(range(0, 22)) + tuple(range(26, 49)), (), tuple(range(1, 21))),
}
chip = "esp32"
_VALID_GPIO, _INPUT_ONLY, _ADC_GPIO = _CHIPS[chip]
_UNIQUE_ID = b"\x24\x0a\xc4\x5a\x17\x30"     # Espressif OUI; the STA MAC is this base MAC


class BoardReset(BaseException):
    """The board reset (machine.reset(), deepsleep()): code after it never runs on a board."""


# --- board state (reset_all() / reboot() rebuild it) ---
pins = {}
uarts = {}
i2c_devices = {}            # bus id -> {addr: {register: byte}}
resets = []                 # [(cause, now_ms)], e.g. (WDT_RESET, 12000)
sleeps = []                 # [("light" | "deep", ms)]
dropped_irqs = 0
halted = False              # True after a recorded reset until reboot()
_timers = []
_wdt = None
_cause = PWRON_RESET
_freq = 160000000
_irq_depth = 0              # disable_irq() nesting
_held = False               # scheduler held by the test
_pending = []               # queued soft callbacks: (fn, arg)
_rtc_base = None            # RTC: (seconds since 2000 at set time, clock ms at set time, us)
_rtc_memory = b""


def _clock():
    return hostclock.clock


def _now():
    return hostclock.clock.now_ms


def _soft_call(fn, arg):
    """Run a soft callback as the port's scheduler would: now, or queued while blocked."""
    global dropped_irqs
    if halted:
        return
    if _irq_depth or _held:
        if len(_pending) >= SCHEDULER_DEPTH:
            dropped_irqs += 1
            return
        _pending.append((fn, arg))
        return
    fn(arg)


def _run_pending():
    while _pending and not (_irq_depth or _held or halted):
        fn, arg = _pending.pop(0)
        fn(arg)


def hold_scheduler():
    """Test API: the main task is stuck in a blocking C call; soft callbacks wait (and drop)."""
    global _held
    _held = True


def release_scheduler():
    global _held
    _held = False
    _run_pending()


def _board_reset(cause):
    """Record a reset: everything stops until reboot()."""
    global halted, _cause
    resets.append((cause, _now()))
    _cause = cause
    halted = True
    for t in list(_timers):
        t.deinit()
    global _wdt
    if _wdt is not None:
        _clock().remove_waiter(_wdt)
        _wdt = None


def _fresh_board():
    global pins, uarts, dropped_irqs, halted, _timers, _wdt, _irq_depth, _held, _pending, _freq
    for t in list(_timers):
        t.deinit()
    if _wdt is not None:
        _clock().remove_waiter(_wdt)
    pins = {}
    uarts = {}
    dropped_irqs = 0
    halted = False
    _timers = []
    _wdt = None
    _irq_depth = 0
    _held = False
    _pending = []
    _freq = 160000000


def reboot():
    """Test API: boot again after a recorded reset. reset_cause() keeps the last cause; RTC time
    and RTC memory survive (as on the chip); pins, timers, IRQs and the WDT are fresh."""
    _fresh_board()


def reset_all(chip_name="esp32"):
    """Test API: a fresh board at power-on (PWRON_RESET, empty records, RTC at 2000-01-01), with
    the chip `chip_name` ("esp32" or "esp32s3")."""
    global _cause, _rtc_base, _rtc_memory, resets, sleeps, i2c_devices
    global chip, _VALID_GPIO, _INPUT_ONLY, _ADC_GPIO
    chip = chip_name
    _VALID_GPIO, _INPUT_ONLY, _ADC_GPIO = _CHIPS[chip_name]
    _fresh_board()
    _cause = PWRON_RESET
    _rtc_base = None
    _rtc_memory = b""
    resets = []
    sleeps = []
    i2c_devices = {}


# --- module functions ---

def reset_cause():
    return _cause


def reset():
    _board_reset(SOFT_RESET)    # esp_restart() -> SW_RESET, which the port reports as SOFT_RESET
    raise BoardReset("machine.reset()")


def soft_reset():
    raise SystemExit


def unique_id():
    return _UNIQUE_ID


def freq(hz=None):
    global _freq
    if hz is None:
        return _freq
    if hz not in _FREQS:
        raise ValueError("frequency must be 20MHz, 40MHz, 80Mhz, 160MHz or 240MHz")
    _freq = hz


def idle():
    return None


def disable_irq():
    global _irq_depth
    _irq_depth += 1
    return _irq_depth - 1


def enable_irq(state=0):
    global _irq_depth
    _irq_depth = state if state >= 0 else 0
    _run_pending()


def lightsleep(time_ms=None):
    """Records the sleep; the clock moves on by time_ms. The task watchdog's timer group is
    clock-gated in light sleep, so the WDT deadline moves with it."""
    sleeps.append(("light", time_ms))
    if time_ms:
        if _wdt is not None:
            _wdt._deadline += time_ms
        _clock().advance(time_ms)


sleep = lightsleep


def deepsleep(time_ms=None):
    sleeps.append(("deep", time_ms))
    _board_reset(DEEPSLEEP_RESET)
    raise BoardReset("machine.deepsleep()")


# --- Pin ---

_KEEP = object()


class _PinIRQ:
    def __init__(self, pin):
        self._pin = pin

    def __call__(self):
        h = self._pin.irq_handler
        if h is not None:
            _soft_call(h, self._pin)

    def trigger(self, value=None):
        old = self._pin.irq_trigger
        if value is not None:
            self._pin.irq_trigger = value
        return old


class Pin:
    IN = 1
    OUT = 3                 # GPIO_MODE_INPUT_OUTPUT: value() reads the pin back
    OPEN_DRAIN = 7
    PULL_DOWN = 1
    PULL_UP = 2
    IRQ_RISING = 1
    IRQ_FALLING = 2
    WAKE_LOW = 4
    WAKE_HIGH = 5
    DRIVE_0 = 0
    DRIVE_1 = 1
    DRIVE_2 = 2
    DRIVE_3 = 3

    def __new__(cls, id, *args, **kw):
        p = pins.get(id)
        if p is None:
            if not isinstance(id, int) or id not in _VALID_GPIO:
                raise ValueError("invalid pin")
            p = object.__new__(cls)
            p.id = id
            p.mode = None
            p.pull = None
            p.out_level = 0
            p.ext = None            # level driven from outside (test), None: not driven
            p.drive_cap = None
            p.hold = False
            p.irq_handler = None
            p.irq_trigger = 0
            p._irq = _PinIRQ(p)
            p._level = 0
            p.analog_uv = 0         # voltage at the pin for an ADC (test: ADC.set_uv)
            pins[id] = p
        return p

    def __init__(self, id, mode=_KEEP, pull=_KEEP, value=None, drive=None, hold=None):
        if mode is not _KEEP or pull is not _KEEP or value is not None or drive is not None \
                or hold is not None:
            self.init(None if mode is _KEEP else mode, pull, value=value, drive=drive, hold=hold)

    def init(self, mode=None, pull=_KEEP, value=None, drive=None, hold=None):
        if value is not None:
            self.out_level = 1 if value else 0
        if drive is not None:
            self.drive_cap = drive
        if mode is not None:
            if mode not in (Pin.IN, Pin.OUT, Pin.OPEN_DRAIN):
                raise ValueError("invalid pin mode")
            if self.id in _INPUT_ONLY and mode & 2:
                raise ValueError("pin can only be input")
            self.mode = mode
        if pull is not _KEEP and pull != -1:
            self.pull = pull
        if hold is not None and self.id not in _INPUT_ONLY:
            self.hold = bool(hold)
        self._update()

    def _resolve(self):
        if self.mode == Pin.OUT:
            return self.out_level
        if self.mode == Pin.OPEN_DRAIN and self.out_level == 0:
            return 0
        if self.ext is not None:
            return self.ext
        if self.id not in _INPUT_ONLY:          # ESP32 GPIO34-39: no pull resistors
            if self.pull == Pin.PULL_UP:
                return 1
            if self.pull == Pin.PULL_DOWN:
                return 0
        return 0                                # floating: reads low here (noise on a board)

    def _update(self):
        old = self._level
        new = self._resolve()
        self._level = new
        if new != old and self.irq_handler is not None:
            edge = Pin.IRQ_RISING if new else Pin.IRQ_FALLING
            if self.irq_trigger & edge:
                _soft_call(self.irq_handler, self)

    def value(self, v=None):
        if v is None:
            return self._level
        self.out_level = 1 if v else 0
        self._update()

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.out_level = 1
        self._update()

    def off(self):
        self.out_level = 0
        self._update()

    def toggle(self):
        self.out_level = 1 - self.out_level
        self._update()

    def irq(self, handler=_KEEP, trigger=3, wake=None):
        # The port configures the IRQ whenever any argument is given (handler None disables it);
        # irq() with none only returns the IRQ object.
        if handler is _KEEP:
            if trigger == 3 and wake is None:
                return self._irq
            handler = None
        self.irq_handler = handler
        self.irq_trigger = trigger if handler is not None else 0
        return self._irq

    def __repr__(self):
        return "Pin(%d)" % self.id

    # test side: the world outside the chip
    def drive(self, level):
        """Test API: something outside drives the pin (a contact, a sensor's output)."""
        self.ext = 1 if level else 0
        self._update()

    def release(self):
        """Test API: stop driving; the pin follows its pull (or floats)."""
        self.ext = None
        self._update()


class Signal:
    def __init__(self, pin, *args, invert=False):
        if not isinstance(pin, Pin):
            pin = Pin(pin, *args)
        self._pin = pin
        self._inv = 1 if invert else 0

    def value(self, v=None):
        if v is None:
            return self._pin.value() ^ self._inv
        self._pin.value((1 if v else 0) ^ self._inv)

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


# --- Timer ---

class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id, mode=None, period=None, callback=None, freq=None, hard=False,
                 tick_hz=1000):
        if id != -1 and not 0 <= id < 4:
            raise ValueError("invalid Timer number, max 4")
        self.id = id
        self.mode = None
        self.period = None
        self.callback = None
        self._due = None
        self._clk = None
        if mode is not None or period is not None or callback is not None or freq is not None:
            self.init(mode=Timer.PERIODIC if mode is None else mode, period=period,
                      callback=callback, freq=freq, hard=hard, tick_hz=tick_hz)

    def init(self, mode=1, period=None, callback=None, freq=None, hard=False, tick_hz=1000):
        self.deinit()
        if hard:
            raise ValueError("hard Timers are not implemented")
        if freq is not None:
            period_ms = 1000 // freq if freq else 0
        elif period is None:
            period_ms = 0xFFFFFFFF
        else:
            period_ms = period * 1000 // tick_hz
        if period_ms < 1:
            # The port would interrupt continuously; a virtual clock would never move on.
            raise ValueError("period too small for the host fake (< 1 ms)")
        self.mode = mode
        self.period = period_ms
        self.callback = callback
        self._clk = _clock()
        self._due = self._clk.now_ms + period_ms
        self._clk.add_waiter(self)
        _timers.append(self)

    def deinit(self):
        if self._clk is not None:
            self._clk.remove_waiter(self)
            self._clk = None
        self._due = None
        if self in _timers:
            _timers.remove(self)

    def value(self):
        if self._due is None:
            raise ValueError("timer not set")
        return self.period - (self._due - _now())

    # hostclock waiter protocol
    def next_due_ms(self):
        return self._due

    def fire(self, now_ms):
        if self.mode == Timer.PERIODIC:
            self._due += self.period
        else:
            self.deinit()
        if self.callback is not None:
            _soft_call(self.callback, self)

    def __repr__(self):
        return "Timer(%d, mode=%s, period=%s)" % (
            self.id, "PERIODIC" if self.mode else "ONE_SHOT", self.period)


# --- WDT ---

class WDT:
    def __new__(cls, id=0, timeout=5000):
        global _wdt
        if id != 0:
            raise ValueError()
        if timeout < 1000:
            raise ValueError("WDT timeout too short")
        if _wdt is None:
            _wdt = object.__new__(cls)
            _wdt._clk = _clock()
            _wdt._clk.add_waiter(_wdt)
        _wdt.timeout = timeout // 1000 * 1000     # the port keeps whole seconds
        _wdt._deadline = _now() + _wdt.timeout
        return _wdt

    def __init__(self, id=0, timeout=5000):
        pass

    def feed(self):
        if self is _wdt:
            self._deadline = _now() + self.timeout

    def next_due_ms(self):
        return self._deadline if self is _wdt else None

    def fire(self, now_ms):
        if self is _wdt and now_ms >= self._deadline:
            _board_reset(WDT_RESET)


# --- UART ---

class UART:
    INV_TX = 1
    INV_RX = 2
    INV_RTS = 4
    INV_CTS = 8
    RTS = 1
    CTS = 2

    def __init__(self, id, baudrate=115200, bits=8, parity=None, stop=1, tx=None, rx=None,
                 rts=None, cts=None, txbuf=256, rxbuf=256, timeout=0, timeout_char=0,
                 invert=0, flow=0):
        if not 0 <= id < 3:
            raise ValueError("UART(%d) does not exist" % id)
        self.id = id
        self._rx = bytearray()
        self._tx = bytearray()
        self._peer = None
        self.overflows = 0
        self.rxbuf = 256
        self.init(baudrate, bits, parity, stop, tx=tx, rx=rx, rxbuf=rxbuf, timeout=timeout,
                  timeout_char=timeout_char)
        uarts[id] = self

    def init(self, baudrate=115200, bits=8, parity=None, stop=1, tx=None, rx=None, rts=None,
             cts=None, txbuf=256, rxbuf=256, timeout=0, timeout_char=0, invert=0, flow=0):
        if bits not in (5, 6, 7, 8) or stop not in (1, 1.5, 2) or parity not in (None, 0, 1):
            raise ValueError("invalid format")
        if tx is not None and not isinstance(tx, Pin):
            tx = Pin(tx)
        if rx is not None and not isinstance(rx, Pin):
            rx = Pin(rx)
        if tx is not None and tx.id in _INPUT_ONLY:
            raise ValueError("pin can only be input")
        self.baudrate = baudrate
        self.bits = bits
        self.parity = parity
        self.stop = stop
        self.tx = tx
        self.rx = rx
        self.rxbuf = rxbuf if rxbuf > 128 else 257   # the driver needs more than the 128 B FIFO
        self.timeout = timeout
        self.timeout_char = timeout_char

    def deinit(self):
        if uarts.get(self.id) is self:
            del uarts[self.id]

    def any(self):
        return len(self._rx)

    def _wait(self, enough):
        """Block like the port: up to `timeout` ms of (virtual) time until enough() is true."""
        if enough() or self.timeout <= 0:
            return
        end = _now() + self.timeout
        while not enough() and _now() < end:
            _clock().advance(1)

    def _take(self, n):
        out = bytes(self._rx[:n])
        self._rx = self._rx[n:]
        return out

    def read(self, nbytes=None):
        if nbytes is None:
            self._wait(lambda: len(self._rx) > 0)
            n = len(self._rx)
        else:
            self._wait(lambda: len(self._rx) >= nbytes)
            n = min(nbytes, len(self._rx))
        if n == 0:
            return None
        return self._take(n)

    def readinto(self, buf, nbytes=None):
        want = len(buf) if nbytes is None else nbytes
        data = self.read(want)
        if data is None:
            return None
        buf[:len(data)] = data
        return len(data)

    def readline(self):
        self._wait(lambda: b"\n" in self._rx)
        if not self._rx:
            return None
        i = self._rx.find(b"\n")
        return self._take(len(self._rx) if i < 0 else i + 1)

    def write(self, buf):
        data = bytes(buf)
        self._tx += data
        if self._peer is not None:
            reply = self._peer(data)
            if reply:
                self.peer_write(reply)
        return len(data)

    def flush(self):
        pass

    def txdone(self):
        return True

    def sendbreak(self):
        pass

    # test side
    def peer_write(self, data):
        """Test API: the far end sends bytes; beyond rxbuf they are lost, as in the driver."""
        room = self.rxbuf - len(self._rx)
        if len(data) > room:
            self.overflows += 1
            data = data[:max(room, 0)]
        self._rx += data

    def peer_read(self):
        """Test API: everything the firmware wrote since the last call."""
        out = bytes(self._tx)
        self._tx = bytearray()
        return out

    def attach_peer(self, fn):
        """Test API: fn(bytes written) -> reply bytes or None, delivered at once."""
        self._peer = fn


# --- ADC ---

class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    WIDTH_9BIT = 9
    WIDTH_10BIT = 10
    WIDTH_11BIT = 11
    WIDTH_12BIT = 12
    # Usable input range per attenuation (ESP32 datasheet), in microvolts.
    _FULL_UV = (950000, 1250000, 1750000, 2450000)

    def __init__(self, pin, atten=None):
        if not isinstance(pin, Pin):
            pin = Pin(pin)
        if pin.id not in _ADC_GPIO:
            raise ValueError("invalid pin")
        self.pin = pin
        self._atten = ADC.ATTN_0DB if atten is None else atten
        self._width = 12

    def init(self, atten=None):
        if atten is not None:
            self.atten(atten)

    def atten(self, a):
        if a not in (0, 1, 2, 3):
            raise ValueError("invalid attenuation")
        self._atten = a

    def width(self, w):
        if w not in (9, 10, 11, 12):
            raise ValueError("invalid width")
        self._width = w

    def read_uv(self):
        uv = self.pin.analog_uv
        full = ADC._FULL_UV[self._atten]
        return 0 if uv < 0 else (full if uv > full else uv)

    def read_u16(self):
        return self.read_uv() * 65535 // ADC._FULL_UV[self._atten]

    def read(self):
        return self.read_u16() >> (16 - self._width)

    # test side
    def set_uv(self, uv):
        """Test API: the voltage at the pin, in microvolts (clipped to the attenuation's range).
        It belongs to the pin, so every ADC made on that pin (the firmware's own) reads it."""
        self.pin.analog_uv = uv


# --- PWM ---

class PWM:
    def __init__(self, pin, freq=None, duty=None, duty_u16=None, duty_ns=None, invert=False):
        if not isinstance(pin, Pin):
            pin = Pin(pin)
        if pin.id in _INPUT_ONLY:
            raise ValueError("pin can only be input")
        self.pin = pin
        self._freq = 5000           # port defaults: 5 kHz, 50 % duty
        self._duty = 32768
        self.active = False
        self.init(freq=freq, duty=duty, duty_u16=duty_u16, duty_ns=duty_ns)

    def init(self, freq=None, duty=None, duty_u16=None, duty_ns=None, invert=False):
        if freq is not None:
            self.freq(freq)
        if duty is not None:
            self.duty(duty)
        if duty_u16 is not None:
            self.duty_u16(duty_u16)
        if duty_ns is not None:
            self.duty_ns(duty_ns)
        self.active = True

    def deinit(self):
        self.active = False

    def freq(self, f=None):
        if f is None:
            return self._freq
        if not 1 <= f <= 40000000:
            raise ValueError("frequency must be from 1Hz to 40MHz")
        self._freq = f

    def duty_u16(self, d=None):
        if d is None:
            return self._duty
        if not 0 <= d <= 65535:
            raise ValueError("duty_u16 must be from 0 to 65535")
        self._duty = d

    def duty(self, d=None):
        if d is None:
            return self._duty >> 6
        self.duty_u16(min(d, 1023) * 65535 // 1023)

    def duty_ns(self, ns=None):
        if ns is None:
            return self._duty * 1000000000 // self._freq // 65535
        self.duty_u16(min(65535, ns * self._freq * 65535 // 1000000000))

    def sounding(self):
        """Test API: is the output toggling (active with 0 < duty < 100 %)?"""
        return self.active and 0 < self._duty < 65535


# --- I2C and SPI ---

def i2c_attach(bus, addr, regs=None):
    """Test API: put a device with registers `regs` (dict register -> byte) on bus `bus`; or a
    stream device (a peer object with i2c_write(data) and i2c_read_into(buf), e.g. the fake
    PN532): every write goes to it whole, every read is filled by it."""
    dev = {} if regs is None else regs
    i2c_devices.setdefault(bus, {})[addr] = dev
    return dev


def i2c_detach(bus, addr):
    """Test API: the device leaves the bus (unplugged): its address is NACKed (ENODEV)."""
    i2c_devices.get(bus, {}).pop(addr, None)


class I2C:
    def __init__(self, id=0, scl=None, sda=None, freq=400000, timeout=50000):
        if id not in (0, 1):
            raise ValueError("I2C(%d) doesn't exist" % id)
        self.id = id
        self.scl = scl
        self.sda = sda
        self.freq = freq
        self._ptr = {}

    def _dev(self, addr):
        bus = i2c_devices.get(self.id)      # (no `{}` default: a read must not allocate)
        dev = bus.get(addr) if bus is not None else None
        if dev is None:
            raise OSError(19, "ENODEV")     # address NACKed
        return dev

    def scan(self):
        return sorted(i2c_devices.get(self.id, {}))

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        dev = self._dev(addr)
        return bytes([dev.get(memaddr + i, 0) & 0xFF for i in range(nbytes)])

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        buf[:] = self.readfrom_mem(addr, memaddr, len(buf), addrsize)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        dev = self._dev(addr)
        if not isinstance(dev, dict):       # a stream device: the "register" byte, then the data
            dev.i2c_write(bytes([memaddr]) + bytes(buf))      # (SSD1306: the control byte)
            return
        for i, b in enumerate(bytes(buf)):
            dev[memaddr + i] = b

    def writeto(self, addr, buf, stop=True):
        dev = self._dev(addr)
        if not isinstance(dev, dict):
            dev.i2c_write(buf)              # a stream device (peer object)
            return len(buf)
        data = bytes(buf)
        if data:
            self._ptr[addr] = data[0]
            for i, b in enumerate(data[1:]):
                dev[data[0] + i] = b
        return len(data)

    def readfrom(self, addr, nbytes, stop=True):
        dev = self._dev(addr)
        if not isinstance(dev, dict):
            buf = bytearray(nbytes)
            dev.i2c_read_into(buf)
            return bytes(buf)
        return self.readfrom_mem(addr, self._ptr.get(addr, 0), nbytes)

    def readfrom_into(self, addr, buf, stop=True):
        dev = self._dev(addr)
        if not isinstance(dev, dict):
            dev.i2c_read_into(buf)          # a stream device fills it (allocation-free)
            return
        buf[:] = self.readfrom(addr, len(buf))


SoftI2C = I2C


class SPI:
    MSB = 0
    LSB = 1

    def __init__(self, id, baudrate=1000000, polarity=0, phase=0, bits=8, firstbit=0, sck=None,
                 mosi=None, miso=None):
        if id not in (1, 2):
            raise ValueError("SPI(%d) doesn't exist" % id)
        self.id = id
        self.baudrate = baudrate
        self.written = bytearray()
        self.peer = None        # test API: fn(bytes out) -> bytes in (same length)

    def init(self, baudrate=1000000, **kw):
        self.baudrate = baudrate

    def deinit(self):
        pass

    def _xfer(self, out):
        self.written += out
        if self.peer is None:
            return b"\xff" * len(out)           # MISO idles high
        got = bytes(self.peer(bytes(out)))
        return (got + b"\xff" * len(out))[:len(out)]

    def write(self, buf):
        self._xfer(bytes(buf))

    def read(self, nbytes, write=0x00):
        return self._xfer(bytes([write]) * nbytes)

    def readinto(self, buf, write=0x00):
        buf[:] = self._xfer(bytes([write]) * len(buf))

    def write_readinto(self, wbuf, rbuf):
        rbuf[:] = self._xfer(bytes(wbuf))


SoftSPI = SPI


# --- RTC ---

_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _days_since_2000(y, m, d):
    days = 0
    for yy in range(2000, y):
        days += 366 if _leap(yy) else 365
    for mm in range(1, m):
        days += 29 if mm == 2 and _leap(y) else _DAYS_IN_MONTH[mm - 1]
    return days + d - 1


def _from_seconds(secs, us):
    days, rem = divmod(secs, 86400)
    weekday = (days + 5) % 7            # 2000-01-01 was a Saturday; Monday is 0
    y = 2000
    while True:
        n = 366 if _leap(y) else 365
        if days < n:
            break
        days -= n
        y += 1
    m = 1
    while True:
        n = 29 if m == 2 and _leap(y) else _DAYS_IN_MONTH[m - 1]
        if days < n:
            break
        days -= n
        m += 1
    return (y, m, days + 1, weekday, rem // 3600, rem // 60 % 60, rem % 60, us)


class RTC:
    def __init__(self, id=0):
        pass

    def init(self, datetime):
        self.datetime(datetime)

    def datetime(self, dt=None):
        """(year, month, day, weekday, hours, minutes, seconds, microseconds); weekday is
        ignored when setting and computed when reading (0 = Monday), as on the port."""
        global _rtc_base
        if dt is None:
            secs, at, us = _rtc_base if _rtc_base is not None else (0, 0, 0)
            total_us = secs * 1000000 + us + (_now() - at) * 1000
            return _from_seconds(total_us // 1000000, total_us % 1000000)
        if len(dt) != 8:
            raise ValueError("requested length 8 but object has length %d" % len(dt))
        y, m, d, _wd, hh, mi, ss, us = dt
        secs = _days_since_2000(y, m, d) * 86400 + hh * 3600 + mi * 60 + ss
        _rtc_base = (secs, _now(), us)

    def memory(self, data=None):
        """RTC slow memory: survives deepsleep and reset, not power loss (2 KiB on ESP32)."""
        global _rtc_memory
        if data is None:
            return _rtc_memory
        if len(data) > 2048:
            raise ValueError("buffer too long")
        _rtc_memory = bytes(data)
