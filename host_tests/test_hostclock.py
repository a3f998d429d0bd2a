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


def test_ticks_arithmetic_allocates_nothing_near_the_wrap():
    import micropython
    top = hostclock.TICKS_PERIOD - 1
    cases = ((top, 1), (top - 5, 100), (0, -1), (3, -10), (1000, 5000), (top, -top))
    expect = [compat.ticks_add(t, d) for t, d in cases]
    assert expect == [0, 94, top, top - 6, 6000, 0]
    micropython.heap_lock()   # real on MicroPython: 2**30 would be a big int on the heap
    try:
        for t, d in cases:
            hostclock.ticks_add(t, d)
            hostclock.ticks_diff(t, d & top)
            hostclock.ticks_diff(d & top, t)
    finally:
        micropython.heap_unlock()
    assert hostclock.ticks_diff(0, top) == 1 and hostclock.ticks_diff(top, 0) == -1
