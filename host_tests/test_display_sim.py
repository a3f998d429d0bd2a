# The panel in the host tools: the virtual board's keypad and OLED read-back (tools/vboard.py),
# the OLED drawn in the terminal (tools/simlib/oled.py), and `make sim PANEL=1`: the house with
# the keypad and the display, keys typed in the terminal reaching the firmware's keypad driver.
import json
import os
import sys
import tempfile

import hostclock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import vboard  # noqa: E402
from offline_link import OfflineLink  # noqa: E402
from simlib import oled  # noqa: E402
from simlib.panel import Controls  # noqa: E402
from simlib.site import Site  # noqa: E402
from mimamori.store.config import validate_config, validate_secrets  # noqa: E402

S3 = os.path.join(ROOT, "boards", "esp32s3-devkitc")


class KeyLog:
    """Records the keys the keypad hands the app (app.on_key), then passes them on."""

    def __init__(self, app):
        self.on_key = app.on_key
        self.got = []
        app.on_key = self

    def __call__(self, key, down, now):
        self.got.append((key, down))
        self.on_key(key, down, now)


def _panel_board():
    def j(name):
        with open(os.path.join(S3, name), encoding="utf-8") as f:
            return json.load(f)
    cfg = validate_config(j("config.panel.sample.json"), j("pins.json"))
    sec = validate_secrets(vboard.own_secrets(j("secrets.sample.json")), cfg)
    hostclock.use_virtual(0)
    return vboard.VirtualBoard(cfg, sec, tempfile.mkdtemp(prefix="mimamori-panel-"),
                               link=OfflineLink(cfg["site_id"]))


def test_the_virtual_board_presses_keys_and_reads_the_oled_back_also_after_a_reboot():
    b = _panel_board()
    keys = KeyLog(b.app)
    b.run(500)
    b.press_key("5", 100)
    b.press_key("D", 100)
    assert keys.got == [("5", True), ("5", False), ("D", True), ("D", False)]
    assert b.display_lines()[0] == "解除"
    rows = b.oled_rows()
    assert len(rows) == 64 and all(len(r) == 128 for r in rows)
    assert rows[0].count("#") > 64                    # the inverse title bar
    b.power_cut(1000)
    b.reboot()
    keys = KeyLog(b.app)
    b.run(500)
    b.press_key("PANIC", 2100)
    assert keys.got == [("PANIC", True), ("PANIC", False)]
    assert b.display_lines()[0] == "解除"


def test_the_terminal_drawings_keep_every_pixel():
    rows = ["." * 128 for _ in range(64)]
    rows[0] = "#" + rows[0][1:]
    rows[3] = "." + "#" + rows[3][2:]
    rows[63] = rows[63][:127] + "#"
    br = oled.braille(rows)
    assert len(br) == 16 and all(len(x) == 64 for x in br)
    assert br[0][0] == chr(0x2800 + 0x01 + 0x80)      # dots 1 and 8 of the first cell
    assert br[15][63] == chr(0x2800 + 0x80)
    hb = oled.halfblock(rows)
    assert len(hb) == 32 and all(len(x) == 128 for x in hb)
    assert hb[0][0] == "▀" and hb[1][1] == "▄" and hb[31][127] == "▄"
    box = oled.boxed(br)
    assert len(box) == 18 and box[1] == "│" + br[0] + "│"


def test_make_sim_panel_shows_the_oled_and_takes_keypad_keys():
    site = Site(clock="virtual", panel=True)
    try:
        assert site.board.oled is not None and site.board.keypad is not None
        assert site.config["keypad"] and not site.landline
        assert site.settle(site.ready, 10)
        keys = KeyLog(site.app)
        controls = Controls(site)
        for ch in "12A!":
            controls.key(ch)
            site.run(300)
        site.run(3000)                                # 非常 is held 2.5 s in the simulator
        assert [k for k, d in keys.got if d] == ["1", "2", "A", "PANIC"]
        assert [k for k, d in keys.got if not d] == ["1", "2", "A", "PANIC"]
        controls.key("a")                             # zone keys still work: 玄関ドア opens
        site.run(200)
        assert "開 玄関ドア" in site.board.display_lines()
        art = oled.braille(site.board.oled_rows())
        assert any(ch != chr(0x2800) for ch in "".join(art[6:8]))   # line 3 is lit
    finally:
        site.close()


def test_the_panel_house_takes_keypad_keys_and_card_taps_of_both_kinds():
    # `make sim PANEL=1`: the keypad, the OLED and the ライフカード reader on the OLED's I2C bus
    # (another address): a MIFARE tap arms, a FeliCa tap disarms, the glass shows each answer.
    from simlib.site import SAMPLE_CARD, SAMPLE_FELICA
    site = Site(clock="virtual", reader=True, panel=True)
    try:
        assert site.settle(site.ready, 10)
        assert site.board.keypad is not None and site.board.oled is not None
        assert site.tap_card(SAMPLE_CARD, "mifare") == "セットしました"
        assert site.app.core.mode == "away"
        site.run(61000)
        assert site.tap_card(SAMPLE_FELICA, "felica") == "解除しました"
        assert site.app.core.mode == "disarmed"
        site.run(500)
        assert any("解除しました" in line for line in site.board.display_lines())
        site.press_key("5", 100)                     # the keypad still answers
        site.run(300)
        assert any("*" in line for line in site.board.display_lines())   # 暗証番号 *
    finally:
        site.close()
