# A fake SSD1306 OLED controller on the fake I2C bus: it decodes the bytes the driver sends as the
# chip does (SSD1306 datasheet rev 1.1: control byte 8.1.5.2, commands section 10, addressing
# modes 10.1.3) and keeps the display RAM (GDDRAM), so a test reads back the pixels a resident
# would see. Plain Python that also runs inside the real MicroPython interpreter.
#
#   oled = attach(bus=0)             # on machine's fake I2C bus 0 at 0x3C (i2c_attach)
#   oled.pixel(x, y)                 # 1 if lit on the glass (off, inverse, charge pump counted)
#   oled.rows()                      # the glass as 64 strings of "#" and "."
#
# The glass: a module wired as the common 0.96" boards are, so the usual init (segment remap
# A1, COM scan C8) shows column 0 of page 0 at the top left; the other settings mirror it. A
# display that is off, or whose charge pump is off (no panel voltage on these modules), shows
# nothing. Reading from the chip returns its status byte (bit 6: display off), as on I2C.
import machine

ADDRESS = 0x3C
# Commands with arguments: command -> number of argument bytes (datasheet table 9-1).
_ARGS = {0x20: 1, 0x21: 2, 0x22: 2, 0x81: 1, 0x8D: 1, 0xA8: 1, 0xD3: 1, 0xD5: 1, 0xD9: 1,
         0xDA: 1, 0xDB: 1, 0x26: 6, 0x27: 6, 0x29: 5, 0x2A: 5, 0xA3: 2}


class SSD1306Peer:
    def __init__(self):
        self.ram = bytearray(128 * 8)     # GDDRAM: page * 128 + column
        self.on = False                   # AE / AF
        self.pump = False                 # 8D 14 / 8D 10
        self.inverse = False              # A6 / A7
        self.all_on = False               # A4 / A5
        self.remap = False                # A0 / A1
        self.com_dec = False              # C0 / C8
        self.contrast = 0x7F
        self.mode = 2                     # 20 xx: 0 horizontal, 1 vertical, 2 page (reset)
        self.col_start, self.col_end = 0, 127
        self.page_start, self.page_end = 0, 7
        self.col = 0
        self.page = 0
        self.start_line = 0
        self.offset = 0
        self.commands = 0                 # commands decoded
        self.data_bytes = 0               # GDDRAM bytes written
        self.transfers = 0                # I2C write transactions
        self.unknown = []                 # command bytes it did not know
        self._pending = None              # (command, args so far, args needed)

    # ---- the I2C side (machine.I2C calls these for a peer object) -------------------------
    def i2c_write(self, data):
        self.transfers += 1
        i = 0
        n = len(data)
        while i < n:
            ctrl = data[i]
            i += 1
            co = ctrl & 0x80
            dc = ctrl & 0x40
            if co:                       # one byte, then another control byte
                if i < n:
                    self._byte(data[i], dc)
                    i += 1
                continue
            while i < n:                 # the rest of the transfer
                self._byte(data[i], dc)
                i += 1
        return n

    def i2c_read_into(self, buf):
        status = 0x40 if not self.on else 0x00
        for i in range(len(buf)):
            buf[i] = status

    def _byte(self, b, data):
        if data:
            self._data(b)
        else:
            self._command(b)

    def _command(self, b):
        p = self._pending
        if p is not None:
            p[1].append(b)
            if len(p[1]) == p[2]:
                self._pending = None
                self._apply(p[0], p[1])
            return
        self.commands += 1
        need = _ARGS.get(b)
        if need:
            self._pending = (b, [], need)
            return
        if b in (0xAE, 0xAF):
            self.on = b == 0xAF
        elif b in (0xA4, 0xA5):
            self.all_on = b == 0xA5
        elif b in (0xA6, 0xA7):
            self.inverse = b == 0xA7
        elif b in (0xA0, 0xA1):
            self.remap = b == 0xA1
        elif b in (0xC0, 0xC8):
            self.com_dec = b == 0xC8
        elif 0x40 <= b <= 0x7F:
            self.start_line = b & 0x3F
        elif b <= 0x0F:                  # page mode: lower nibble of the column
            self.col = (self.col & 0xF0) | b
        elif b <= 0x1F:                  # page mode: upper nibble
            self.col = (self.col & 0x0F) | ((b & 0x0F) << 4)
        elif 0xB0 <= b <= 0xB7:          # page mode: the page
            self.page = b & 0x07
        elif b in (0x2E, 0x2F, 0xE3):    # scroll off / on, NOP
            pass
        else:
            self.unknown.append(b)

    def _apply(self, c, a):
        if c == 0x20:
            self.mode = a[0] & 0x03
        elif c == 0x21:
            self.col_start, self.col_end = a[0] & 0x7F, a[1] & 0x7F
            self.col = self.col_start
        elif c == 0x22:
            self.page_start, self.page_end = a[0] & 0x07, a[1] & 0x07
            self.page = self.page_start
        elif c == 0x81:
            self.contrast = a[0]
        elif c == 0x8D:
            self.pump = bool(a[0] & 0x04)
        elif c == 0xD3:
            self.offset = a[0] & 0x3F

    def _data(self, b):
        self.data_bytes += 1
        self.ram[self.page * 128 + self.col] = b
        if self.mode == 0:               # horizontal: column, then page, in the window
            if self.col >= self.col_end:
                self.col = self.col_start
                self.page = self.page_start if self.page >= self.page_end else self.page + 1
            else:
                self.col += 1
        elif self.mode == 1:             # vertical: page, then column
            if self.page >= self.page_end:
                self.page = self.page_start
                self.col = self.col_start if self.col >= self.col_end else self.col + 1
            else:
                self.page += 1
        else:                            # page mode: the column wraps within the page
            self.col = 0 if self.col >= 127 else self.col + 1

    # ---- the glass ----------------------------------------------------------------------------
    def lit(self):
        """Anything can show at all: display on and the charge pump making panel voltage."""
        return self.on and self.pump

    def ram_pixel(self, col, row):
        return (self.ram[(row >> 3) * 128 + col] >> (row & 7)) & 1

    def pixel(self, x, y):
        """1 if the pixel at glass position (x, y), top left (0, 0), is lit."""
        if not self.lit():
            return 0
        if self.all_on:
            return 1
        col = x if self.remap else 127 - x
        row = y if self.com_dec else 63 - y
        row = (row + self.start_line + self.offset) & 63
        v = self.ram_pixel(col, row)
        return v ^ 1 if self.inverse else v

    def rows(self):
        """The glass: 64 strings of 128 '#' (lit) or '.'."""
        return ["".join("#" if self.pixel(x, y) else "." for x in range(128)) for y in range(64)]

    def text_rows(self, top, height=8, left=0, width=128):
        """A band of the glass, e.g. one 8-pixel text line, as strings."""
        return ["".join("#" if self.pixel(x, y) else "." for x in range(left, left + width))
                for y in range(top, top + height)]

    def lit_count(self):
        return sum(self.pixel(x, y) for y in range(64) for x in range(128))


def attach(bus=0, address=ADDRESS):
    """A fresh SSD1306 on the fake I2C bus `bus`."""
    peer = SSD1306Peer()
    machine.i2c_attach(bus, address, peer)
    return peer
