# The panel's keypad (firmware/mimamori/io/keypad.py) against a fake membrane keypad wired to the
# fake ESP32's pins (host_tests/fakes/keypad_peer.py): what the resident presses is what the core
# is told, with the time the finger went down; contact bounce is never a key; the scan allocates
# nothing (heap_lock, real on MicroPython).
RUNS_ON_MICROPYTHON = True

import hostclock
import machine
import micropython
from keypad_peer import KeyMatrix
from mimamori.io.keypad import KEYS, Keypad

ROWS = (13, 14, 16, 17)
COLS = (18, 19, 21, 22)
PANIC, MEDICAL, CANCEL = 23, 25, 26


def _pad(**kw):
    machine.reset_all()
    clock = hostclock.use_virtual(0)
    kp = Keypad([machine.Pin(g) for g in ROWS], [machine.Pin(g) for g in COLS],
                machine.Pin(PANIC), machine.Pin(MEDICAL), machine.Pin(CANCEL), **kw)
    pad = KeyMatrix(ROWS, COLS, PANIC, MEDICAL, CANCEL)
    got = []

    def run(ms):
        for _ in range(ms // 10):
            clock.advance(10)
            kp.poll(hostclock.ticks_ms(), lambda k, d, t: got.append((k, d, t)))
    return kp, pad, run, got, clock


def test_every_key_of_the_matrix_and_the_dedicated_keys_is_reported_press_and_release():
    kp, pad, run, got, clock = _pad()
    for key in KEYS:
        pad.press(key)
        run(60)
        pad.release(key)
        run(60)
    keys = [g[0] for g in got]
    assert keys == [k for k in KEYS for _ in (0, 1)], keys
    assert [g[1] for g in got] == [True, False] * len(KEYS)


def test_a_key_is_reported_with_the_time_the_finger_went_down_not_when_the_poll_saw_it():
    kp, pad, run, got, clock = _pad()
    run(100)
    pad.press("A")
    t_down = clock.now_ms + 10          # the next scan sees it
    run(200)
    pad.release("A")
    t_up = clock.now_ms + 10
    run(100)
    assert got == [("A", True, t_down), ("A", False, t_up)], got
    assert kp.held_ms(clock.now_ms) == 0


def test_contact_bounce_shorter_than_the_debounce_is_never_a_key():
    kp, pad, run, got, clock = _pad()
    for _ in range(5):                  # 10 ms down, 10 ms up: a bouncing contact
        pad.press("5")
        run(10)
        pad.release("5")
        run(10)
    run(100)
    assert got == []
    pad.press("5")                      # then held: one press
    run(100)
    assert got and got[0][:2] == ("5", True) and len(got) == 1


def test_held_keys_are_timed_and_a_second_key_is_its_own_press():
    kp, pad, run, got, clock = _pad()
    pad.press("PANIC")
    run(2050)
    assert kp.down("PANIC") and kp.held_ms(clock.now_ms) >= 2000
    pad.press("1")
    run(50)
    pad.release("1")
    pad.release("PANIC")
    run(50)
    assert [(k, d) for k, d, _t in got] == [("PANIC", True), ("1", True), ("1", False),
                                             ("PANIC", False)], got


def test_two_keys_in_one_column_are_both_read_and_three_ghosting_keys_are_ignored():
    kp, pad, run, got, clock = _pad()
    pad.press("1")
    pad.press("4")                      # same column, rows 0 and 1
    run(60)
    assert sorted(k for k, d, _t in got if d) == ["1", "4"]
    pad.press("5")                      # 1, 4, 5 down: a matrix without diodes also shows 2
    run(60)
    assert kp.ghosts > 0
    assert not kp.down("2") and not kp.down("5")    # ambiguous scans keep what was known


def test_scanning_at_rest_and_while_a_key_is_held_allocates_nothing():
    kp, pad, run, got, clock = _pad()
    calls = [0]

    def sink(k, d, t):
        calls[0] += 1
    run(100)
    micropython.heap_lock()
    try:
        for _ in range(200):            # at rest: 7 pin reads per scan
            clock.advance(10)
            kp.poll(hostclock.ticks_ms(), sink)
    finally:
        micropython.heap_unlock()
    pad.press("0")
    for _ in range(10):
        clock.advance(10)
        kp.poll(hostclock.ticks_ms(), sink)
    micropython.heap_lock()
    try:
        for _ in range(200):            # a key held: the rows are walked every scan
            clock.advance(10)
            kp.poll(hostclock.ticks_ms(), sink)
    finally:
        micropython.heap_unlock()
    assert calls[0] == 1 and kp.down("0")


def test_without_dedicated_keys_the_matrix_still_works():
    machine.reset_all()
    clock = hostclock.use_virtual(0)
    kp = Keypad([machine.Pin(g) for g in ROWS], [machine.Pin(g) for g in COLS])
    pad = KeyMatrix(ROWS, COLS)
    got = []
    pad.press("#")
    for _ in range(5):
        clock.advance(10)
        kp.poll(hostclock.ticks_ms(), lambda k, d, t: got.append(k))
    assert got == ["#"]
