# The firmware's logger (mimamori/log.py): levels, formatting only for a kept line (a discarded
# debug line allocates nothing: heap_lock on the real interpreter), nothing secret formatted.
# Runs on CPython and on the real MicroPython interpreter.
RUNS_ON_MICROPYTHON = True

import micropython

from mimamori import log as L


def test_lines_below_the_level_are_dropped_and_kept_ones_formatted_once():
    got = []
    log = L.Logger(got.append, L.INFO)
    log.debug("delivery: seq %d published", 7)
    log.info("restored: mode %s", "away")
    log.warn("storage: %s", "state.json: bad copy")
    log.error("loop error: %r", "x")
    log("plain line")
    assert got == ["restored: mode away", "warning: storage: state.json: bad copy",
                   "error: loop error: 'x'", "plain line"]
    assert log.kept == 4
    log.level = L.DEBUG
    log.debug("paths: seq %d acknowledged on %s", 3, "mqtt")
    assert got[-1] == "debug: paths: seq 3 acknowledged on mqtt"


def test_a_discarded_debug_line_allocates_nothing():
    log = L.Logger(lambda line: None, L.INFO)
    seq = 12345
    name = "mqtt"
    micropython.heap_lock()
    try:
        for _ in range(100):
            log.debug("paths: seq %d acknowledged on %s", seq, name)
    finally:
        micropython.heap_unlock()
    assert log.kept == 0


def test_bytes_are_never_formatted_only_their_length():
    got = []
    log = L.Logger(got.append)
    key = bytes(range(32))
    log.info("key %s mac %s", key, bytearray(b"\x01\x02"))
    assert got == ["key <32 bytes> mac <2 bytes>"]


def test_wrap_takes_a_logger_a_callable_or_nothing():
    got = []
    lg = L.Logger(got.append)
    assert L.Logger.wrap(lg) is lg
    w = L.Logger.wrap(got.append)
    w.info("a %d", 1)
    L.Logger.wrap(None).error("dropped %d", 2)
    assert got == ["a 1"]
