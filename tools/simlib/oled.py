"""The panel's OLED in the terminal: the 128x64 glass read back from the fake SSD1306
(host_tests/fakes/ssd1306_peer.py, VirtualBoard.oled_rows()) drawn with the generated font's
pixels exactly as the chip shows them.

    braille(rows)      -> 16 lines of 64 cells (2x4 pixels a cell, Unicode braille): fits 80x24
    halfblock(rows)    -> 32 lines of 128 cells (1x2 pixels a cell, ▀ ▄ █): a wide terminal
    boxed(lines)       -> the same lines in a frame, titled
    KEYS               -> the simulator's terminal key for each keypad key

Braille cells are one column wide in every terminal (block elements are "ambiguous width" in
CJK locales and may take two), so braille is the default.
"""

# Braille dot numbering (Unicode U+2800 + bits): the 2x4 cell's pixel (x, y) -> bit
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))

# The terminal's key for each keypad key in the simulator's panel mode (`make sim PANEL=1`):
# digits, * and # as themselves; the letter keys by what they do; the dedicated keys by mark.
KEYS = {str(d): str(d) for d in range(10)}
KEYS.update({"*": "*", "#": "#", "A": "A", "S": "B", "P": "C", "D": "D",
             "!": "PANIC", "?": "MEDICAL", "C": "CANCEL"})
KEY_HELP = ("テンキー 0-9 * #   A 外出  S 在宅  P 部分  D 解除   ! 非常(2秒押す)  ? 救急  "
            "C キャンセル")
HOLD_MS = {"PANIC": 2500}       # a key held this long in the simulator (非常: held 2 s)
PRESS_MS = 150


def _lit(rows, x, y):
    return y < len(rows) and x < len(rows[y]) and rows[y][x] == "#"


def braille(rows):
    """64x16 cells for a 128x64 glass (rows: strings of '#'/'.')."""
    h = len(rows)
    w = len(rows[0]) if rows else 0
    out = []
    for cy in range(0, h, 4):
        line = []
        for cx in range(0, w, 2):
            bits = 0
            for dy in range(4):
                for dx in range(2):
                    if _lit(rows, cx + dx, cy + dy):
                        bits |= _DOTS[dy][dx]
            line.append(chr(0x2800 + bits))
        out.append("".join(line))
    return out


def halfblock(rows):
    """128x32 cells for a 128x64 glass: each cell the pixel above and the one below."""
    out = []
    for y in range(0, len(rows), 2):
        top = rows[y]
        bottom = rows[y + 1] if y + 1 < len(rows) else "." * len(top)
        out.append("".join(" ▀▄█"[(t == "#") + 2 * (b == "#")] for t, b in zip(top, bottom)))
    return out


def boxed(lines, title=" 表示 OLED 128x64 "):
    """The lines in a frame; the title over the top edge."""
    from simlib.text import cells
    w = max(len(line) for line in lines) if lines else 0
    t = title if cells(title) <= w else ""
    return (["┌" + t + "─" * (w - cells(t)) + "┐"] + ["│" + line + "│" for line in lines]
            + ["└" + "─" * w + "┘"])


def blank(rows):
    """Nothing lit (the display off, or not yet set up)."""
    return not any("#" in r for r in rows)
