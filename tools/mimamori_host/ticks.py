"""ticks_* for the firmware's compat seam on CPython without the host fakes (the centre's tools:
they use core/ and proto/ but run no firmware loop). The real monotonic clock, with the ESP32
port's wrap at 2**30 and signed ticks_diff, as host_tests/fakes/hostclock.py's real clock."""
import time

PERIOD = 1 << 30


def ticks_ms():
    return int(time.monotonic() * 1000) & (PERIOD - 1)


def ticks_add(t, delta):
    return (t + delta) & (PERIOD - 1)


def ticks_diff(a, b):
    return ((a - b + PERIOD // 2) & (PERIOD - 1)) - PERIOD // 2


def sleep_ms(ms):
    time.sleep(ms / 1000)
