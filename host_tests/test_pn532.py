# The PN532 driver (io/pn532.py) and the card reader (io/cardreader.py) against the fake chip
# (fakes/pn532_chip.py), which answers real frames as the PN532 does: the cards residents hold
# are read as taps, a card left on the reader is one tap, and a chip that misbehaves or is gone
# is counted as a fault, never a crash. Polling with no card allocates nothing.
RUNS_ON_MICROPYTHON = True

import hostclock
import machine
import micropython

from pn532_chip import Felica, Mifare, PN532Chip
from mimamori.io import pn532
from mimamori.io.cardreader import CardReader


def _reader(response_ms=3):
    hostclock.use_virtual(0)
    machine.reset_all()
    chip = PN532Chip(response_ms=response_ms).attach(0)
    i2c = machine.I2C(0, scl=machine.Pin(22), sda=machine.Pin(21), freq=400000)
    return chip, CardReader(pn532.PN532(i2c))


def _run(reader, ms):
    """The loop for `ms` (a step every 10 ms): the taps seen, as (card id, kind)."""
    taps = []
    for _ in range(ms // 10):
        hostclock.clock.advance(10)
        card = reader.poll(hostclock.ticks_ms())
        if card is not None:
            taps.append((card, reader.kind))
    return taps


def test_frames_are_the_manuals():
    # UM0701 6.2.1: GetFirmwareVersion and SAMConfiguration as the manual and every PN532
    # library send them, byte for byte.
    assert pn532.GET_FIRMWARE == bytes([0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00])
    assert pn532.SAM_CONFIGURATION == bytes([0x00, 0x00, 0xFF, 0x05, 0xFB, 0xD4, 0x14, 0x01,
                                             0x14, 0x01, 0x02, 0x00])
    # InListPassiveTarget for FeliCa carries the polling payload 00 FF FF 01 00
    assert pn532.POLL_FELICA_212[5:14] == bytes([0xD4, 0x4A, 0x01, 0x01, 0x00, 0xFF, 0xFF, 0x01,
                                                 0x00])
    assert pn532.POLL_FELICA_424[8] == 0x02


def test_the_chip_is_set_up_and_no_card_gives_no_tap():
    chip, reader = _reader()
    assert _run(reader, 1000) == []
    assert reader.ok and reader.failures == 0
    assert reader.chip.firmware == (1, 6)
    assert chip.sam_configured and chip.max_retries == 1   # never waits for a card for ever
    assert chip.rejected == 0           # every frame the driver sent was a good one
    assert chip.count[0x4A] > 0


def test_mifare_4_byte_uid_is_one_tap_while_held():
    chip, reader = _reader()
    _run(reader, 200)
    card = chip.place(Mifare("04A1B2C3"))
    assert _run(reader, 3000) == [("04A1B2C3", "mifare")]   # held 3 s: one tap
    chip.remove(card)
    assert _run(reader, 1000) == []
    chip.place(card)
    assert _run(reader, 1000) == [("04A1B2C3", "mifare")]   # presented again: a new tap


def test_mifare_7_byte_uid():
    chip, reader = _reader()
    chip.place(Mifare("04112233445566", sel_res=0x00))      # Ultralight / NTAG
    assert _run(reader, 1000) == [("04112233445566", "mifare")]


def test_felica_at_212_kbps():
    chip, reader = _reader()
    chip.place(Felica("012E4CD1A2B3C4D5", rates=(212,)))
    assert _run(reader, 1000) == [("012E4CD1A2B3C4D5", "felica")]


def test_felica_at_424_kbps():
    chip, reader = _reader()
    chip.place(Felica("0101010112345678", rates=(424,)))
    assert _run(reader, 1000) == [("0101010112345678", "felica")]


def test_felica_answering_at_both_rates_is_still_one_tap():
    chip, reader = _reader()
    chip.place(Felica("012E4CD1A2B3C4D5"))
    assert _run(reader, 3000) == [("012E4CD1A2B3C4D5", "felica")]


def test_a_card_swapped_for_another_is_a_new_tap():
    chip, reader = _reader()
    chip.place(Mifare("04A1B2C3"))
    assert _run(reader, 500) == [("04A1B2C3", "mifare")]
    chip.remove()
    chip.place(Felica("012E4CD1A2B3C4D5"))
    assert _run(reader, 1000) == [("012E4CD1A2B3C4D5", "felica")]


def test_a_damaged_response_is_asked_for_again_with_nack():
    chip, reader = _reader()
    _run(reader, 200)
    nacks = chip.nacks
    chip.corrupt = 1                    # the next response ("no card") carries a wrong DCS
    assert _run(reader, 500) == []
    assert chip.nacks == nacks + 1 and chip.corrupt == 0
    assert reader.failures == 0 and reader.ok
    # a card's response is longer than the first read: one NACK to read it whole, which comes
    # damaged too, a second NACK, and the card is read
    chip.corrupt = 2
    chip.place(Mifare("04A1B2C3"))
    assert _run(reader, 1000) == [("04A1B2C3", "mifare")]
    assert chip.corrupt == 0 and reader.failures == 0


def test_responses_that_stay_damaged_are_faults_not_cards():
    chip, reader = _reader()
    _run(reader, 200)
    chip.corrupt = 1000
    chip.place(Mifare("04A1B2C3"))
    assert _run(reader, 5000) == []
    assert reader.failures >= 3 and not reader.ok
    chip.corrupt = 0                    # the bus is clean again: the card reads
    assert _run(reader, 3000) == [("04A1B2C3", "mifare")]
    assert reader.ok


def test_the_fake_chip_refuses_bad_checksums_as_the_pn532_does():
    # The judge must be strict: a frame with a wrong LCS or DCS gets no ACK.
    chip, reader = _reader()
    good = pn532.frame(0x02)
    bad_lcs = good[:4] + bytes([(good[4] + 1) & 0xFF]) + good[5:]
    bad_dcs = good[:-2] + bytes([(good[-2] + 1) & 0xFF, 0x00])
    i2c = machine.I2C(0)
    buf = bytearray(7)
    for f in (bad_lcs, bad_dcs):
        i2c.writeto(0x24, f)
        i2c.readfrom_into(0x24, buf)
        assert buf[0] == 0x00           # not ready: nothing to ACK
    assert chip.rejected == 2
    i2c.writeto(0x24, good)
    i2c.readfrom_into(0x24, buf)
    assert bytes(buf) == b"\x01" + pn532.ACK


def test_a_chip_that_is_gone_is_a_fault_and_comes_back():
    chip, reader = _reader()
    _run(reader, 500)
    assert reader.ok
    chip.detach()                       # unplugged: its address NACKs (OSError ENODEV)
    assert _run(reader, 10000) == []
    assert not reader.ok
    assert 5 <= reader.failures <= 11   # retried about once a second, not every step
    chip.attach(0)
    chip.place(Felica("012E4CD1A2B3C4D5"))
    assert _run(reader, 3000) == [("012E4CD1A2B3C4D5", "felica")]
    assert reader.ok


def test_a_hung_chip_is_a_fault():
    chip, reader = _reader()
    _run(reader, 500)
    chip.mute = True                    # on the bus, never ready
    chip.place(Mifare("04A1B2C3"))
    assert _run(reader, 5000) == []
    assert not reader.ok and reader.failures >= 3


def test_something_else_at_the_address_is_not_taken_for_a_pn532():
    hostclock.use_virtual(0)
    machine.reset_all()
    chip = PN532Chip(firmware=(0x07, 0x01, 0x06, 0x07)).attach(0)    # not IC 0x32
    reader = CardReader(pn532.PN532(machine.I2C(0)))
    chip.place(Mifare("04A1B2C3"))
    assert _run(reader, 3000) == []
    assert not reader.ok


def test_read_once_for_the_installer():
    chip, reader = _reader()
    chip.place(Felica("012E4CD1A2B3C4D5", rates=(424,)))
    assert pn532.read_once(reader.chip, 2000) == ("012E4CD1A2B3C4D5", "felica")
    chip.remove()
    t0 = hostclock.ticks_ms()
    assert pn532.read_once(reader.chip, 2000) is None
    assert hostclock.ticks_diff(hostclock.ticks_ms(), t0) >= 2000


def test_polling_with_no_card_allocates_nothing():
    chip, reader = _reader()
    _run(reader, 1000)                  # initialised, polling
    polls = chip.count[0x4A]
    micropython.heap_lock()             # real on MicroPython: any allocation raises MemoryError
    try:
        for _ in range(300):
            hostclock.clock.advance(10)
            reader.poll(hostclock.ticks_ms())
    finally:
        micropython.heap_unlock()
    assert chip.count[0x4A] > polls + 10     # it really polled meanwhile


def test_read_card_for_the_installer_from_the_config():
    from mimamori.io.cardreader import read_card
    hostclock.use_virtual(0)
    machine.reset_all()
    config = {"i2c": {"id": 0, "sda": 21, "scl": 25, "freq": 400000},
              "card_reader": {"addr": 0x24, "poll_ms": 100}}
    chip = PN532Chip().attach(0)
    chip.place(Mifare("04A1B2C3"))
    assert read_card(config, machine, 2000) == ("04A1B2C3", "mifare")
    chip.remove()
    assert read_card(config, machine, 1000) is None          # no card held: not an error
    chip.detach()
    try:
        read_card(config, machine, 3000)
    except OSError as e:
        assert "does not answer" in str(e)
    else:
        raise AssertionError("a reader that does not answer was taken for no card")
    try:
        read_card({"card_reader": None}, machine, 1000)
    except ValueError as e:
        assert "no card reader" in str(e)
    else:
        raise AssertionError("no reader in the config, no error")
