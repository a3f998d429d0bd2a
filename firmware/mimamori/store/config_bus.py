# The I2C bus and the devices on it (config `i2c`, `card_reader`): the ライフカード reader (PN532)
# shares the one bus with the other panel devices. Both sections are optional: a house without
# them has no reader (None after validation).
from mimamori.store.config_check import REQUIRED

I2C_IDS = (0, 1)             # the ESP32 and ESP32-S3 each have two I2C controllers
I2C_FREQ = (10000, 400000, 400000)    # min, max (the PN532's and SSD1306's fast mode), default
PN532_ADDR = 0x24            # PN532 User Manual 6.2.5: its fixed 7-bit address
POLL_MS = (20, 1000, 100)    # pause between poll rounds: min, max, default


def i2c(use, v):
    """`i2c`: {id, sda, scl, freq}; both lines are open-drain outputs (pull-ups on the bus)."""
    c = use.c
    if v is REQUIRED or v is None:
        return None
    if c.obj("i2c", v, ("id", "sda", "scl", "freq")) is None:
        return None
    ids = tuple(sorted(use.pins.i2c)) if use.pins is not None and use.pins.i2c else I2C_IDS
    return {
        "id": c.choice("i2c.id", v.get("id", REQUIRED), ids, default=ids[0]),
        "sda": use.pin("i2c.sda", v.get("sda", REQUIRED), "out"),
        "scl": use.pin("i2c.scl", v.get("scl", REQUIRED), "out"),
        "freq": c.int("i2c.freq", v.get("freq", REQUIRED), I2C_FREQ[0], I2C_FREQ[1],
                      default=I2C_FREQ[2]),
    }


def card_reader(use, v, bus):
    """`card_reader`: {addr, poll_ms}, a PN532 on the `i2c` bus."""
    c = use.c
    if v is REQUIRED or v is None:
        return None
    if c.obj("card_reader", v, ("addr", "poll_ms")) is None:
        return None
    if bus is None:
        c.bad("card_reader", "the reader is on the I2C bus: add an i2c section (sda, scl)")
    return {
        "addr": c.int("card_reader.addr", v.get("addr", REQUIRED), 0x08, 0x77, default=PN532_ADDR),
        "poll_ms": c.int("card_reader.poll_ms", v.get("poll_ms", REQUIRED), POLL_MS[0],
                         POLL_MS[1], default=POLL_MS[2]),
    }
