# The sample house (boards/esp32-devkitc) as a whole App on the fake ESP32, on both runtimes (the
# WebAssembly MicroPython has no socket: the network is down, reports wait in the journal). For
# tests of what an installer or resident sees through the whole loop.
import json

import hostclock
import machine

from offline_link import OfflineLink
from scratch import fresh_dir
from mimamori.app import App
from mimamori.io.clock import WallClock
from mimamori.store.config import validate_config, validate_secrets

BOARD = "boards/esp32-devkitc/"
RESIDENT_CODE = "1234"
INSTALLER_CODE = "5678"


def read_json(name, board=BOARD):
    with open(board + name) as f:
        return json.loads(f.read())


def normal_level(z):
    """Pin level of a zone at rest: NC closed / NO open (README "Wiring")."""
    idle = 1 if z.get("pull", "up") in ("up", "none") else 0
    return (1 - idle) if z.get("wiring", "NC") == "NC" else idle


def own_secrets(sec):
    """The house's own secrets (the shipped samples raise a trouble): another site key, the
    sample codes and card re-hashed with other salts (fixed: no os.urandom in WebAssembly)."""
    from mimamori.core import auth
    sec["site_key"] = "5a" * 32
    n = 0
    for u, code in zip(sec["users"], (RESIDENT_CODE, INSTALLER_CODE)):
        n += 1
        u["code"] = auth.make_entry("code", code, bytes([n] * 16), u["code"]["iter"])
    for c in sec["cards"]:
        n += 1
        c["uid"] = auth.make_entry("card", "04A1B2C3", bytes([n] * 16), c["uid"]["iter"])
    return sec


def site(sample_secrets=False):
    """The sample house, validated; with its own secrets unless sample_secrets (the public
    samples: the controller then raises trouble 300)."""
    config = validate_config(read_json("config.sample.json"), read_json("pins.json"))
    sec = read_json("secrets.sample.json")
    secrets = validate_secrets(sec if sample_secrets else own_secrets(sec), config)
    return config, secrets


class Board:
    """The App with its pins: set(zone id, active), run(ms), the journal's events."""

    def __init__(self, name, log=None, data=None, sample_secrets=False):
        hostclock.use_virtual(0)
        machine.reset_all()
        self.config, self.secrets = site(sample_secrets)
        self.zones = {}
        for z in self.config["zones"]:
            self.zones[z["id"]] = z
            machine.Pin(z["gpio"]).drive(normal_level(z))
        machine.Pin(self.config["supervision"]["ac_sense_gpio"]).drive(1)
        machine.ADC(machine.Pin(36)).set_uv(1800000)    # 48 V line behind its divider
        machine.ADC(machine.Pin(39)).set_uv(2070000)    # 13.6 V battery behind its divider
        self.wall = WallClock(machine.RTC(), 540)
        self.wall.set_unix(1795316400)
        self.logs = []
        self.data = data or fresh_dir("board_" + name)
        self.app = App(self.config, self.secrets, self.data, hostclock.ticks_ms(),
                       machine_module=machine, link=OfflineLink(self.config["site_id"]),
                       wall=self.wall, log=log or self.logs.append)

    def now(self):
        return hostclock.ticks_ms()

    def set(self, zone_id, active):
        z = self.zones[zone_id]
        lv = normal_level(z)
        machine.Pin(z["gpio"]).drive(1 - lv if active else lv)

    def run(self, ms, step_ms=10):
        """The loop for ms of board time, every step_ms (10: the board's loop period)."""
        for _ in range(ms // step_ms):
            hostclock.clock.advance(step_ms)
            self.app.step(hostclock.ticks_ms())

    def events(self):
        """Every journalled event, oldest first."""
        return [e for e, _up, _acked in self.app.journal.history()]

    def display(self):
        return self.app.display(self.now())
