# The DC-09 path at rest, on CPython and on the real MicroPython interpreter: with nothing to
# report and no link test due, poll() opens no socket, sends nothing and allocates nothing
# (heap_lock is real on MicroPython: any allocation raises MemoryError).
RUNS_ON_MICROPYTHON = True

import hostclock
import micropython

from mimamori.comms.path_dc09 import Dc09Path, IDLE

CFG = {"enabled": True, "host": "192.0.2.7", "port": 12128, "protocol": "tcp",
       "account": "1234", "key": None, "key_format": "text", "receiver": None, "prefix": "0",
       "ping_interval_s": 0, "ack_deadline_s": 30}


class _Journal:
    def get(self, seq):
        return None


def test_idle_dc09_path_allocates_nothing_and_sends_nothing():
    hostclock.use_virtual(0)
    p = Dc09Path(_Journal(), CFG, lambda: 1795316400)
    now = hostclock.ticks_ms()
    p.poll(now)
    micropython.heap_lock()
    try:
        for _ in range(1000):
            hostclock.clock.advance(10)
            p.poll(hostclock.ticks_ms())
    finally:
        micropython.heap_unlock()
    assert p.sent == 0 and p.state == IDLE and p._sock is None
