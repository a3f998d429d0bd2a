# The host clock behind the firmware's compat seam: ESP32 tick semantics, virtual time.
RUNS_ON_MICROPYTHON = True

import hostclock
from mimamori import compat


def test_ticks_wrap_like_the_esp32_port():
    clock = hostclock.use_virtual(hostclock.TICKS_PERIOD - 100)
    t0 = compat.ticks_ms()
    clock.advance(250)
    t1 = compat.ticks_ms()
    assert t1 < t0  # wrapped
    assert compat.ticks_diff(t1, t0) == 250
    assert compat.ticks_diff(t0, t1) == -250
    assert compat.ticks_add(t0, 250) == t1


def test_virtual_clock_runs_twelve_hours_instantly():
    clock = hostclock.use_virtual(0)
    t0 = compat.ticks_ms()
    clock.advance(12 * 3600 * 1000)
    assert compat.ticks_diff(compat.ticks_ms(), t0) == 12 * 3600 * 1000


def test_sleep_ms_moves_the_virtual_clock():
    hostclock.use_virtual(0)
    t0 = compat.ticks_ms()
    compat.sleep_ms(1500)
    assert compat.ticks_diff(compat.ticks_ms(), t0) == 1500
