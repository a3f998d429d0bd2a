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


# ---- the configuration: keypad, I2C bus, display; zone names the display can draw ------------

import json

from check import raises
from mimamori.store.config import ConfigError, validate_config

S3 = "boards/esp32s3-devkitc/"
DEVKITC = "boards/esp32-devkitc/"


def _json(path):
    with open(path) as f:
        return json.loads(f.read())


def _errors(cfg, pins):
    with raises(ConfigError) as r:
        validate_config(cfg, pins)
    return r.value.errors


def test_the_panel_sample_validates_with_every_default_filled_and_no_panel_means_none():
    cfg = _json(S3 + "config.panel.sample.json")
    del cfg["keypad"]["debounce_ms"]
    del cfg["display"]["contrast"]
    del cfg["display"]["sleep_min"]
    del cfg["i2c"]["freq"]
    out = validate_config(cfg, _json(S3 + "pins.json"))
    assert out["keypad"] == {"rows": [12, 13, 14, 15], "cols": [16, 17, 18, 8], "panic": 7,
                             "medical": 3, "cancel": 46, "debounce_ms": 30}
    assert out["i2c"] == {"id": 0, "sda": 38, "scl": 48, "freq": 400000}
    assert out["display"] == {"type": "ssd1306", "address": 60, "contrast": 207,
                              "sleep_min": 10}
    plain = validate_config(_json(S3 + "config.sample.json"), _json(S3 + "pins.json"))
    assert plain["keypad"] is None and plain["i2c"] is None and plain["display"] is None


def test_keypad_pins_are_checked_against_the_board_with_path_named_errors():
    cfg = _json(DEVKITC + "config.sample.json")
    cfg["keypad"] = {"rows": [34, 4, 0, 40], "cols": [35, 1, 2], "panic": None}
    assert _errors(cfg, _json(DEVKITC + "pins.json")) == [
        "keypad.rows[0]: GPIO 34 is input-only on esp32-devkitc",
        "keypad.rows[1]: GPIO 4 is already used by zones[0].gpio",
        "keypad.rows[2]: GPIO 0 is a strapping pin on esp32-devkitc (internal pull-up; low at "
        "reset enters the serial download mode (BOOT button): a closed contact or a load here "
        "stops the controller booting): use another pin",
        "keypad.rows[3]: GPIO 40 does not exist on esp32-devkitc",
        "keypad.cols: expected a list of 4 GPIO numbers, got 3"]


def test_a_keypad_column_needs_a_pull_up_and_the_display_needs_the_bus():
    cfg = _json(DEVKITC + "config.sample.json")
    cfg["zones"] = cfg["zones"][:3]
    cfg["supervision"] = {}
    cfg["keypad"] = {"rows": [17, 18, 19, 21], "cols": [22, 23, 25, 34]}
    cfg["display"] = {"address": 62}
    assert _errors(cfg, _json(DEVKITC + "pins.json")) == [
        "keypad.cols[3]: GPIO 34 has no internal pull resistor on esp32-devkitc: a keypad "
        "input needs one",
        "display: the display is on the I2C bus: configure i2c (sda, scl) as well",
        "display.address: 62 is not an SSD1306 address: 60 (0x3C, SA0 low) or 61 (0x3D, SA0 "
        "high)"]


def test_a_zone_name_the_display_cannot_draw_is_refused_naming_the_zone_and_the_character():
    cfg = _json(DEVKITC + "config.sample.json")
    cfg["zones"][2]["name"] = "リビング\u2603窓"
    assert _errors(cfg, _json(DEVKITC + "pins.json")) == [
        "zones[2].name: 'リビング\u2603窓': the panel's display font has no \u2603 (use other "
        "words, or add the kanji to tools/font.py ROOM_KANJI and rebuild the font)"]
