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


# ---- the controller's own log ring (issue 13): RAM ring, warnings and worse on flash ----------

import hostclock
from scratch import fresh_dir


def _ring(name, lines=L.RING_LINES):
    hostclock.use_virtual(0)
    path = fresh_dir("log_" + name) + "/log.txt"
    return L.Ring(path, lines), path


def test_the_ring_keeps_the_last_lines_in_ram_oldest_first():
    ring, _path = _ring("ram", lines=4)
    log = L.Logger(lambda line: None, L.INFO, ring)
    for i in range(6):
        log.info("event %d", i)
    assert [e[2] for e in ring.entries()] == ["event 2", "event 3", "event 4", "event 5"]
    assert ring.entries()[0][0] == L.INFO and ring.writes == 0   # info lines stay in RAM


def test_warnings_and_errors_survive_a_reboot_on_flash_info_does_not():
    ring, path = _ring("flash")
    log = L.Logger(lambda line: None, L.INFO, ring)
    log.info("restored: mode %s", "away")
    log.warn("storage: %s", "state.json.1: checksum")
    log.error("loop error: %r", "boom")
    ring.clock = lambda: "2026-12-01T10:00:00+09:00"
    log.warn("paths: %s down", "mqtt")
    saved = L.read_saved(path)      # what the next boot (or service.logs) reads
    assert [(s[0], s[2]) for s in saved] == [("warn", "storage: state.json.1: checksum"),
                                             ("error", "loop error: 'boom'"),
                                             ("warn", "paths: mqtt down")]
    assert saved[2][1] == "2026-12-01T10:00:00+09:00"
    assert ring.writes == 3


def test_the_flash_file_stays_bounded():
    ring, path = _ring("bounded")
    log = L.Logger(lambda line: None, L.INFO, ring)
    for i in range(400):
        hostclock.clock.advance(L.FLASH_REFILL_MS)    # slow enough to be within the budget
        log.warn("zone %d: sensor trouble, a line of about sixty characters", i)
    with open(path) as f:
        size = len(f.read())
    assert L.FILE_BYTES // 2 <= size <= L.FILE_BYTES + L.LINE_CHARS
    saved = L.read_saved(path)
    assert saved[-1][2].startswith("zone 399:") and not saved[0][2].startswith("zone 0:")
    assert "log.txt.tmp" not in __import__("os").listdir(path[:path.rfind("/")])


def test_a_burst_of_errors_writes_a_few_lines_and_says_how_many_were_not_saved():
    ring, path = _ring("burst")
    log = L.Logger(lambda line: None, L.INFO, ring)
    for i in range(100):                 # a fault repeating every 10 ms loop step
        hostclock.clock.advance(10)
        log.error("loop error: %r", i)
    assert ring.writes == L.FLASH_BURST
    assert len(ring.entries()) == L.RING_LINES          # RAM still has the latest
    hostclock.clock.advance(L.FLASH_REFILL_MS)
    log.error("loop error: %r", "later")
    last = L.read_saved(path)[-1][2]
    assert last == "(%d not saved) loop error: 'later'" % (100 - L.FLASH_BURST), last


def test_a_full_or_missing_flash_never_raises():
    hostclock.use_virtual(0)
    ring = L.Ring(fresh_dir("log_missing") + "/no/such/dir/log.txt")
    log = L.Logger(lambda line: None, L.INFO, ring)
    log.error("storage: %s", "full")
    assert ring.failed and ring.unsaved == 1 and ring.entries()[0][2] == "storage: full"
    assert L.read_saved("/no/such/file") == []


def _secret_values():
    from sample_board import read_json
    sec = read_json("secrets.sample.json")
    vals = [sec["wifi"]["password"], sec["mqtt"]["password"], sec["site_key"]]
    for u in sec["users"]:
        vals += [u["code"]["salt"], u["code"]["hash"]]
    for c in sec["cards"]:
        vals += [c["uid"]["salt"], c["uid"]["hash"]]
    return vals


def test_nothing_secret_reaches_the_log_ring_nor_its_file():
    from sample_board import Board
    hostclock.use_virtual(0)
    path = fresh_dir("log_secret_f") + "/log.txt"
    ring = L.Ring(path)
    # The public sample secrets: the boot warns SAMPLE SECRETS IN USE (names, never values).
    b = Board("log_secret", log=L.Logger(lambda line: None, L.INFO, ring), sample_secrets=True)
    b.run(1000)
    for code in ("918273", "918274", "918275", "918276", "918277"):   # guessing: a lockout
        b.app.operate("disarm", b.now(), code=code)
    b.app.operate("disarm", b.now(), card="DEADBEEF99")
    b.app.ops.remote(b'{"v":1,"site":"sample-house","cmd":"disarm","code":"918278"}', b.now())
    b.run(400000, 1000)             # the lockout runs out
    b.app.operate("arm", b.now(), code="1234", mode="away")
    b.run(1000)
    text = "\n".join([e[2] for e in ring.entries()])
    assert "lockout" in text or "461" in text, text
    with open(path) as f:
        saved = f.read()
    assert "SAMPLE SECRETS IN USE" in saved and "site_key" in saved
    for v in _secret_values() + ["918273", "918277", "918278", "DEADBEEF99"]:
        assert v not in text and v not in saved, v


def test_an_idle_controller_writes_nothing_to_the_log_file():
    from sample_board import Board
    hostclock.use_virtual(0)
    ring = L.Ring(fresh_dir("log_idle_f") + "/log.txt")
    b = Board("log_idle", log=L.Logger(lambda line: None, L.INFO, ring))
    b.run(5000)
    before = ring.writes
    b.run(600000, 100)              # ten idle minutes
    assert ring.writes == before


def test_a_damaged_log_file_is_read_around_never_raises():
    # A power cut or a worn sector leaves hostile bytes in log.txt: service.logs must still
    # return the readable lines (the events before them are printed already), never raise.
    ring, path = _ring("damaged")
    log = L.Logger(lambda line: None, L.INFO, ring)
    log.warn("first %d", 1)
    log.warn("second %d", 2)
    with open(path, "rb") as f:
        good = f.read()
    cut = good.index(b"\n") + 1            # the damage lands in the second line
    for junk in (b"\xff\xfe\x80", b"\xc3", b"\x00\t\t\t", b"\xe3\x81"):
        with open(path, "wb") as f:
            f.write(good[:cut] + junk + good[cut:])
        saved = L.read_saved(path)
        assert saved[0][2] == "first 1", saved
