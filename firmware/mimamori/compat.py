# The one seam between MicroPython and CPython. On a board (and on the WebAssembly interpreter)
# the time functions come from MicroPython's own `time`. On the host, CPython's `time` has no
# ticks_*, so they come from the host fakes' `hostclock`, which a test or the simulator can drive
# as a virtual clock. Firmware reads intervals only through here: never the host clock directly.
try:
    from time import ticks_ms, ticks_diff, ticks_add, sleep_ms
except ImportError:
    try:
        from hostclock import ticks_ms, ticks_diff, ticks_add, sleep_ms  # noqa: F401
    except ImportError:
        # CPython without the fakes: the centre's tools sign and verify with core/ and proto/
        # code but run no firmware loop; they get the real clock (mimamori_host, pyproject).
        from mimamori_host.ticks import ticks_ms, ticks_diff, ticks_add, sleep_ms  # noqa: F401

try:
    from micropython import const
except ImportError:
    def const(x):
        return x
