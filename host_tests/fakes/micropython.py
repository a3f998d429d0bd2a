# CPython stand-in for MicroPython's built-in `micropython` module (never copied into the real
# interpreter, which has its own). Same names and return values as the real one, so firmware and
# tests run unchanged on both; heap_lock is only a real check on MicroPython.
#
# schedule(): soft scheduling. The call is queued (at most SCHEDULER_DEPTH waiting, then
# RuntimeError("schedule queue full") as on the board) and the queue is run AT ONCE, before
# schedule() returns - except inside a scheduled function: scheduled functions never nest, so one
# scheduled from inside another runs right after the current one returns. run_scheduled() drains
# anything still queued (nothing is left in normal use; it exists for tests that want to be explicit).
SCHEDULER_DEPTH = 8

_queue = []
_running = False
_lock_depth = 0
_emergency_buf = 0


def const(x):
    return x


def opt_level(level=None):
    global _opt
    if level is None:
        return _opt
    _opt = level


_opt = 0


def schedule(fn, arg):
    if len(_queue) >= SCHEDULER_DEPTH:
        raise RuntimeError("schedule queue full")
    _queue.append((fn, arg))
    if not _running:
        run_scheduled()


def run_scheduled():
    """Run queued scheduled functions (one at a time, never nested)."""
    global _running
    if _running:
        return
    _running = True
    try:
        while _queue:
            fn, arg = _queue.pop(0)
            fn(arg)
    finally:
        _running = False


def heap_lock():
    """As the real one: returns None; the depth is returned by heap_unlock()."""
    global _lock_depth
    _lock_depth += 1


def heap_unlock():
    """Returns the lock depth after unlocking, as the real one."""
    global _lock_depth
    if _lock_depth > 0:
        _lock_depth -= 1
    return _lock_depth


def alloc_emergency_exception_buf(size):
    global _emergency_buf
    _emergency_buf = size


def mem_info(verbose=None):
    print("stack: 0 out of 15360")
    print("GC: total: 111168, used: 0, free: 111168")
    print(" No. of 1-blocks: 0, 2-blocks: 0, max blk sz: 0, max free sz: 6948")


def qstr_info(verbose=None):
    print("qstr pool: n_pool=0, n_qstr=0, n_str_data_bytes=0, n_total_bytes=0")


def stack_use():
    return 0


def kbd_intr(chr):
    pass
