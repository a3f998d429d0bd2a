# ライフカード through the whole controller (App.step) on both runtimes: the house's reader
# (a fake PN532 on the fake ESP32's I2C bus, answering real frames) and the cards a household
# uses: the issued MIFARE card and its own FeliCa card each enrol and work; a revoked card is
# refused; an unknown card is refused, logged (never its id) and counts towards the lockout; a
# reader that stops answering is a trouble (330) on the panel and at the centre.
RUNS_ON_MICROPYTHON = True

import json

import hostclock
import machine
import micropython

from offline_link import OfflineLink
from pn532_chip import Felica, Mifare, PN532Chip
from scratch import fresh_dir
from mimamori.app import App
from mimamori.core import auth
from mimamori.core import events as ev
from mimamori.core import texts
from mimamori.io.clock import WallClock
from mimamori.store.config import ConfigError, validate_config, validate_secrets

BOARD = "boards/esp32-devkitc/"
MIFARE_ID = "04A1B2C3"              # the issued card (card 1)
FELICA_ID = "012E4CD1A2B3C4D5"      # the resident's own FeliCa card (card 2), enrolled
STRANGER_ID = "04DEADBEEF0102"      # nobody's card


def _json(name):
    with open(BOARD + name) as f:
        return json.loads(f.read())


def _raw_config():
    """The sample house with a reader, wired as README "ライフカード (card reader)" says: zones
    8 and 11 give GPIO21 and GPIO25 to the I2C bus."""
    raw = _json("config.sample.json")
    raw["zones"] = [z for z in raw["zones"] if z["id"] not in (8, 11)]
    raw["i2c"] = {"sda": 21, "scl": 25}
    raw["card_reader"] = {}
    return raw


def _secrets():
    """The house's own secrets, fixed salts (no os.urandom in WebAssembly): the sample codes,
    card 1 the issued MIFARE card, card 2 a FeliCa card, both the resident's (user 1)."""
    sec = _json("secrets.sample.json")
    sec["site_key"] = "5a" * 32
    n = 0
    for u, code in zip(sec["users"], ("1234", "5678")):
        n += 1
        u["code"] = auth.make_entry("code", code, bytes([n] * 16), 1000)
    sec["cards"] = [
        {"id": 1, "user": 1, "uid": auth.make_entry("card", MIFARE_ID, bytes([7] * 16), 1000)},
        {"id": 2, "user": 1, "uid": auth.make_entry("card", FELICA_ID, bytes([8] * 16), 1000)},
    ]
    return sec


def _house(name):
    hostclock.use_virtual(0)
    machine.reset_all()
    config = validate_config(_raw_config(), _json("pins.json"))
    secrets = validate_secrets(_secrets(), config)
    for z in config["zones"]:
        level = 0 if z["wiring"] == "NC" else 1     # at rest (pull-up; NC closed, NO open)
        if z["pull"] == "down":
            level = 1 - level
        machine.Pin(z["gpio"]).drive(level)
    machine.Pin(config["supervision"]["ac_sense_gpio"]).drive(1)
    machine.ADC(machine.Pin(36)).set_uv(1800000)
    machine.ADC(machine.Pin(39)).set_uv(2070000)
    chip = PN532Chip().attach(config["i2c"]["id"])
    wall = WallClock(machine.RTC(), 540)
    wall.set_unix(1795316400)
    logs = []
    data_dir = fresh_dir("cards_" + name)
    app = _boot(config, secrets, data_dir, wall, logs)
    _BOOT["args"] = (config, secrets, data_dir, wall, logs)
    _run(app, 2000)
    return app, chip, logs


_BOOT = {}


def _boot(config, secrets, data_dir, wall, logs):
    return App(config, secrets, data_dir, hostclock.ticks_ms(), machine_module=machine,
               link=OfflineLink(config["site_id"]), wall=wall, log=logs.append)


def _reboot(app):
    """Power cut and back: a new App on the same flash (the sensors and the reader stay as they
    are; the new App takes the pins' interrupts over)."""
    app.journal.close()
    app = _boot(*_BOOT["args"])
    _run(app, 2000)
    return app


def _run(app, ms):
    for _ in range(ms // 10):
        hostclock.clock.advance(10)
        app.step(hostclock.ticks_ms())


def _tap(app, chip, card, hold_ms=1000):
    """Hold a card on the reader, take it away: the panel's answer."""
    taps = app.cards.taps
    chip.place(card)
    _run(app, hold_ms)
    chip.remove(card)
    _run(app, 1000)
    assert app.cards.taps == taps + 1, "the tap was not read once"
    return app.cards.last_text


def _cids(app):
    return [app.journal.get(s)[0].cid for s in app.journal.outbox()]


def _now():
    return hostclock.ticks_ms()


def test_the_issued_mifare_card_arms_and_disarms():
    app, chip, logs = _house("mifare")
    assert app.core.mode == "disarmed"
    _tap(app, chip, Mifare(MIFARE_ID))              # disarmed and quiet: 外出セット
    assert app.core.mode == "away"
    _run(app, 61000)                                # past the exit delay
    assert _tap(app, chip, Mifare(MIFARE_ID)) == "解除しました"
    assert app.core.mode == "disarmed"
    assert _cids(app).count(ev.CID_OPEN_CLOSE) == 2  # closing and opening reported


def test_a_felica_card_enrolled_disarms():
    app, chip, logs = _house("felica")
    app.operate("arm", _now(), code="1234", mode="away")
    _run(app, 61000)
    card = Felica(FELICA_ID, rates=(424,))
    assert _tap(app, chip, card, hold_ms=3000) == "解除しました"    # held 3 s: one operation
    assert app.core.mode == "disarmed"
    assert any("card 2 (felica) accepted" in line for line in logs), logs


def test_a_card_held_during_an_alarm_silences_it():
    app, chip, logs = _house("alarm")
    app.operate("arm", _now(), code="1234", mode="away")
    _run(app, 61000)
    machine.Pin(15).drive(1)                        # リビング窓 opens: alarm
    _run(app, 200)
    assert app.rendered.siren
    _tap(app, chip, Felica(FELICA_ID))
    assert app.core.mode == "disarmed" and not app.rendered.siren


def test_the_panel_can_choose_the_operation_before_the_tap():
    app, chip, logs = _house("chosen")
    app.on_key("B", True, _now())                    # 在宅セット chosen on the keys, then the card
    app.on_key("B", False, _now())
    assert _tap(app, chip, Felica(FELICA_ID)) == "セットしました"
    assert app.core.mode == "stay"
    assert app.resident.entry.selected is None       # one tap, one operation


def test_a_revoked_card_is_refused():
    app, chip, logs = _house("revoked")
    r = app.ops.run("revoke_card", 0, _now(), card=2)     # a lost card (installer or centre)
    assert r.ok
    app.operate("arm", _now(), code="1234", mode="away")
    _run(app, 61000)
    assert _tap(app, chip, Felica(FELICA_ID)) == "無効にされたカードです"
    assert app.core.mode == "away"
    assert any("card refused: revoked card 2" in line for line in logs), logs
    assert _tap(app, chip, Mifare(MIFARE_ID)) == "解除しました"     # the other card still works


def test_an_unknown_card_is_logged_and_counts_towards_the_lockout():
    app, chip, logs = _house("unknown")
    app.operate("arm", _now(), code="1234", mode="away")
    _run(app, 61000)
    for i in range(5):
        _tap(app, chip, Mifare(STRANGER_ID))
    assert app.core.mode == "away"
    refused = [line for line in logs if "card refused: unknown card" in line]
    assert len(refused) == 5, logs
    assert not any(STRANGER_ID in line or FELICA_ID in line or MIFARE_ID in line
                   for line in logs)                # a card id is never logged
    assert ev.CID_WRONG_CODE in _cids(app)          # the lockout began: 461 to the centre
    # locked: even a good card; the panel says how long the lockout still lasts
    assert _tap(app, chip, Mifare(MIFARE_ID)).startswith("ロック中です あと")
    assert app.core.mode == "away"


def test_a_tap_is_activity_for_life_monitoring():
    app, chip, logs = _house("life")
    hour = 3600 * 1000
    for _ in range(11):
        hostclock.clock.advance(hour)
        app.step(_now())
    _tap(app, chip, Mifare(STRANGER_ID))            # even a refused card: someone is there
    for _ in range(11):
        hostclock.clock.advance(hour)
        app.step(_now())
    assert ev.CID_LIFE not in _cids(app)


def test_a_reader_that_stops_answering_is_a_trouble_until_it_answers():
    app, chip, logs = _house("trouble")
    assert app.troubles() == []
    chip.detach()                                   # the cable to the reader is cut
    _run(app, 10000)
    assert app.troubles() == []                     # not yet: a glitch is not a trouble
    _run(app, 25000)
    assert (ev.CID_PERIPHERAL, 0, texts.TROUBLE_TEXT[ev.CID_PERIPHERAL]) in app.troubles()
    assert app.rendered.trouble                     # the trouble LED
    assert ev.CID_PERIPHERAL in _cids(app)          # 330 to the centre
    chip.attach(0)
    _run(app, 10000)
    assert app.troubles() == []
    restores = [app.journal.get(s)[0] for s in app.journal.outbox()]
    assert [e.kind for e in restores if e.cid == ev.CID_PERIPHERAL] == ["trouble", "restore"]
    assert _tap(app, chip, Mifare(MIFARE_ID)) is not None


def test_a_revoked_card_stays_refused_after_a_power_cut():
    app, chip, logs = _house("revoked_reboot")
    assert app.ops.run("revoke_card", 0, _now(), card=1).ok
    _run(app, 1000)                                 # saved
    app = _reboot(app)
    assert _tap(app, chip, Mifare(MIFARE_ID)) == "無効にされたカードです"
    assert app.core.mode == "disarmed"


def test_the_reader_trouble_is_not_sent_twice_across_a_reboot():
    app, chip, logs = _house("trouble_reboot")
    chip.detach()
    _run(app, 35000)
    assert ev.CID_PERIPHERAL in [t[0] for t in app.troubles()]
    _run(app, 1000)                                 # saved
    app = _reboot(app)
    _run(app, 35000)                                # still gone: reported already
    kinds = [e.kind for e, _up, _acked in app.journal.history() if e.cid == ev.CID_PERIPHERAL]
    assert kinds == ["trouble"]
    assert ev.CID_PERIPHERAL in [t[0] for t in app.troubles()]
    chip.attach(0)                                  # repaired
    _run(app, 10000)
    kinds = [e.kind for e, _up, _acked in app.journal.history() if e.cid == ev.CID_PERIPHERAL]
    assert kinds == ["trouble", "restore"] and app.troubles() == []


def test_loop_with_the_reader_polling_allocates_nothing():
    app, chip, logs = _house("alloc")
    _run(app, 1000)
    polls = chip.count[0x4A]
    micropython.heap_lock()             # real on MicroPython: any allocation raises MemoryError
    try:
        _run(app, 2000)
    finally:
        micropython.heap_unlock()
    assert chip.count[0x4A] > polls + 10


def _errors(raw):
    try:
        validate_config(raw, _json("pins.json"))
    except ConfigError as e:
        return e.errors
    return []


def test_reader_config_is_checked_with_the_field_named():
    raw = _raw_config()
    config = validate_config(raw, _json("pins.json"))
    assert config["i2c"] == {"id": 0, "sda": 21, "scl": 25, "freq": 400000}
    assert config["card_reader"] == {"addr": 0x24, "poll_ms": 100}
    del raw["i2c"]
    assert _errors(raw) == [
        "card_reader: the reader is on the I2C bus: add an i2c section (sda, scl)"]
    plain = _json("config.sample.json")             # the sample house: no reader
    config = validate_config(plain, _json("pins.json"))
    assert config["card_reader"] is None and config["i2c"] is None
    plain["i2c"] = {"id": 2, "sda": 21, "scl": 34, "freq": 1000000}
    plain["card_reader"] = {"addr": 300, "range": 5}
    assert _errors(plain) == [
        "i2c.id: 2 is not one of 0, 1",
        "i2c.sda: GPIO 21 is already used by zones[7].gpio",
        "i2c.scl: GPIO 34 is input-only on esp32-devkitc",
        "i2c.freq: 1000000 is above the maximum 400000",
        "card_reader.range: unknown key (known keys: addr, poll_ms)",
        "card_reader.addr: 300 is above the maximum 119",
    ]
