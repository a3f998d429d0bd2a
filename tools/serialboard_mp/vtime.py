# `time` on the virtual board: the interpreter's own, except that sleeping goes through the chip
# runner (the serial line and the sensors are watched meanwhile) - see vboard.py.
from time import *   # noqa: F401,F403
import time as _t
import _vb

_real_ticks = _t.ticks_ms
_n = 0


def ticks_ms():
    # A busy loop on ticks (no sleep) still notices a Ctrl-C now and then.
    global _n
    _n += 1
    if _n >= 500:
        _n = 0
        _vb.poll()
    return _real_ticks()


def sleep_ms(ms):
    import vboard
    vboard.sleep_ms(ms)


def sleep(s):
    sleep_ms(int(s * 1000))


def sleep_us(us):
    sleep_ms(us // 1000)
