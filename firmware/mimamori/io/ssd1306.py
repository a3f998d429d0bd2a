# SSD1306 128x64 OLED over I2C: the panel's display chip. Our own small driver on machine.I2C.
#
#   oled = SSD1306(i2c)              # the controller's I2C bus, the module at 0x3C
#   oled.init()                      # power-on sequence, blank screen (OSError: no chip answers)
#   oled.buf[...] = ...              # 1024 bytes: 8 pages of 128 columns (GDDRAM layout)
#   oled.show_page(p)                # one page (8 pixel rows) to the chip
#
# `buf` is laid out as the chip's display RAM (GDDRAM): page p (pixel rows 8p..8p+7) is bytes
# 128p..128p+127, one byte per column, bit 0 the top row. That is framebuf's MONO_VLSB, so a
# framebuf.FrameBuffer can wrap it for lines and boxes, and a font stored as columns (io/font_ja.py)
# is copied in byte by byte. Only the pages that changed are sent (io/display.py): a full frame is
# 1 KB, about 25 ms at 400 kHz, a page 3 ms.
#
# Command numbers are those of the SSD1306 datasheet (Solomon Systech, rev 1.1, section 10).
# Control byte (datasheet 8.1.5.2): Co = 0, D/C# = 0 -> the rest are commands; D/C# = 1 -> GDDRAM
# data. Sending goes through preallocated buffers and memoryviews: no allocation per frame.
from mimamori.compat import const

ADDRESS = const(0x3C)        # SA0 low; 0x3D with SA0 high
WIDTH = const(128)
HEIGHT = const(64)
PAGES = const(8)

CTRL_CMD = const(0x00)       # Co = 0, D/C# = 0: a command stream follows
CTRL_DATA = const(0x40)      # Co = 0, D/C# = 1: a GDDRAM data stream follows

SET_CONTRAST = const(0x81)          # 10.1.7, one argument 0..255
DISPLAY_RAM = const(0xA4)           # 10.1.8: A4 follow GDDRAM, A5 all pixels on
NORMAL = const(0xA6)                # 10.1.9: A6 normal, A7 inverse
DISPLAY_OFF = const(0xAE)           # 10.1.12: AE sleep, AF on
DISPLAY_ON = const(0xAF)
MEMORY_MODE = const(0x20)           # 10.1.3: 0 horizontal, 1 vertical, 2 page addressing
COLUMN_ADDR = const(0x21)           # 10.1.4: start, end column
PAGE_ADDR = const(0x22)             # 10.1.5: start, end page
START_LINE = const(0x40)            # 10.1.6: 0x40 | line
SEG_REMAP = const(0xA1)             # 10.1.8: column 127 -> SEG0 (the usual module orientation)
MUX_RATIO = const(0xA8)             # 10.1.11: multiplex ratio - 1
COM_SCAN_DEC = const(0xC8)          # 10.1.14: scan COM[N-1] -> COM0
DISPLAY_OFFSET = const(0xD3)        # 10.1.15
COM_PINS = const(0xDA)              # 10.1.18: 0x12 alternative COM pins (128x64)
CLOCK_DIV = const(0xD5)             # 10.1.16
PRECHARGE = const(0xD9)             # 10.1.17
VCOM_DESELECT = const(0xDB)         # 10.1.19
CHARGE_PUMP = const(0x8D)           # application note: 0x14 on (modules without external VCC)

# Power-on sequence (datasheet figure 8-13 and the module makers' application note).
INIT = bytes((DISPLAY_OFF, MEMORY_MODE, 0x00, START_LINE | 0, SEG_REMAP, MUX_RATIO, HEIGHT - 1,
              COM_SCAN_DEC, DISPLAY_OFFSET, 0x00, COM_PINS, 0x12, CLOCK_DIV, 0x80,
              PRECHARGE, 0xF1, VCOM_DESELECT, 0x30, SET_CONTRAST, 0xCF, DISPLAY_RAM, NORMAL,
              CHARGE_PUMP, 0x14, DISPLAY_ON))


class SSD1306:
    def __init__(self, i2c, address=ADDRESS):
        self.i2c = i2c
        self.address = address
        self.buf = bytearray(WIDTH * PAGES)
        mv = memoryview(self.buf)
        self._pages = tuple(mv[p * WIDTH:(p + 1) * WIDTH] for p in range(PAGES))
        self._window = bytearray((COLUMN_ADDR, 0, WIDTH - 1, PAGE_ADDR, 0, 0))
        self._one = bytearray(2)
        self._one_mv = (memoryview(self._one)[:1], memoryview(self._one))
        self.writes = 0          # I2C transfers (bench, tests: nothing is sent while idle)
        self.ready = False       # set up by init() (False again: set it up before drawing)
        self.on = False          # the display lit (power())

    def init(self, contrast=None):
        """The power-on sequence, then `buf` on the screen. Raises OSError when no chip answers
        (absent, unpowered, or a wrong address)."""
        self.ready = False
        self._cmd(INIT)
        if contrast is not None:
            self.contrast(contrast)
        for p in range(PAGES):
            self.show_page(p)
        self.ready = True
        self.on = True

    def _cmd(self, data):
        self.i2c.writeto_mem(self.address, CTRL_CMD, data)
        self.writes += 1

    def _cmd1(self, c):
        self._one[0] = c
        self._cmd(self._one_mv[0])

    def _cmd2(self, c, arg):
        self._one[0] = c
        self._one[1] = arg
        self._cmd(self._one_mv[1])

    def show_page(self, p):
        """Send page p (pixel rows 8p..8p+7) of `buf` to the chip."""
        w = self._window
        w[4] = p
        w[5] = p
        self._cmd(w)
        self.i2c.writeto_mem(self.address, CTRL_DATA, self._pages[p])
        self.writes += 1

    def power(self, on):
        """Display on, or asleep (the RAM is kept; about 10 uA)."""
        self._cmd1(DISPLAY_ON if on else DISPLAY_OFF)
        self.on = bool(on)

    def contrast(self, level):
        self._cmd2(SET_CONTRAST, max(0, min(255, level)))

    def invert(self, on):
        self._cmd1(NORMAL | (1 if on else 0))
