# Host-side ticks for the firmware's compat seam, with the ESP32 port's semantics: ticks_ms wraps
# at 2**30 (TICKS_PERIOD on MicroPython ports), ticks_diff is signed within half a period.
#
# Two clocks: the real monotonic clock (the simulator in real time) and a virtual clock that only
# moves when told (tests: a 12-hour timer runs in a millisecond). `use_virtual()` switches.
# Plain Python that also runs on MicroPython, so the same fake drives firmware on both.
import time as _time

TICKS_PERIOD = 1 << 30
_TICKS_MAX = TICKS_PERIOD - 1
_TICKS_HALF = TICKS_PERIOD // 2


class VirtualClock:
    """Milliseconds that move only when advanced. Starts anywhere, e.g. just below the wrap."""

    def __init__(self, start_ms=0):
        self.now_ms = start_ms
        self._waiters = []  # callables run on every advance (fake Timers, WDT)

    def ticks_ms(self):
        return self.now_ms & _TICKS_MAX

    def advance(self, ms):
        """Move time forward in steps so periodic timers fire at their own instants."""
        end = self.now_ms + ms
        while self._waiters:
            nxt = None
            for w in self._waiters:
                d = w.next_due_ms()
                if d is not None and d <= end and (nxt is None or d < nxt):
                    nxt = d
            if nxt is None:
                break
            if nxt > self.now_ms:
                self.now_ms = nxt
            for w in list(self._waiters):
                d = w.next_due_ms()
                if d is not None and d <= self.now_ms:
                    w.fire(self.now_ms)
        self.now_ms = end

    def sleep_ms(self, ms):
        self.advance(ms)

    def add_waiter(self, w):
        self._waiters.append(w)

    def remove_waiter(self, w):
        if w in self._waiters:
            self._waiters.remove(w)


class RealClock:
    def __init__(self):
        self._t0 = _monotonic_ms()
        self._waiters = []

    @property
    def now_ms(self):
        return _monotonic_ms() - self._t0

    def ticks_ms(self):
        return self.now_ms & _TICKS_MAX

    def advance(self, ms):
        self.sleep_ms(ms)

    def jump(self, ms):
        """Move time forward by ms at once, without sleeping (the simulator's fast-forward: 12 h
        of quiet in a key press). Nothing runs in between: timers due in the gap fire late, once,
        at the next sleep, as after a long blocking call."""
        self._t0 -= ms

    def sleep_ms(self, ms):
        end = self.now_ms + ms
        while True:
            for w in list(self._waiters):
                d = w.next_due_ms()
                if d is not None and d <= self.now_ms:
                    w.fire(self.now_ms)
            left = end - self.now_ms
            if left <= 0:
                return
            _time.sleep(min(left, 10) / 1000)

    def add_waiter(self, w):
        self._waiters.append(w)

    def remove_waiter(self, w):
        if w in self._waiters:
            self._waiters.remove(w)


def _monotonic_ms():
    if hasattr(_time, "monotonic_ns"):
        return _time.monotonic_ns() // 1000000
    return _time.ticks_ms()  # MicroPython: good enough for a real-time run


clock = RealClock()


def use_virtual(start_ms=0):
    """Install a fresh virtual clock and return it."""
    global clock
    clock = VirtualClock(start_ms)
    return clock


def use_real():
    global clock
    clock = RealClock()
    return clock


def ticks_ms():
    return clock.ticks_ms()


def ticks_add(ticks, delta):
    # Kept within small ints: on a 32-bit MicroPython port 2**30 is already a heap-allocated
    # big int, so neither the sum nor the period may appear as an intermediate value.
    if delta >= 0:
        room = _TICKS_MAX - ticks
        return ticks + delta if delta <= room else delta - room - 1
    if -delta <= ticks:
        return ticks + delta
    return (_TICKS_MAX - (-delta - ticks)) + 1


def ticks_diff(a, b):
    d = (a - b) & _TICKS_MAX
    if d >= _TICKS_HALF:
        d = (d - _TICKS_MAX) - 1   # d - 2**30 without making 2**30
    return d


def sleep_ms(ms):
    clock.sleep_ms(ms)
