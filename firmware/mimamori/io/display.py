# Japanese text on the SSD1306: eight lines of 8-pixel text, drawn with the generated bitmap font
# (io/font_ja.py, built by tools/font.py from 美咲フォント). Kanji and kana are 8 pixels wide (16
# to a line), ASCII 4 (32 to a line).
#
#   d = TextDisplay(SSD1306(i2c))
#   d.line(0, "外出", invert=True)   # True if the line changed (and was redrawn in the buffer)
#   d.flush()                        # send the pages that changed; nothing when none did
#
# Each text line is one GDDRAM page, so a line that changed costs one page (128 bytes) on the bus
# and an unchanged line costs a string comparison. A character the font lacks is drawn as a box:
# the build refuses texts with such characters (tools/font.py) and the validator zone names, so on
# the board the box means a bug, never a blank.
from mimamori.compat import const
from mimamori.io import font_ja as font

LINES = const(8)
WIDTH = const(128)
MISSING_W = const(6)         # the box drawn for a character the font lacks


def find(code):
    """Index of code point `code` in the font, or -1. Binary search over the sorted CODES;
    allocates nothing."""
    codes = font.CODES
    lo = 0
    hi = font.COUNT - 1
    while lo <= hi:
        mid = (lo + hi) >> 1
        c = (codes[2 * mid] << 8) | codes[2 * mid + 1]
        if c == code:
            return mid
        if c < code:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1


def glyph(i):
    """(start in font.GLYPHS, width in pixels) of glyph index i."""
    o = font.OFFS
    a = (o[2 * i] << 8) | o[2 * i + 1]
    b = (o[2 * i + 2] << 8) | o[2 * i + 3]
    return a, b - a


def char_width(ch):
    i = find(ord(ch))
    if i < 0:
        return MISSING_W
    o = font.OFFS
    return ((o[2 * i + 2] << 8) | o[2 * i + 3]) - ((o[2 * i] << 8) | o[2 * i + 1])


def lacks(s):
    """The characters of s the font cannot draw, each once, in order (the validator: zone
    names)."""
    out = []
    for ch in s:
        if find(ord(ch)) < 0 and ch not in out:
            out.append(ch)
    return out


def text_width(s):
    w = 0
    for ch in s:
        w += char_width(ch)
    return w


def fit(s, width=WIDTH):
    """How many characters of s fit in `width` pixels."""
    w = 0
    n = 0
    for ch in s:
        w += char_width(ch)
        if w > width:
            return n
        n += 1
    return n


def draw(buf, page, x, s, invert=False):
    """Draw s into page `page` of a GDDRAM-layout buffer from column x, clipped at the right
    edge. Returns the column after the text."""
    base = page * WIDTH
    g = font.GLYPHS
    for ch in s:
        i = find(ord(ch))
        if i < 0:
            a, w = -1, MISSING_W
        else:
            a, w = glyph(i)
        for k in range(w):
            if x >= WIDTH:
                return x
            if a < 0:
                col = 0x7F if k == 0 or k == w - 2 else (0x41 if k < w - 1 else 0)
            else:
                col = g[a + k]
            buf[base + x] = col ^ 0xFF if invert else col
            x += 1
    return x


class TextDisplay:
    """Eight text lines on an SSD1306; remembers what each shows, redraws only what changed."""

    def __init__(self, oled):
        self.oled = oled
        self.buf = oled.buf
        self._text = [""] * LINES
        self._inv = bytearray(LINES)
        self._dirty = 0                 # bit p: page p changed since the last flush
        self.redraws = 0                # lines redrawn (tests, bench)

    def line(self, n, text, invert=False):
        """Show `text` on line n (0 = top); True if it changed."""
        inv = 1 if invert else 0
        if self._text[n] == text and self._inv[n] == inv:
            return False
        self._text[n] = text
        self._inv[n] = inv
        buf = self.buf
        base = n * WIDTH
        fill = 0xFF if invert else 0
        for x in range(WIDTH):
            buf[base + x] = fill
        draw(buf, n, 1 if invert else 0, text, invert)
        self._dirty |= 1 << n
        self.redraws += 1
        return True

    def text(self, n):
        return self._text[n]

    def forget(self):
        """The chip lost its picture (reset, re-initialised): send every page at the next
        flush."""
        self._dirty = (1 << LINES) - 1

    def flush(self):
        """Send the changed pages; False (and nothing on the bus) when none changed."""
        d = self._dirty
        if not d:
            return False
        self._dirty = 0
        for p in range(LINES):
            if d & (1 << p):
                self.oled.show_page(p)
        return True
