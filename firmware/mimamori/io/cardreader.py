# The ライフカード reader: a PN532 (io/pn532.py) polled for MIFARE / ISO 14443A cards and FeliCa
# cards at 212 and 424 kbps in turn, turned into taps. A card held on the reader is one tap: it
# taps again only after it has been away for GONE_MS (a card lying on the reader must not disarm
# and re-arm the house every second).
#
#   reader = make(config, machine)        # None when the house has no reader (config)
#   card = reader.poll(now)               # every loop step: None, or a new tap's card id
#   reader.kind                           # "mifare" / "felica" of that tap
#   reader.ok                             # the chip answers (False: a trouble, core/watch/reader)
#
# Card ids are upper-case hex: a MIFARE UID (8, 14 or 20 characters) or a FeliCa IDm (16).
# They are never logged nor stored in clear (core/auth.py hashes them with a salt).
# With no card present a poll allocates nothing; a tap allocates its id string.
from mimamori.compat import const, ticks_diff
from mimamori.io import pn532

GONE_MS = const(500)     # no card seen for this long: the next card (or the same) is a new tap


class CardReader:
    def __init__(self, chip):
        self.chip = chip
        self.kind = None
        self._held = bytearray(10)   # the card on the reader now (uid bytes)
        self._held_len = 0           # 0: none
        self._seen = 0               # ticks when it last answered

    @property
    def ok(self):
        return self.chip.ok

    @property
    def failures(self):
        return self.chip.failures

    def poll(self, now):
        c = self.chip
        r = c.poll(now)
        if r == pn532.CARD:
            if self._same(c):
                self._seen = now
                return None          # still held: no repeat
            self._hold(c, now)
            self.kind = c.kind
            return c.uid_hex()
        if r == pn532.NO_CARD and self._held_len and ticks_diff(now, self._seen) >= GONE_MS:
            self._held_len = 0       # taken away (a fault says nothing: the card may be there)
        return None

    def _same(self, c):
        n = c.uid_len
        if n != self._held_len:
            return False
        for i in range(n):
            if c.uid[i] != self._held[i]:
                return False
        return True

    def _hold(self, c, now):
        for i in range(c.uid_len):
            self._held[i] = c.uid[i]
        self._held_len = c.uid_len
        self._seen = now


def bus(config, machine):
    """The machine.I2C of the validated config's `i2c` section, or None."""
    b = config.get("i2c")
    if not b:
        return None
    return machine.I2C(b["id"], scl=machine.Pin(b["scl"]), sda=machine.Pin(b["sda"]),
                       freq=b["freq"])


def make(config, machine, i2c=None):
    """The house's CardReader from the validated config, or None when it has none."""
    cr = config.get("card_reader")
    if not cr:
        return None
    if i2c is None:
        i2c = bus(config, machine)
    return CardReader(pn532.PN532(i2c, cr["addr"], cr["poll_ms"]))


def read_card(config, machine, timeout_ms=10000, i2c=None):
    """One card for the installer (enrolment; mimamori.service.read_card): blocks until a card
    is held on the reader or timeout_ms passes, outside the loop. (card id, kind), or None for
    no card; ValueError when the config has no reader, OSError when the reader never answered."""
    reader = make(config, machine, i2c)
    if reader is None:
        raise ValueError("card_reader: no card reader in config.json")
    got = pn532.read_once(reader.chip, timeout_ms)
    if got is None and not reader.chip.ok:
        raise OSError("the card reader does not answer (PN532 at I2C address 0x%02X)" %
                      reader.chip.address)
    return got
