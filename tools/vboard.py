"""A virtual board: the real firmware (mimamori.app.App) on the host, on the fake ESP32
(host_tests/fakes/machine.py), with the sensors of a house wired to its pins. Used by the app
tests and by the simulator.

    board = VirtualBoard(config, secrets, "/tmp/site-data")
    board.set_zone(3, True)          # リビング窓 opens (the pin goes to its active level)
    board.run(2000)                  # two seconds of virtual time, the loop every 10 ms
    board.reboot()                   # power cut and back: a new App on the same flash
    board.tap_card("04A1B2C3")       # a ライフカード on the reader (a house with card_reader)
    board.press_key("5", 100)        # the panel's keypad (config `keypad`): press, hold, release
    board.oled_rows()                # the OLED's glass (config `display`): 64 rows of '#'/'.'

Time: a hostclock VirtualClock (tests: instant) or a real clock that can also jump forward (the
simulator's fast-forward).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hostpath  # noqa: E402,F401
sys.path.insert(0, os.path.join(hostpath.ROOT, "lib"))   # umqtt.simple: the bench's reference client

import hostclock  # noqa: E402
import machine  # noqa: E402

from mimamori.app import App, LOOP_MS  # noqa: E402
from mimamori.io import analog as analog_io  # noqa: E402
from mimamori.io.clock import WallClock  # noqa: E402

# A healthy house: 48 V on the telephone line, 13.6 V on the standby battery, mains present.
LINE_MV = 48000
BATTERY_MV = 13600


SAMPLE_CODES = ("1234", "5678")     # the sample resident's and installer's codes
SAMPLE_CARD = "04A1B2C3"


def own_secrets(raw):
    """A copy of the raw sample secrets (boards/*/secrets.sample.json) as an installer makes
    them for a house: a fresh site key, the same codes and card re-hashed with fresh salts
    (tools/hash_secret.py). A board booted with the samples themselves raises a trouble
    (core/samples.py); tests and the simulator that are not about that use these."""
    import copy
    from mimamori.core import auth
    sec = copy.deepcopy(raw)
    sec["site_key"] = os.urandom(32).hex()
    for u, code in zip(sec.get("users", ()), SAMPLE_CODES):
        u["code"] = auth.make_entry("code", code, os.urandom(16), u["code"].get("iter", 16))
    for c in sec.get("cards", ()):
        c["uid"] = auth.make_entry("card", SAMPLE_CARD, os.urandom(16), c["uid"].get("iter", 16))
    return sec


def board_chip(board):
    """The chip of a board folder (boards/<board>/pins.json "mcu"), which the fake machine then
    plays: an ESP32-S3 config boots on an ESP32-S3."""
    import json
    try:
        with open(os.path.join(hostpath.ROOT, "boards", board, "pins.json"), encoding="utf-8") as f:
            return json.load(f)["mcu"]
    except (OSError, TypeError):
        return "esp32"


def pin_uv(real_mv, divider):
    """Microvolts at the ADC pin for `real_mv` behind a divider (num, den) of io/analog.py."""
    num, den = divider
    return real_mv * den * 1000 // num


class VirtualBoard:
    def __init__(self, config, secrets, data_dir, wall_unix=None, log=None, link=None,
                 fresh=True, rtc_set=True, paths=None):
        self.config = config
        self.paths = paths          # extra report paths: name -> f(app) -> comms.paths.Path
        self.secrets = secrets
        self.data_dir = data_dir
        self.log = log
        self.link = link
        self.zones = {z["id"]: z for z in config["zones"]}
        if fresh:
            machine.reset_all(board_chip(config.get("board")))
        self.wall = WallClock(machine.RTC(), config["utc_offset_min"])
        if rtc_set and self.wall.unix() is None:   # as if set already: now, or the time given
            import time
            self.wall.set_unix(int(time.time()) if wall_unix is None else wall_unix)
        self._active = {}
        for zid in self.zones:
            self.set_zone(zid, False)
        sup = config["supervision"]     # validated config (the App takes nothing else)
        if sup["line_voltage"]:
            self.set_line_mv(LINE_MV)
        if sup["battery"]:
            self.set_battery_mv(BATTERY_MV)
        if sup["ac_sense_gpio"] is not None:
            self.set_ac(True)
        self.card_chip = None       # the fake PN532 (host_tests/fakes/pn532_chip.py), if any
        if config.get("card_reader"):
            from pn532_chip import PN532Chip
            self.card_chip = PN532Chip().attach(config["i2c"]["id"], config["card_reader"]["addr"])
        self.keypad = self.oled = None      # the panel's keypad and OLED, when configured
        if config.get("keypad"):
            from keypad_peer import KeyMatrix
            kp = config["keypad"]
            self.keypad = KeyMatrix(kp["rows"], kp["cols"], kp["panic"], kp["medical"],
                                    kp["cancel"])
        if config.get("display"):
            import ssd1306_peer
            self.oled = ssd1306_peer.attach(config["i2c"]["id"], config["display"]["address"])
        self.app = self._boot()

    def _boot(self):
        return App(self.config, self.secrets, self.data_dir, hostclock.ticks_ms(),
                   machine_module=machine, wall=self.wall, log=self.log, link=self.link,
                   paths=self.paths)

    # ---- the house ------------------------------------------------------------------------

    def level_for(self, zone_id, active):
        """The pin level a zone shows: NC contacts open (active) to the pull's rail, NO contacts
        close (active) to the opposite rail (README "Wiring")."""
        z = self.zones[zone_id]
        idle = 1 if z["pull"] in ("up", "none") else 0   # the pull's rail
        nc = z["wiring"] == "NC"
        closed_level = 1 - idle
        contact_closed = (not active) if nc else active
        return closed_level if contact_closed else idle

    def set_zone(self, zone_id, active):
        self._active[zone_id] = active
        machine.Pin(self.zones[zone_id]["gpio"]).drive(self.level_for(zone_id, active))

    def press(self, zone_id, hold_ms=300):
        """A momentary button (panic, medical, cancel): pressed, held, released."""
        self.set_zone(zone_id, True)
        self.run(hold_ms)
        self.set_zone(zone_id, False)

    def tap_card(self, card_id, kind="mifare", hold_ms=1000, step=None):
        """A resident holds a card (hex id; kind "mifare" or "felica") on the house's reader
        until the controller has read it (at most hold_ms of board time, the loop running:
        `step`, default self.step), then takes it away. The panel's answer (mimamori/cards.py
        last_text), or None when it was not read."""
        from pn532_chip import Felica, Mifare
        if self.card_chip is None:
            raise ValueError("this house has no card reader (config card_reader)")
        card = Felica(card_id) if kind == "felica" else Mifare(card_id)
        cards = self.app.cards
        taps = cards.taps
        self.card_chip.place(card)
        step = step or self.step
        try:
            for _ in range(max(1, hold_ms // LOOP_MS)):
                step()
                if cards.taps != taps:
                    return cards.last_text
            return None
        finally:
            self.card_chip.remove(card)

    def is_active(self, zone_id):
        return self._active[zone_id]

    # ---- the panel: keypad and OLED ------------------------------------------------------------

    def press_key(self, key, ms=100):
        """A keypad key ("0".."9", "*", "#", "A".."D", "PANIC", "MEDICAL", "CANCEL") pressed for
        `ms` of board time, then released; the loop runs until the release is debounced."""
        self.key_down(key)
        self.run(ms)
        self.key_up(key)
        self.run(max(LOOP_MS, self.config["keypad"]["debounce_ms"] + 2 * LOOP_MS))

    def key_down(self, key):
        """Press and keep holding (the simulator releases later, without blocking)."""
        if self.keypad is None:
            raise ValueError("this board has no keypad (config `keypad`)")
        self.keypad.press(key)

    def key_up(self, key):
        self.keypad.release(key)

    def oled_rows(self):
        """What the OLED's glass shows, read back from the fake chip: 64 strings of 128 '#'
        (lit) or '.'; None without a display."""
        return None if self.oled is None else self.oled.rows()

    def display_lines(self):
        """The eight text lines the firmware last put on the OLED (for a log or a test)."""
        s = self.app.screen
        return None if s is None else [s.d.text(n) for n in range(8)]

    def set_line_mv(self, mv):
        g = self.config["supervision"]["line_voltage"]["gpio"]
        machine.ADC(machine.Pin(g)).set_uv(pin_uv(mv, analog_io.LINE_DIVIDER))

    def set_battery_mv(self, mv):
        g = self.config["supervision"]["battery"]["gpio"]
        machine.ADC(machine.Pin(g)).set_uv(pin_uv(mv, analog_io.BATTERY_DIVIDER))

    def set_ac(self, present):
        g = self.config["supervision"]["ac_sense_gpio"]
        machine.Pin(g).drive(analog_io.AC_PRESENT_LEVEL if present else
                             1 - analog_io.AC_PRESENT_LEVEL)

    # ---- time -----------------------------------------------------------------------------

    def now(self):
        return hostclock.ticks_ms()

    def step(self, ms=LOOP_MS):
        """One loop iteration, `ms` of board time after the last."""
        hostclock.clock.advance(ms)
        self.app.step(hostclock.ticks_ms())

    def run(self, ms, real_sleep_s=0.0, step_ms=LOOP_MS):
        """Run the loop for `ms` of board time (every LOOP_MS); the fake RTC runs with the same
        clock. real_sleep_s: also sleep this much real time per step (a network peer answers).
        step_ms: a coarser loop for long idle stretches (the bench's simulated day)."""
        import time
        for _ in range(max(1, ms // step_ms)):
            self.step(step_ms)
            if real_sleep_s:
                time.sleep(real_sleep_s)

    def skip(self, ms):
        """Fast-forward without running the loop in between (a quiet stretch of hours): the loop
        then sees one long gap, as after a long blocking call. Timers fire once, late."""
        self.step(ms)

    # ---- power ----------------------------------------------------------------------------

    def power_cut(self, off_ms):
        """The power goes for off_ms: the App is gone (no shutdown), the RTC keeps time (the
        ESP32's RTC runs from the backup supply), the sensors keep their state."""
        self.app = None
        machine.reboot()
        hostclock.clock.advance(off_ms)

    def reboot(self):
        """Boot again on the same flash (data_dir): the App restores what it saved."""
        for zid, active in self._active.items():
            self.set_zone(zid, active)
        if self.keypad is not None:
            self.keypad.attach()            # the rebooted board's pins are new objects
        self.app = self._boot()
        return self.app
