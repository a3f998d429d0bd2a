# The panel's hardware built from the validated config (issue 14): the keypad and the OLED. Each
# is optional; without its config section the controller has none and the loop skips it. The
# drivers get Pin and I2C objects (io/keypad.py, io/ssd1306.py); the config stays here.
# cards and resident are imported with the app (every house has them): their bytecode loads at
# boot like the rest, not inside the App's construction.
from mimamori import cards
from mimamori.resident import Resident


def make_keypad(cfg, machine):
    """io.keypad.Keypad on the configured pins, or None."""
    if not cfg:
        return None
    from mimamori.io.keypad import Keypad
    Pin = machine.Pin

    def pin(g):
        return None if g is None else Pin(g)
    return Keypad([Pin(g) for g in cfg["rows"]], [Pin(g) for g in cfg["cols"]],
                  pin(cfg["panic"]), pin(cfg["medical"]), pin(cfg["cancel"]),
                  cfg["debounce_ms"])


def make_i2c(cfg, machine):
    if not cfg:
        return None
    return machine.I2C(cfg["id"], scl=machine.Pin(cfg["scl"]), sda=machine.Pin(cfg["sda"]),
                       freq=cfg["freq"])


def make_screen(config, machine, log=None, i2c=None, keypad=None):
    """screen.Screen on an SSD1306 on the I2C bus, or None. The chip is set up at the first
    poll (and again while it does not answer), so a missing display never stops the boot.
    keypad: a key held wakes a sleeping display."""
    d = config.get("display")
    if not d:
        return None
    from mimamori.io.ssd1306 import SSD1306
    from mimamori.io.display import TextDisplay
    from mimamori.screen import Screen
    if i2c is None:
        i2c = make_i2c(config["i2c"], machine)
    return Screen(TextDisplay(SSD1306(i2c, d["address"])), d["contrast"], log,
                  d["sleep_min"] * 60000, keypad)


def attach(app, machine, now):
    """The resident's side of the panel on the App, each part optional (absent from the config:
    None): app.keypad (its keys go to app.on_key), app.screen (the OLED, redrawn on change),
    app.cards (the ライフカード reader), and app.resident, which decides what keys and taps mean
    (code entry, 非常 held 2 s, watch-over calls, door chime) and owns on_key and tap."""
    app.keypad = make_keypad(app.config["keypad"], machine)
    app.screen = make_screen(app.config, machine, app.log, keypad=app.keypad)
    app.cards = cards.attach(app, machine, now)
    app.resident = Resident(app, now)
    app.on_key, app.tap = app.resident.on_key, app.resident.tap
