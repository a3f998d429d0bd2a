# The host fakes of `machine` and `network` must behave like the ESP32 port: a fake that is
# kinder than the board hides firmware bugs. Runs on CPython and inside the real MicroPython
# (where `micropython` is the real module, so its checks hold for both).
RUNS_ON_MICROPYTHON = True

import sys

import hostclock
import machine
import micropython
import network
from check import raises

ON_MICROPYTHON = sys.implementation.name == "micropython"
Pin = machine.Pin


def _board():
    machine.reset_all()
    network.reset()
    return hostclock.use_virtual(0)


# --- Pin ---

def test_pins_are_singletons_found_by_number():
    _board()
    p = Pin(4, Pin.IN, Pin.PULL_UP)
    assert Pin(4) is p and machine.pins[4] is p
    assert repr(p) == "Pin(4)"
    with raises(ValueError, "invalid pin"):
        Pin(20)                         # no GPIO20 on the ESP32
    with raises(ValueError, "invalid pin"):
        Pin(40)


def test_pin_constants_match_the_port():
    assert (Pin.IN, Pin.OUT, Pin.OPEN_DRAIN) == (1, 3, 7)
    assert (Pin.PULL_DOWN, Pin.PULL_UP) == (1, 2)
    assert (Pin.IRQ_RISING, Pin.IRQ_FALLING) == (1, 2)


def test_input_only_pins_refuse_output_and_have_no_pulls():
    _board()
    with raises(ValueError, "pin can only be input"):
        Pin(34, Pin.OUT)
    p = Pin(36, Pin.IN, Pin.PULL_UP)    # accepted, but there is no resistor: it floats
    assert p.value() == 0
    q = Pin(33, Pin.IN, Pin.PULL_UP)
    assert q.value() == 1


def test_pull_up_drive_and_release():
    _board()
    p = Pin(4, Pin.IN, Pin.PULL_UP)
    assert p.value() == 1
    p.drive(0)
    assert p.value() == 0
    p.release()
    assert p.value() == 1
    p.init(pull=Pin.PULL_DOWN)
    assert p.value() == 0
    p.init(pull=None)
    assert p.value() == 0               # floating reads low here


def test_output_reads_back_and_on_off_toggle():
    _board()
    p = Pin(25, Pin.OUT, value=1)
    assert p.value() == 1 and p() == 1
    p.off()
    assert p.value() == 0
    p.on()
    p.toggle()
    assert p.value() == 0
    p(1)
    assert p.value() == 1
    p.drive(0)                          # an outside level does not beat push-pull
    assert p.value() == 1


def test_open_drain_pulls_low_or_lets_go():
    _board()
    p = Pin(21, Pin.OPEN_DRAIN, Pin.PULL_UP, value=0)
    assert p.value() == 0
    p.value(1)
    assert p.value() == 1               # released: the pull-up
    p.drive(0)
    assert p.value() == 0               # another device holds the line low


def test_irq_handler_gets_the_pin_on_each_matching_edge():
    _board()
    p = Pin(4, Pin.IN, Pin.PULL_UP)
    seen = []
    irq = p.irq(handler=lambda pin: seen.append((pin, pin.value())))
    p.drive(0)
    p.drive(0)                          # no edge, no call
    p.release()
    assert seen == [(p, 0), (p, 1)]
    assert irq.trigger() == Pin.IRQ_RISING | Pin.IRQ_FALLING
    assert p.irq() is irq and p.irq_handler is not None   # no arguments: nothing changes
    p.irq(handler=lambda pin: seen.append("fall"), trigger=Pin.IRQ_FALLING)
    p.drive(0)
    p.release()
    assert seen[2:] == ["fall"]
    p.irq(handler=None)
    p.drive(0)
    assert len(seen) == 3


def test_irq_has_no_hard_argument_on_esp32():
    _board()
    p = Pin(4, Pin.IN)
    with raises(TypeError):
        p.irq(handler=lambda pin: None, trigger=Pin.IRQ_FALLING, hard=True)


def test_disable_irq_defers_handlers_until_enabled():
    _board()
    p = Pin(4, Pin.IN, Pin.PULL_UP)
    seen = []
    p.irq(handler=lambda pin: seen.append(pin.value()))
    state = machine.disable_irq()
    p.drive(0)
    assert seen == []
    machine.enable_irq(state)
    assert seen == [0]


def test_held_scheduler_queues_eight_and_drops_the_rest():
    _board()
    p = Pin(4, Pin.IN, Pin.PULL_UP)
    seen = []
    p.irq(handler=lambda pin: seen.append(1))
    machine.hold_scheduler()
    for k in range(12):
        p.drive(k % 2)
    assert seen == [] and machine.dropped_irqs == 12 - machine.SCHEDULER_DEPTH
    machine.release_scheduler()
    assert len(seen) == machine.SCHEDULER_DEPTH


def test_signal_inverts():
    _board()
    led = machine.Signal(Pin(5, Pin.OUT), invert=True)
    led.on()
    assert Pin(5).value() == 0 and led.value() == 1
    led.off()
    assert Pin(5).value() == 1


# --- Timer ---

def test_one_shot_and_periodic_timers_follow_virtual_time():
    clock = _board()
    fired = []
    t0 = machine.Timer(0)
    t0.init(mode=machine.Timer.ONE_SHOT, period=1000, callback=lambda t: fired.append(("a", clock.now_ms)))
    t1 = machine.Timer(1, mode=machine.Timer.PERIODIC, period=300,
                       callback=lambda t: fired.append(("b", clock.now_ms)))
    clock.advance(999)
    assert fired == [("b", 300), ("b", 600), ("b", 900)]
    clock.advance(1)
    assert ("a", 1000) in fired
    t1.deinit()
    clock.advance(5000)
    assert fired[-1] == ("a", 1000) and len(fired) == 4
    assert machine.Timer.ONE_SHOT == 0 and machine.Timer.PERIODIC == 1


def test_timer_rejects_hard_callbacks_and_bad_ids():
    _board()
    with raises(ValueError, "hard Timers are not implemented"):
        machine.Timer(0).init(period=10, callback=lambda t: None, hard=True)
    with raises(ValueError, "invalid Timer number"):
        machine.Timer(4)


# --- WDT and resets ---

def test_wdt_minimum_and_id():
    _board()
    with raises(ValueError, "too short"):
        machine.WDT(timeout=999)
    with raises(ValueError):
        machine.WDT(id=1, timeout=5000)


def test_wdt_fed_in_time_keeps_running():
    clock = _board()
    wdt = machine.WDT(timeout=2000)
    for _ in range(10):
        clock.advance(1900)
        wdt.feed()
    assert machine.resets == [] and machine.reset_cause() == machine.PWRON_RESET


def test_wdt_not_fed_resets_the_board_and_reboot_keeps_the_cause():
    clock = _board()
    fired = []
    machine.Timer(0, period=100, callback=lambda t: fired.append(1))
    machine.WDT(timeout=2000)
    clock.advance(1999)
    assert machine.resets == []
    clock.advance(1)
    assert machine.resets == [(machine.WDT_RESET, 2000)]
    assert machine.reset_cause() == machine.WDT_RESET and machine.halted
    n = len(fired)
    clock.advance(1000)
    assert len(fired) == n              # a reset board runs nothing
    machine.reboot()
    assert machine.reset_cause() == machine.WDT_RESET and not machine.halted
    clock.advance(10000)
    assert len(machine.resets) == 1     # no watchdog after boot until firmware starts one
    machine.reset_all()
    assert machine.reset_cause() == machine.PWRON_RESET and machine.resets == []


def test_reset_cause_constants_match_the_port():
    assert (machine.PWRON_RESET, machine.HARD_RESET, machine.WDT_RESET,
            machine.DEEPSLEEP_RESET, machine.SOFT_RESET) == (1, 2, 3, 4, 5)


def test_reset_never_returns_and_cannot_be_swallowed():
    _board()
    caught = None
    try:
        try:
            machine.reset()
        except Exception:               # firmware's catch-all must not stop a reset
            caught = "exception"
    except machine.BoardReset:
        caught = "reset"
    assert caught == "reset"
    assert machine.resets[-1][0] == machine.SOFT_RESET
    machine.reboot()
    assert machine.reset_cause() == machine.SOFT_RESET
    with raises(SystemExit):
        machine.soft_reset()


def test_sleeps_are_recorded():
    clock = _board()
    wdt = machine.WDT(timeout=2000)
    machine.lightsleep(5000)            # the task watchdog is clock-gated in light sleep
    assert clock.now_ms == 5000 and machine.resets == []
    wdt.feed()
    with raises(machine.BoardReset):
        machine.deepsleep(60000)
    assert machine.sleeps == [("light", 5000), ("deep", 60000)]
    machine.reboot()
    assert machine.reset_cause() == machine.DEEPSLEEP_RESET


def test_freq_unique_id_idle_irq_state():
    _board()
    assert machine.freq() == 160000000
    machine.freq(240000000)
    assert machine.freq() == 240000000
    with raises(ValueError):
        machine.freq(100000000)
    uid = machine.unique_id()
    assert isinstance(uid, bytes) and len(uid) == 6
    machine.idle()
    s = machine.disable_irq()
    machine.enable_irq(s)


# --- UART ---

def test_uart_peer_both_ways():
    _board()
    u = machine.UART(2, baudrate=115200, tx=17, rx=16, timeout=0)
    assert u.any() == 0 and u.read() is None and u.readline() is None
    u.peer_write(b"OK\r\nRING\r\n")
    assert u.any() == 10
    assert u.readline() == b"OK\r\n"
    assert u.read(2) == b"RI"
    assert u.read() == b"NG\r\n"
    assert u.write(b"ATZ\r") == 4
    assert u.peer_read() == b"ATZ\r" and u.peer_read() == b""
    u.attach_peer(lambda data: b"OK\r\n" if data.startswith(b"AT") else None)
    u.write(b"AT\r")
    assert u.readline() == b"OK\r\n"
    assert machine.uarts[2] is u


def test_uart_timeout_waits_in_virtual_time_and_rx_buffer_overflows():
    clock = _board()
    u = machine.UART(1, tx=4, rx=5, timeout=200, rxbuf=256)
    assert u.read(5) is None
    assert clock.now_ms == 200
    u.peer_write(b"x" * 300)
    assert u.any() == 256 and u.overflows == 1
    with raises(ValueError, "pin can only be input"):
        machine.UART(1, tx=34, rx=35)


# --- ADC, PWM ---

def test_adc_reads_the_voltage_the_test_sets():
    _board()
    adc = machine.ADC(Pin(36))
    adc.atten(machine.ADC.ATTN_11DB)
    adc.set_uv(1225000)
    assert adc.read_uv() == 1225000
    assert adc.read_u16() == 1225000 * 65535 // 2450000
    adc.set_uv(3300000)
    assert adc.read_uv() == 2450000 and adc.read_u16() == 65535   # beyond the range: clipped
    adc.atten(machine.ADC.ATTN_0DB)
    assert adc.read_uv() == 950000
    with raises(ValueError, "invalid pin"):
        machine.ADC(Pin(5))


def test_pwm_records_its_state():
    _board()
    pwm = machine.PWM(Pin(27))
    assert pwm.freq() == 5000 and pwm.duty_u16() == 32768 and pwm.active
    pwm.freq(2700)
    pwm.duty_u16(0)
    assert not pwm.sounding()
    pwm.duty_u16(32768)
    assert pwm.sounding() and pwm.freq() == 2700
    pwm.deinit()
    assert not pwm.active and not pwm.sounding()
    with raises(ValueError):
        pwm.duty_u16(70000)


# --- I2C, SPI, RTC ---

def test_i2c_scan_and_registers():
    _board()
    regs = machine.i2c_attach(0, 0x50, {0: 0x12, 1: 0x34})
    i2c = machine.I2C(0, scl=Pin(22), sda=Pin(21), freq=100000)
    assert i2c.scan() == [0x50]
    assert i2c.readfrom_mem(0x50, 0, 2) == b"\x12\x34"
    i2c.writeto_mem(0x50, 4, b"\xab\xcd")
    assert regs[4] == 0xAB and regs[5] == 0xCD
    i2c.writeto(0x50, b"\x04")
    assert i2c.readfrom(0x50, 2) == b"\xab\xcd"
    try:
        i2c.readfrom_mem(0x51, 0, 1)
        raise AssertionError("no device must NACK")
    except OSError as e:
        assert e.errno == 19


def test_spi_writes_and_reads():
    _board()
    spi = machine.SPI(1, baudrate=1000000)
    spi.write(b"\x9f")
    assert spi.read(2) == b"\xff\xff"
    spi.peer = lambda out: bytes([b ^ 0xFF for b in out])
    buf = bytearray(2)
    spi.write_readinto(b"\x0f\xf0", buf)
    assert bytes(buf) == b"\xf0\x0f"
    assert bytes(spi.written) == b"\x9f\x00\x00\x0f\xf0"


def test_rtc_datetime_runs_with_the_clock():
    clock = _board()
    rtc = machine.RTC()
    assert rtc.datetime()[:3] == (2000, 1, 1)
    rtc.datetime((2026, 11, 22, 0, 3, 45, 0, 0))        # weekday ignored when setting
    assert rtc.datetime() == (2026, 11, 22, 6, 3, 45, 0, 0)
    clock.advance(86400 * 1000 * 99 + 1500)
    assert rtc.datetime() == (2027, 3, 1, 0, 3, 45, 1, 500000)
    rtc.datetime((2028, 2, 29, 0, 23, 59, 59, 0))
    assert rtc.datetime()[:4] == (2028, 2, 29, 1)
    rtc.memory(b"boot#7")
    machine.reboot()
    assert rtc.memory() == b"boot#7" and rtc.datetime()[0] == 2028


# --- network ---

def test_wlan_status_constants_match_the_esp32_port():
    assert (network.STAT_IDLE, network.STAT_CONNECTING, network.STAT_GOT_IP) == (1000, 1001, 1010)
    assert (network.STAT_NO_AP_FOUND, network.STAT_WRONG_PASSWORD,
            network.STAT_CONNECT_FAIL) == (201, 202, 205)


def test_wlan_connects_after_a_while():
    clock = _board()
    network.set_ap("house", "s3cret-pass")
    sta = network.WLAN(network.STA_IF)
    assert sta is network.WLAN(network.STA_IF)
    assert sta.status() == network.STAT_IDLE and not sta.active()
    with raises(OSError):
        sta.connect("house", "s3cret-pass")             # not active yet
    sta.active(True)
    sta.connect("house", "s3cret-pass")
    assert not sta.isconnected() and sta.status() == network.STAT_CONNECTING
    assert sta.ifconfig()[0] == "0.0.0.0"
    clock.advance(network.CONNECT_MS)
    assert sta.isconnected() and sta.status() == network.STAT_GOT_IP
    assert sta.ifconfig()[0] != "0.0.0.0"
    assert sta.config("mac") == machine.unique_id()
    sta.disconnect()
    assert not sta.isconnected() and sta.status() == network.STAT_IDLE
    assert network.WLAN(network.AP_IF).status() is None
    with raises(ValueError):
        network.WLAN(5)


def test_wlan_wrong_password_retries_for_ever_unless_reconnects_is_set():
    clock = _board()
    network.set_ap("house", "s3cret-pass")
    sta = network.WLAN(network.STA_IF)
    sta.active(True)
    sta.connect("house", "wrong")
    clock.advance(60000)
    assert not sta.isconnected() and sta.status() == network.STAT_CONNECTING
    with raises(OSError, "Wifi Internal Error"):
        sta.connect("house", "wrong")                   # "sta is connecting, return error"
    sta.disconnect()
    sta.config(reconnects=2)
    sta.connect("house", "wrong")
    clock.advance(2 * network.ATTEMPT_MS)
    assert sta.status() == network.STAT_WRONG_PASSWORD
    sta.connect("other-house", "s3cret-pass")          # gave up: connect() is allowed again
    clock.advance(2 * network.ATTEMPT_MS)
    assert sta.status() == network.STAT_NO_AP_FOUND


def test_wlan_link_cut_and_restored():
    clock = _board()
    sta = network.WLAN(network.STA_IF)
    sta.active(True)
    sta.connect("mimamori-test", "correct horse")
    clock.advance(network.CONNECT_MS)
    assert sta.isconnected()
    network.cut_link()
    assert not sta.isconnected() and sta.status() == network.STAT_CONNECTING
    clock.advance(600000)
    assert not sta.isconnected()
    network.restore_link()
    assert not sta.isconnected()                        # re-association takes a moment
    clock.advance(network.CONNECT_MS)
    assert sta.isconnected()
    sta.config(mac=b"\x02\x00\x00\x00\x00\x01")
    assert sta.config("mac") == b"\x02\x00\x00\x00\x00\x01"


# --- micropython (the fake on CPython, the real module on MicroPython) ---

def test_micropython_module_basics():
    assert micropython.const(7) == 7
    assert micropython.heap_lock() is None
    assert micropython.heap_lock() is None
    assert micropython.heap_unlock() == 1
    assert micropython.heap_unlock() == 0
    assert isinstance(micropython.opt_level(), int)
    if not ON_MICROPYTHON:
        micropython.alloc_emergency_exception_buf(100)
        micropython.mem_info()


def test_micropython_schedule_runs_soon_and_never_nested():
    ran = []

    def inner(arg):
        ran.append(arg)

    def outer(arg):
        micropython.schedule(inner, "inner")
        ran.append(arg)                 # the inner one waits until this one returns

    micropython.schedule(outer, "outer")
    for _ in range(100):                # MicroPython runs pending callbacks at branch points
        if len(ran) == 2:
            break
    if not ON_MICROPYTHON:
        micropython.run_scheduled()
    assert ran == ["outer", "inner"]
