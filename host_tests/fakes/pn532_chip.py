# A fake NXP PN532 on the fake machine's I2C bus, answering real frames as the chip does
# (PN532 User Manual UM0701-02, 6.2): the driver under test talks to it exactly as to the chip.
#
#   chip = PN532Chip().attach(bus=0)          # at 0x24 on I2C(0)
#   chip.place(Mifare("04A1B2C3"))            # a card held on the reader
#   chip.place(Felica("012E4CD1A2B3C4D5", rates=(212,)))
#   chip.remove()                             # taken away
#
# What it checks and does, like the chip:
# - a host frame must have the preamble/start code 00 00 FF, LEN + LCS = 0, TFI D4, and
#   TFI + data + DCS = 0; a frame that fails any of these is ignored (no ACK: the host times out)
#   and counted in `rejected`;
# - a good command is ACKed (00 00 FF 00 FF 00), and its response is ready `response_ms` later;
# - every I2C read starts with the status byte: 0x01 when a frame is ready, else 0x00; a read
#   longer than the status byte takes the frame (a short read loses the rest of it);
# - NACK (00 00 FF FF 00 00) from the host: the last response is sent again;
# - an unknown command gets the syntax error frame 00 00 FF 01 FF 7F 81 00.
# Test knobs: `corrupt` (the next n responses carry a wrong DCS), `mute` (no status ever ready:
# a hung chip), detach() (gone from the bus: its address NACKs), `count` (commands received, by
# code).
# Plain code: it also runs inside the real MicroPython interpreter (allocation-free while the
# host only asks for the status byte).
import hostclock
import machine

ADDRESS = 0x24
ACK = b"\x00\x00\xff\x00\xff\x00"
NACK = b"\x00\x00\xff\xff\x00\x00"
ERROR_FRAME = b"\x00\x00\xff\x01\xff\x7f\x81\x00"
FELICA_POLLING = b"\x00\xff\xff\x01\x00"


def _unhex(s):
    return bytes([int(s[i:i + 2], 16) for i in range(0, len(s), 2)])


def response_frame(data):
    """PN532 -> host information frame with TFI D5 and `data` (response code first)."""
    body = bytes([0xD5]) + bytes(data)
    n = len(body)
    return (b"\x00\x00\xff" + bytes([n, (256 - n) & 0xFF]) + body
            + bytes([(256 - sum(body)) & 0xFF, 0x00]))


_NO_TARGET = response_frame(b"\x4b\x00")      # InListPassiveTarget: NbTg 0


class Mifare:
    """An ISO/IEC 14443A card (MIFARE Classic / Ultralight / DESFire ...): UID 4, 7 or 10 bytes."""

    kind = "mifare"

    def __init__(self, uid_hex, sel_res=0x08):
        self.uid = _unhex(uid_hex)
        assert len(self.uid) in (4, 7, 10)
        self.sel_res = sel_res

    def target(self, brty, data):
        if brty != 0x00:
            return None
        # SENS_RES (ATQA): UID size in bits 7-6 of its first byte: single 00, double 01, triple 10
        size = {4: 0x04, 7: 0x44, 10: 0x84}[len(self.uid)]
        return bytes([0x00, size, self.sel_res, len(self.uid)]) + self.uid


class Felica:
    """A FeliCa card (交通系IC, Edy, nanaco, or an issued card): IDm 8 bytes; answers polling
    at the rates in `rates` (kbps)."""

    kind = "felica"

    def __init__(self, idm_hex, rates=(212, 424), pmm_hex="0120220427674EFF",
                 system_code=b"\x00\x03"):
        self.idm = _unhex(idm_hex)
        assert len(self.idm) == 8
        self.rates = rates
        self.pmm = _unhex(pmm_hex)
        self.system_code = system_code

    def target(self, brty, data):
        rate = {0x01: 212, 0x02: 424}.get(brty)
        if rate is None or rate not in self.rates:
            return None
        if len(data) != 5 or data[0] != 0x00:
            return None                     # not a polling command: a card stays silent
        pol = bytes([0x01]) + self.idm + self.pmm
        if data[3] == 0x01:                 # request code 01: the system code too
            pol += self.system_code
        return bytes([len(pol) + 1]) + pol


class PN532Chip:
    def __init__(self, response_ms=3, firmware=(0x32, 0x01, 0x06, 0x07)):
        self.response_ms = response_ms
        self.firmware = firmware
        self.cards = []             # cards in the field
        self.count = [0] * 256      # good commands received, by command code
        self.rejected = 0           # host frames ignored for a bad LEN/LCS/DCS/TFI
        self.nacks = 0              # NACKs received
        self.corrupt = 0            # the next n responses get a wrong DCS
        self.mute = False           # never ready (a hung chip)
        self.reads = 0              # I2C reads of any length
        self.sam_configured = False
        self.max_retries = None
        self._out = None            # the frame the next read returns
        self._ready_at = 0
        self._then = None           # the response waiting behind the ACK
        self._last = None           # the last response (for a NACK)
        self.bus = None
        self.addr = ADDRESS

    def attach(self, bus=0, addr=ADDRESS):
        self.bus = bus
        self.addr = addr
        machine.i2c_attach(bus, addr, self)
        return self

    def detach(self):
        machine.i2c_detach(self.bus, self.addr)

    # ---- the field --------------------------------------------------------------------------
    def place(self, card):
        self.cards.append(card)
        return card

    def remove(self, card=None):
        if card is None:
            self.cards = []
        elif card in self.cards:
            self.cards.remove(card)

    # ---- I2C ------------------------------------------------------------------------------
    def _now(self):
        return hostclock.clock.now_ms

    def i2c_read_into(self, buf):
        self.reads += 1
        ready = (not self.mute and self._out is not None
                 and self._now() - self._ready_at >= 0)
        if not ready:
            for i in range(len(buf)):
                buf[i] = 0
            return
        buf[0] = 0x01
        if len(buf) == 1:
            return                          # the status byte alone: the frame stays
        out = self._out
        for i in range(1, len(buf)):
            buf[i] = out[i - 1] if i - 1 < len(out) else 0x00
        self._out = None                    # taken (a short read loses the rest)
        if out == ACK and self._then is not None:
            self._queue(self._then, self.response_ms)
            self._then = None

    def i2c_write(self, data):
        # Index arithmetic only (no slicing): a poll with no card allocates nothing here either,
        # so the driver's heap_lock test measures the driver.
        if data == NACK:
            self.nacks += 1
            if self._last is not None:
                self._queue(self._last, 0)
            return
        if data == ACK:
            self._out = None                # the host aborts the running command
            self._then = None
            return
        n = self._check(data)
        if n == 0:
            self.rejected += 1
            return
        resp = self._execute(data, n)
        self._out = ACK
        self._ready_at = self._now()
        self._then = resp

    def _queue(self, frame, delay_ms):
        if self.corrupt > 0 and frame != ACK:
            self.corrupt -= 1
            self._last = frame
            frame = frame[:-2] + bytes([(frame[-2] + 1) & 0xFF, 0x00])
        elif frame != ACK:
            self._last = frame
        self._out = frame
        self._ready_at = self._now() + delay_ms

    def _check(self, f):
        """LEN of a frame the PN532 takes (TFI D4, checksums right), or 0."""
        if len(f) < 8 or f[0] != 0x00 or f[1] != 0x00 or f[2] != 0xFF:
            return 0
        n = f[3]
        if (n + f[4]) & 0xFF or n < 2 or len(f) < 5 + n + 1 or f[5] != 0xD4:
            return 0
        s = 0
        for i in range(5, 6 + n):          # TFI, data and DCS
            s += f[i]
        return n if s & 0xFF == 0 else 0

    def _execute(self, f, n):
        """The response frame to the command in frame f (LEN n): data is f[7:5 + n]."""
        code = f[6]
        self.count[code] += 1
        a = 7                               # the first argument byte
        nargs = n - 2
        if code == 0x02:                    # GetFirmwareVersion
            return response_frame(bytes([0x03]) + bytes(self.firmware))
        if code == 0x14:                    # SAMConfiguration
            self.sam_configured = nargs >= 1 and f[a] == 0x01
            return response_frame(b"\x15")
        if code == 0x32:                    # RFConfiguration
            if nargs >= 4 and f[a] == 0x05:
                self.max_retries = f[a + 3]
            return response_frame(b"\x33")
        if code == 0x4A and nargs >= 2:     # InListPassiveTarget
            if not self.cards:
                return _NO_TARGET
            return response_frame(b"\x4b" + self._list(f[a], f[a + 1], f[a + 2:a + nargs]))
        return ERROR_FRAME

    def _list(self, max_tg, brty, data):
        found = []
        for card in self.cards:
            t = card.target(brty, data)
            if t is not None and len(found) < max_tg:
                found.append(bytes([len(found) + 1]) + t)
        return bytes([len(found)]) + b"".join(found)
