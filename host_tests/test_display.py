# The panel's OLED: the SSD1306 driver against a fake chip that decodes the I2C bytes as the
# SSD1306 does and keeps its display RAM (host_tests/fakes/ssd1306_peer.py), and the whole
# controller with a display (boards/esp32s3-devkitc/config.panel.sample.json): the glass shows
# what the resident must see, in the misaki bitmap glyphs; nothing is sent while nothing changes;
# drawing allocates nothing in the steady state (heap_lock, real on MicroPython).
RUNS_ON_MICROPYTHON = True

import json

import hostclock
import machine
import micropython
import ssd1306_peer
from keypad_peer import KeyMatrix
from offline_link import OfflineLink
from scratch import fresh_dir
from mimamori.app import App
from mimamori.io import font_ja
from mimamori.io.clock import WallClock
from mimamori.io.display import TextDisplay, text_width
from mimamori.io.ssd1306 import SSD1306
from mimamori.store.config import validate_config, validate_secrets

BOARD = "boards/esp32s3-devkitc/"

# 玄 as drawn in 美咲ゴシック's 8-pixel bitmap strike (misaki_gothic.ttf, EBDT), read with a
# pixel viewer: the oracle for the glyph data and for the driver that puts it on the glass.
GEN_MISAKI = ["...#....",
              "#######.",
              "..#.....",
              ".##.#...",
              "...#....",
              "..#..#..",
              "#####.#.",
              "........"]


def _glyphs():
    """{char: columns} straight from the generated module's tables (not through the driver)."""
    out = {}
    for i in range(font_ja.COUNT):
        code = (font_ja.CODES[2 * i] << 8) | font_ja.CODES[2 * i + 1]
        a = (font_ja.OFFS[2 * i] << 8) | font_ja.OFFS[2 * i + 1]
        b = (font_ja.OFFS[2 * i + 2] << 8) | font_ja.OFFS[2 * i + 3]
        out[chr(code)] = font_ja.GLYPHS[a:b]
    return out


GLYPHS = _glyphs()


def expected_line(text, invert=False):
    """The 8 glass rows a text line must show: glyph columns side by side from x=0 (x=1 in the
    inverse title bar), clipped at 128."""
    cols = [0] * (1 if invert else 0)
    for ch in text:
        cols += list(GLYPHS[ch])
    cols = (cols + [0] * 128)[:128]
    rows = []
    for y in range(8):
        bits = ["#" if (c >> y) & 1 else "." for c in cols]
        if invert:
            bits = ["." if b == "#" else "#" for b in bits]
        rows.append("".join(bits))
    return rows


def shows(peer, n, text, invert=False):
    return peer.text_rows(8 * n) == expected_line(text, invert)


def _oled():
    machine.reset_all("esp32s3")
    peer = ssd1306_peer.attach(0)
    i2c = machine.I2C(0, scl=machine.Pin(48), sda=machine.Pin(38), freq=400000)
    oled = SSD1306(i2c)
    oled.init()
    return peer, oled, TextDisplay(oled)


def test_the_driver_sets_the_chip_up_and_the_glass_is_blank_and_lit():
    peer, oled, d = _oled()
    assert peer.on and peer.pump and peer.remap and peer.com_dec and peer.mode == 0
    assert peer.unknown == [] and peer.lit() and peer.lit_count() == 0


def test_a_kanji_is_drawn_on_the_glass_exactly_as_the_misaki_bitmap():
    peer, oled, d = _oled()
    d.line(2, "玄")
    d.flush()
    assert peer.text_rows(16, 8, 0, 8) == GEN_MISAKI
    assert peer.lit_count() == sum(r.count("#") for r in GEN_MISAKI)


def test_japanese_lines_and_the_inverse_title_bar_read_back_from_the_chip():
    peer, oled, d = _oled()
    d.line(0, "外出 故障", invert=True)
    d.line(1, "外出セット中 あと60秒")
    d.line(3, "開 玄関ドア")
    d.flush()
    assert shows(peer, 0, "外出 故障", invert=True)
    assert shows(peer, 1, "外出セット中 あと60秒")
    assert shows(peer, 3, "開 玄関ドア")
    assert shows(peer, 2, "") and shows(peer, 7, "")


def test_only_a_line_that_changed_goes_over_the_bus():
    peer, oled, d = _oled()
    d.line(1, "解除")
    d.flush()
    before = peer.transfers
    assert d.line(1, "解除") is False and d.flush() is False
    assert peer.transfers == before                   # nothing sent
    d.line(4, "故障 停電")
    d.flush()
    assert peer.transfers == before + 2               # the page window, one page of data
    assert peer.data_bytes == 128 * 8 + 128 * 2       # init: 8 pages; then two single pages
    assert shows(peer, 1, "解除") and shows(peer, 4, "故障 停電")


def test_a_character_outside_the_font_is_a_visible_box_not_a_blank():
    peer, oled, d = _oled()
    d.line(5, "\u2603")                               # a snowman: not a panel text
    d.flush()
    assert peer.text_rows(40, 8, 0, 6)[:2] == ["#####.", "#...#."]


def test_redrawing_the_same_text_and_flushing_allocates_nothing():
    peer, oled, d = _oled()
    t = "解除 / 停電"
    d.line(1, t)
    d.flush()
    micropython.heap_lock()
    try:
        for _ in range(100):
            d.line(1, t)
            d.flush()
    finally:
        micropython.heap_unlock()
    assert d.redraws == 1


# ---- the controller with a display ---------------------------------------------------------

def _json(name):
    with open(BOARD + name) as f:
        return json.loads(f.read())


def _normal_level(z):
    idle = 1 if z.get("pull", "up") in ("up", "none") else 0
    return (1 - idle) if z.get("wiring", "NC") == "NC" else idle


def _own(sec):
    from mimamori.core import auth
    sec["site_key"] = "5a" * 32
    n = 0
    for u, code in zip(sec["users"], ("1234", "5678")):
        n += 1
        u["code"] = auth.make_entry("code", code, bytes([n] * 16), u["code"]["iter"])
    for c in sec["cards"]:
        n += 1
        c["uid"] = auth.make_entry("card", "04A1B2C3", bytes([n] * 16), c["uid"]["iter"])
    return sec


class House:
    """The panel house on the fake ESP32-S3: the App, its OLED and its keypad."""

    def __init__(self, name, display=True, first_test_min=None):
        hostclock.use_virtual(0)
        machine.reset_all("esp32s3")
        raw = _json("config.panel.sample.json")
        if first_test_min is not None:    # (the link is offline: the first comm test fails)
            raw["timers"]["first_test_after_boot_min"] = first_test_min
        self.config = config = validate_config(raw, _json("pins.json"))
        secrets = validate_secrets(_own(_json("secrets.sample.json")), config)
        for z in config["zones"]:
            machine.Pin(z["gpio"]).drive(_normal_level(z))
        machine.Pin(config["supervision"]["ac_sense_gpio"]).drive(1)
        machine.ADC(machine.Pin(1)).set_uv(1800000)
        machine.ADC(machine.Pin(2)).set_uv(2070000)
        self.peer = ssd1306_peer.attach(0) if display else None
        kp = config["keypad"]
        self.pad = KeyMatrix(kp["rows"], kp["cols"], kp["panic"], kp["medical"], kp["cancel"])
        wall = WallClock(machine.RTC(), 540)
        wall.set_unix(1795316400)
        self.logs = []
        self.app = App(config, secrets, fresh_dir("display_" + name), hostclock.ticks_ms(),
                       machine_module=machine, link=OfflineLink(config["site_id"]), wall=wall,
                       log=self.logs.append)

    def run(self, ms, step_ms=10):
        for _ in range(ms // step_ms):
            hostclock.clock.advance(step_ms)
            self.app.step(hostclock.ticks_ms())

    def zone(self, zid, active):
        z = [z for z in self.config["zones"] if z["id"] == zid][0]
        level = _normal_level(z)
        machine.Pin(z["gpio"]).drive(1 - level if active else level)

    def line(self, n):
        return self.app.screen.d.text(n)


def test_the_panel_shows_the_mode_open_doors_and_the_exit_countdown_on_the_glass():
    h = House("show")
    h.run(1000)
    assert shows(h.peer, 0, "解除", invert=True) and shows(h.peer, 1, "解除")
    h.zone(1, True)                                   # 玄関ドア opens
    h.run(200)
    assert shows(h.peer, 3, "開 玄関ドア")
    h.zone(1, False)
    h.run(200)
    assert shows(h.peer, 3, "")
    h.app.operate("arm", hostclock.ticks_ms(), code="1234", mode="away")
    h.run(20)
    assert shows(h.peer, 0, "外出", invert=True) and shows(h.peer, 1, "外出セット中 あと60秒")
    h.run(1000)
    assert shows(h.peer, 1, "外出セット中 あと59秒")
    h.run(60000)
    assert shows(h.peer, 1, "外出")


def test_an_alarm_and_the_alarm_memory_after_the_disarm_are_on_the_glass():
    h = House("alarm")
    h.app.operate("arm", hostclock.ticks_ms(), code="1234", mode="away")
    h.run(61000)
    h.zone(3, True)                                   # リビング窓: an intrusion
    h.run(200)
    assert shows(h.peer, 1, "異常 侵入(外周) リビング窓")
    assert shows(h.peer, 3, "開 リビング窓")
    h.zone(3, False)
    h.app.operate("disarm", hostclock.ticks_ms(), code="1234")
    h.run(6000)            # (past any operation result the resident's panel line may show)
    assert shows(h.peer, 0, "解除 異常記憶", invert=True)
    assert shows(h.peer, 1, "異常 侵入(外周) リビング窓")


def test_a_long_panel_line_wraps_onto_the_second_line():
    h = House("wrap")
    h.run(200)
    ask = "台所の窓が開いていますので確認してください"            # a しらせてコール from the centre
    h.app.ops.run("ask", 0, hostclock.ticks_ms(), message=ask)
    h.run(20)
    text = h.app.display(hostclock.ticks_ms())
    assert ask in text
    assert (h.line(1) + h.line(2)).replace(" ", "") == text.replace(" ", "")
    assert 120 < text_width(h.line(1)) <= 128 and len(h.line(2)) > 0   # the line is full
    assert shows(h.peer, 1, h.line(1)) and shows(h.peer, 2, h.line(2))


def test_nothing_goes_over_the_bus_while_nothing_changes():
    h = House("idle")
    h.run(3000)
    before = h.peer.transfers
    updates = h.app.screen.updates
    h.run(10000)
    assert h.peer.transfers == before and h.app.screen.updates == updates


def test_the_loop_with_display_and_keypad_allocates_nothing_at_rest_and_armed():
    h = House("alloc")
    h.run(3000)
    assert h.app.core.mode == "disarmed" and h.app.rendered.trouble is False, h.app.display(0)
    micropython.heap_lock()
    try:
        h.run(2000)
    finally:
        micropython.heap_unlock()
    h.app.operate("arm", hostclock.ticks_ms(), code="1234", mode="away")
    h.run(62000)
    assert shows(h.peer, 1, "外出")
    micropython.heap_lock()
    try:
        h.run(2000)
    finally:
        micropython.heap_unlock()


def test_a_display_that_does_not_answer_never_stops_the_guarding_and_shows_once_plugged():
    h = House("unplugged", display=False)
    h.run(3000)
    assert h.app.errors == 0 and h.app.screen.errors >= 1
    h.zone(1, True)                                   # the house is still guarded
    h.run(200)
    assert h.app.core.zones[0].open
    peer = ssd1306_peer.attach(0)                     # plugged in
    h.run(5000)
    assert shows(peer, 0, "解除", invert=True) and shows(peer, 3, "開 玄関ドア")


def test_a_quiet_panel_goes_dark_and_lights_at_a_change_or_a_key_but_not_for_nothing_shown():
    h = House("sleep", first_test_min=1440)           # no comm test (and its trouble) for a day
    h.run(9 * 60000, 200)                             # 9 quiet minutes: still lit
    assert h.peer.lit() and shows(h.peer, 0, "解除", invert=True)
    h.run(61000, 200)                                 # 10 quiet minutes: dark (burn-in)
    assert not h.peer.lit() and h.peer.lit_count() == 0
    micropython.heap_lock()                           # asleep, the loop allocates nothing
    try:
        h.run(2000)
    finally:
        micropython.heap_unlock()
    h.app._state_dirty = True                         # an event that shows nothing
    h.run(1000)
    assert not h.peer.lit()
    h.pad.press("5")                                  # a key: lit, showing the current screen
    h.run(50)
    h.pad.release("5")
    h.run(50)
    assert h.peer.lit() and shows(h.peer, 0, "解除", invert=True)
    h.run(11 * 60000, 200)
    assert not h.peer.lit()
    h.zone(2, True)                                   # 勝手口 opens: what it shows changed
    h.run(200)
    assert h.peer.lit() and shows(h.peer, 3, "開 勝手口")


class KeyLog:
    """Records the keys the keypad hands the app (app.on_key), then passes them on."""

    def __init__(self, on_key):
        self.on_key = on_key
        self.got = []

    def __call__(self, key, down, now):
        self.got.append((key, down, now))
        self.on_key(key, down, now)


def test_keypad_keys_reach_the_app_with_their_press_time_and_count_as_activity():
    h = House("keys")
    log = KeyLog(h.app.on_key)
    h.app.on_key = log
    h.run(100)
    h.pad.press("5")
    t = hostclock.ticks_ms() + 10
    h.run(100)
    h.pad.release("5")
    h.run(100)
    assert log.got[0] == ("5", True, t) and log.got[1][:2] == ("5", False)
    # ライフ監視 (12 h): a key press 11 h into a quiet day starts the 12 hours again
    hostclock.clock.advance(11 * 3600 * 1000)
    h.app.step(hostclock.ticks_ms())
    h.pad.press("0")
    h.run(100)
    h.pad.release("0")
    h.run(6000)
    hostclock.clock.advance(2 * 3600 * 1000)
    h.app.step(hostclock.ticks_ms())
    h.run(100)
    assert 641 not in [e.cid for e, _up, _acked in h.app.journal.history()]
    hostclock.clock.advance(11 * 3600 * 1000)         # and then a quiet 12 h: reported
    h.app.step(hostclock.ticks_ms())
    h.run(100)
    assert 641 in [e.cid for e, _up, _acked in h.app.journal.history()]
