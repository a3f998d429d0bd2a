# NXP PN532 NFC controller on I2C: our own driver, the frame protocol of the PN532 User Manual
# (UM0701-02, section 6.2 "Host controller communication protocol"; 6.2.5 for I2C), polled
# without ever blocking the loop.
#
# Frames (UM0701 6.2.1): normal information frame
#     00 | 00 FF | LEN | LCS | TFI | PD0 ... PDn | DCS | 00
#     preamble, start code, LEN = bytes of TFI + data, LCS: LEN + LCS = 0 (mod 256),
#     TFI D4 host -> PN532, D5 PN532 -> host, DCS: TFI + PD0 + ... + PDn + DCS = 0 (mod 256),
#     postamble.
#   ACK  00 00 FF 00 FF 00  the PN532 took the command (6.2.1.3)
#   NACK 00 00 FF FF 00 00  the host asks the PN532 to send its last response again (6.2.1.4)
#   error frame 00 00 FF 01 FF 7F 81 00: the PN532 could not parse the command (6.2.1.5)
# I2C (6.2.5): the PN532 is at address 0x24 (7 bits). Every read starts with a status byte:
# 0x01 when a frame (ACK or response) is ready, 0x00 while it is busy; the frame follows it in the
# same read. So the driver reads one byte to ask "ready?" (cheap) and the frame only once it is.
#
# Commands used (UM0701 7.2 / 7.3):
#   GetFirmwareVersion 0x02 -> IC 0x32 (the PN532), Ver, Rev, Support
#   SAMConfiguration 0x14 (01 14 01: normal mode, the SAM not used, IRQ pin used)
#   RFConfiguration 0x32, CfgItem 0x05 MaxRetries (FF 01 01): one retry of the passive
#       activation; the default FF would make InListPassiveTarget wait for a card for ever
#   InListPassiveTarget 0x4A, MaxTg 1, BrTy:
#       0x00 106 kbps type A (ISO/IEC 14443A, MIFARE): -> Tg, SENS_RES(2), SEL_RES, NFCIDLength,
#            NFCID1 (the UID: 4, 7 or 10 bytes), [ATS]
#       0x01 212 kbps / 0x02 424 kbps FeliCa, with the polling payload 00 FF FF 01 00 (polling
#            command 00, system code FFFF = any, request code 01 = system code, time slot 00):
#            -> Tg, POL_RES length, 01, IDm (8 bytes), PMm (8), [system code (2)]
#
# Non-blocking: poll(now) does at most one I2C transfer and returns; a poll is a small state
# machine (send the command, wait for the ACK, wait for the response, read it) with a deadline on
# each wait. The frames are built once; the read buffer is preallocated; with no card present a
# poll allocates nothing (host_tests/test_pn532.py checks it with heap_lock on MicroPython).
# A chip that does not answer, NACKs on the bus or sends bad frames is counted in `failures`;
# the driver then re-initialises it, slower (RETRY_MS); `ok` says whether it answers.
from mimamori.compat import const, sleep_ms, ticks_add, ticks_diff, ticks_ms

ADDRESS = const(0x24)           # UM0701 6.2.5: 7-bit I2C address
TFI_HOST = const(0xD4)          # host -> PN532
TFI_CHIP = const(0xD5)          # PN532 -> host
STATUS_READY = const(0x01)      # I2C status byte: a frame follows

CMD_GET_FIRMWARE = const(0x02)
CMD_SAM_CONFIGURATION = const(0x14)
CMD_RF_CONFIGURATION = const(0x32)
CMD_IN_LIST_PASSIVE_TARGET = const(0x4A)
PN532_IC = const(0x32)          # GetFirmwareVersion's IC byte for a PN532

# InListPassiveTarget BrTy (UM0701 7.3.5)
BRTY_106A = const(0x00)
BRTY_FELICA_212 = const(0x01)
BRTY_FELICA_424 = const(0x02)
FELICA_POLLING = b"\x00\xff\xff\x01\x00"   # polling payload: any system code, request code 01

# Results of poll()
NONE = const(0)       # nothing to report (waiting, or between polls)
CARD = const(1)       # a card answered: kind, uid(), uid_len
NO_CARD = const(2)    # a poll round finished with no card in the field
FAULT = const(3)      # the chip did not answer properly (counted in failures)

KIND_MIFARE = "mifare"
KIND_FELICA = "felica"

ACK_MS = const(50)        # UM0701: the ACK comes within about 1 ms of the command
RESPONSE_MS = const(300)  # a passive activation with one retry, no card: tens of ms
RETRY_MS = const(1000)    # after a fault: re-initialise the chip no sooner than this
SHORT_READ = const(16)    # status + a frame of up to 7 data bytes: "no card" fits, a card not
MAX_NACKS = const(2)      # per response: one to read a long frame whole, one for a damaged one
_BUF = const(64)          # status + the longest frame read (a type A UID with an ATS)

# states
_IDLE = const(0)
_ACK = const(1)           # command sent, waiting for the ACK
_RESP = const(2)          # ACK seen, waiting for the response
_RESEND = const(3)        # NACK sent (frame longer than the short read, or damaged)

ACK = b"\x00\x00\xff\x00\xff\x00"
NACK = b"\x00\x00\xff\xff\x00\x00"


def frame(cmd, data=b""):
    """The information frame carrying command `cmd` with `data` (host -> PN532)."""
    body = bytes([TFI_HOST, cmd]) + bytes(data)
    n = len(body)
    dcs = (-sum(body)) & 0xFF
    return b"\x00\x00\xff" + bytes([n, (-n) & 0xFF]) + body + bytes([dcs, 0x00])


# The commands, built once: polling sends these objects as they are (no allocation).
GET_FIRMWARE = frame(CMD_GET_FIRMWARE)
SAM_CONFIGURATION = frame(CMD_SAM_CONFIGURATION, b"\x01\x14\x01")
RF_MAX_RETRIES = frame(CMD_RF_CONFIGURATION, b"\x05\xff\x01\x01")
POLL_106A = frame(CMD_IN_LIST_PASSIVE_TARGET, bytes([1, BRTY_106A]))
POLL_FELICA_212 = frame(CMD_IN_LIST_PASSIVE_TARGET, bytes([1, BRTY_FELICA_212]) + FELICA_POLLING)
POLL_FELICA_424 = frame(CMD_IN_LIST_PASSIVE_TARGET, bytes([1, BRTY_FELICA_424]) + FELICA_POLLING)
_INIT = (GET_FIRMWARE, SAM_CONFIGURATION, RF_MAX_RETRIES)
# What each poll step asks for, in turn: MIFARE / ISO 14443A, FeliCa 212, FeliCa 424.
POLLS = (POLL_106A, POLL_FELICA_212, POLL_FELICA_424)


class PN532:
    """One PN532 on an I2C bus (a machine.I2C; drivers get hardware objects, not config).

        chip = PN532(i2c)
        r = chip.poll(now)       # every loop step: NONE, CARD, NO_CARD or FAULT
        if r == CARD: chip.kind, chip.uid_hex()

    Each poll round sends the next command of POLLS; `interval_ms` is the pause between rounds.
    """

    def __init__(self, i2c, address=ADDRESS, interval_ms=100):
        self.i2c = i2c
        self.address = address
        self.interval_ms = interval_ms
        self._buf = bytearray(_BUF)
        mv = memoryview(self._buf)
        self._status = mv[:1]            # the I2C status byte alone ("ready?")
        self._ack = mv[:1 + len(ACK)]    # status + ACK frame
        self._short = mv[:SHORT_READ]    # status + a short response
        self._views = {}                 # n -> mv[:n] for re-reads of a known length
        self._mv = mv
        self.uid = bytearray(10)         # the latest card's UID / IDm
        self.uid_len = 0
        self.kind = None
        self.ok = False                  # the chip answered the latest exchange properly
        self.failures = 0                # exchanges that failed, since boot
        self.firmware = None             # (ver, rev) from GetFirmwareVersion
        self._state = _IDLE
        self._cmd = None
        self._step = 0                   # index into _INIT while initialising, then POLLS
        self._ready = False              # initialised: the next commands are POLLS
        self._poll = 0
        self._deadline = 0
        self._next = ticks_ms()
        self._need = 0                   # bytes to read after a NACK (status + whole frame)
        self._nacks = 0                  # NACKs sent for this response

    # ---- the loop's call ------------------------------------------------------------------
    def poll(self, now):
        st = self._state
        if st == _IDLE:
            if ticks_diff(now, self._next) < 0:
                return NONE
            cmd = POLLS[self._poll] if self._ready else _INIT[self._step]
            return self._send(cmd, now)
        try:
            self.i2c.readfrom_into(self.address, self._status)
            ready = self._buf[0] == STATUS_READY
        except OSError:
            ready = False        # busy or asleep: the PN532 may NACK its address (6.2.5)
        if not ready:
            if ticks_diff(now, self._deadline) > 0:
                return self._fault(now)
            return NONE
        try:
            if st == _ACK:
                return self._read_ack(now)
            if st == _RESP:
                self.i2c.readfrom_into(self.address, self._short)
                return self._response(now, SHORT_READ)
            self.i2c.readfrom_into(self.address, self._view(self._need))
            return self._response(now, self._need)
        except OSError:
            return self._fault(now)

    def _send(self, cmd, now):
        self._cmd = cmd
        self._nacks = 0
        self._need = 0
        try:
            self.i2c.writeto(self.address, cmd)
        except OSError:
            return self._fault(now)
        self._state = _ACK
        self._deadline = ticks_add(now, ACK_MS)
        return NONE

    def _read_ack(self, now):
        self.i2c.readfrom_into(self.address, self._ack)
        b = self._buf
        for i in range(len(ACK)):
            if b[1 + i] != ACK[i]:
                return self._fault(now)    # an error frame, or noise: the command was not taken
        self._state = _RESP
        self._deadline = ticks_add(now, RESPONSE_MS)
        return NONE

    def _view(self, n):
        v = self._views.get(n)
        if v is None:
            v = self._views[n] = self._mv[:n]
        return v

    def _nack(self, now, need):
        """Ask for the response again (UM0701 6.2.1.4), to read `need` bytes of it."""
        self._nacks += 1
        self._need = need
        try:
            self.i2c.writeto(self.address, NACK)
        except OSError:
            return self._fault(now)
        self._state = _RESEND
        self._deadline = ticks_add(now, ACK_MS)
        return NONE

    def _response(self, now, got):
        """Check the frame in the buffer (status byte at 0); act on it."""
        b = self._buf
        i = 1
        while i < 4 and b[i] == 0x00 and b[i + 1] == 0x00:
            i += 1                         # preamble: zero or more 00 before the start code
        if b[i] != 0x00 or b[i + 1] != 0xFF:
            return self._damaged(now)
        n = b[i + 2]
        if (n + b[i + 3]) & 0xFF or n < 1:
            return self._damaged(now)      # LEN/LCS wrong (or an ACK/NACK/extended frame here)
        end = i + 4 + n                    # index of DCS
        if end >= got:
            if end + 2 > _BUF or self._nacks >= MAX_NACKS:
                return self._fault(now)    # longer than we ever read
            return self._nack(now, end + 2)
        s = 0
        for k in range(i + 4, end + 1):
            s += b[k]
        if s & 0xFF:
            return self._damaged(now)      # DCS wrong
        if n < 2 or b[i + 4] != TFI_CHIP or b[i + 5] != (self._cmd[6] + 1) & 0xFF:
            return self._fault(now)        # an error frame (7F), or the answer to another command
        return self._answer(now, i + 6, end)

    def _damaged(self, now):
        if self._nacks >= MAX_NACKS:
            return self._fault(now)
        return self._nack(now, self._need or SHORT_READ)

    def _answer(self, now, d, end):
        """A good response: data from index d up to (not including) end."""
        b = self._buf
        self._state = _IDLE
        self.ok = True
        if not self._ready:
            if self._cmd is GET_FIRMWARE:
                if end - d < 4 or b[d] != PN532_IC:
                    return self._fault(now)     # something answers, but not a PN532
                self.firmware = (b[d + 1], b[d + 2])
            self._step += 1
            if self._step >= len(_INIT):
                self._ready = True
                self._poll = 0
            self._next = now
            return NONE
        cmd = self._cmd
        self._poll = (self._poll + 1) % len(POLLS)
        self._next = ticks_add(now, self.interval_ms) if self._poll == 0 else now
        if end - d < 1 or b[d] == 0:
            return NO_CARD
        # NbTg >= 1: target data from d + 1 (Tg first)
        t = d + 2
        if cmd is POLL_106A:
            # SENS_RES(2), SEL_RES(1), NFCIDLength, NFCID1
            if t + 4 > end:
                return self._fault(now)
            n = b[t + 3]
            if n not in (4, 7, 10) or t + 4 + n > end:
                return self._fault(now)
            self._take(t + 4, n, KIND_MIFARE)
        else:
            # POL_RES length, response code 01, IDm(8), PMm(8)
            if t + 18 > end or b[t + 1] != 0x01:
                return self._fault(now)
            self._take(t + 2, 8, KIND_FELICA)
        return CARD

    def _take(self, at, n, kind):
        b = self._buf
        for k in range(n):
            self.uid[k] = b[at + k]
        self.uid_len = n
        self.kind = kind

    def _fault(self, now):
        self.failures += 1
        self.ok = False
        self._state = _IDLE
        self._ready = False              # it may have reset: initialise again
        self._step = 0
        self._next = ticks_add(now, RETRY_MS)
        return FAULT

    # ---- reading a card outside the loop ----------------------------------------------------
    def uid_hex(self):
        """The latest card's ID as upper-case hex (allocates: only when a card is there)."""
        h = "0123456789ABCDEF"
        s = ""
        for k in range(self.uid_len):
            v = self.uid[k]
            s += h[v >> 4] + h[v & 15]
        return s


def read_once(chip, timeout_ms):
    """Block until a card answers or timeout_ms passes (installer tools, never the loop):
    (card id hex, kind) or None. A chip that does not answer gives None too (see chip.ok)."""
    start = ticks_ms()
    while True:
        now = ticks_ms()
        r = chip.poll(now)
        if r == CARD:
            return chip.uid_hex(), chip.kind
        if ticks_diff(now, start) >= timeout_ms:
            return None
        sleep_ms(5)
