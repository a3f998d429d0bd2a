# The whole controller (App) on the fake ESP32 for the resident scenarios (keys, cards, duress,
# watch-over calls, door chime), on CPython and on the real MicroPython alike: the sample house
# with its own secrets, the network down (reports wait in the journal, as during an outage).
#
#   b = Board("name", card_and_code=False)     # a fresh flash
#   b.keys("1234D")                            # key presses, 100 ms apart ("P": 非常 ...)
#   b.tap("04A1B2C3"); b.run(2000); b.reboot()
#   b.sent()                                   # [(cid, qualifier, kind, user)] in the journal
import json

import hostclock
import machine

from offline_link import OfflineLink
from scratch import fresh_dir
from mimamori.app import App
from mimamori.core import auth
from mimamori.io.clock import WallClock
from mimamori.store.config import validate_config, validate_secrets

BOARD = "boards/esp32-devkitc/"
CODE = "1234"            # 住人 (resident, user 1); the duress code is DURESS
DURESS = "9111"
MASTER = "2468"          # 管理者 (master, user 3)
INSTALLER = "5678"       # 施工者 (installer, user 2)
CARD = "04A1B2C3"        # 住人's card (card 1)
CARD_2 = "0123456789ABCDEF"   # a FeliCa IDm, 住人's too (card 2)
FRONT_DOOR = 0           # zone index: 玄関ドア (entry route, chime)
WINDOW = 2               # リビング窓
NAMES = {"P": "PANIC", "M": "MEDICAL", "X": "CANCEL"}


def _json(name):
    with open(BOARD + name) as f:
        return json.loads(f.read())


def _normal_level(z):
    idle = 1 if z.get("pull", "up") in ("up", "none") else 0
    return (1 - idle) if z.get("wiring", "NC") == "NC" else idle


def secrets_raw(card_and_code=False):
    """The house's own secrets (fixed salts: no os.urandom in WebAssembly)."""
    sec = _json("secrets.sample.json")
    sec["site_key"] = "5a" * 32
    e = auth.make_entry
    sec["users"][0]["code"] = e("code", CODE, bytes([1] * 16))
    sec["users"][0]["duress"] = e("code", DURESS, bytes([2] * 16))
    sec["users"][1]["code"] = e("code", INSTALLER, bytes([3] * 16))
    sec["users"].append({"id": 3, "name": "管理者", "role": "master",
                         "code": e("code", MASTER, bytes([4] * 16))})
    sec["cards"][0]["uid"] = e("card", CARD, bytes([5] * 16))
    sec["cards"].append({"id": 2, "user": 1, "uid": e("card", CARD_2, bytes([6] * 16))})
    if card_and_code:
        sec["card_and_code"] = True
    return sec


class Board:
    def __init__(self, name, card_and_code=False, chime_zone=True):
        hostclock.use_virtual(0)
        machine.reset_all()
        raw = _json("config.sample.json")
        if chime_zone:
            raw["zones"][FRONT_DOOR]["chime"] = True
        self.config = validate_config(raw, _json("pins.json"))
        self.secrets = validate_secrets(secrets_raw(card_and_code), self.config)
        for z in self.config["zones"]:
            machine.Pin(z["gpio"]).drive(_normal_level(z))
        machine.Pin(self.config["supervision"]["ac_sense_gpio"]).drive(1)
        machine.ADC(machine.Pin(36)).set_uv(1800000)
        machine.ADC(machine.Pin(39)).set_uv(2070000)
        self.wall = WallClock(machine.RTC(), 540)
        self.wall.set_unix(1795316400)
        self.dir = fresh_dir("res_" + name)
        self.logs = []
        self.boot()

    def boot(self):
        self.app = App(self.config, self.secrets, self.dir, hostclock.ticks_ms(),
                       machine_module=machine, link=OfflineLink(self.config["site_id"]),
                       wall=self.wall, log=self.logs.append)
        self.run(1000)

    def reboot(self, off_ms=0):
        hostclock.clock.advance(off_ms)
        self.boot()

    def now(self):
        return hostclock.ticks_ms()

    def run(self, ms, step=10):
        for _ in range(ms // step):
            hostclock.clock.advance(step)
            self.app.step(hostclock.ticks_ms())

    def press(self, key, hold_ms=100):
        self.app.on_key(key, True, self.now())
        self.run(hold_ms)
        self.app.on_key(key, False, self.now())
        self.run(100)

    def keys(self, seq):
        for ch in seq:
            self.press(NAMES.get(ch, ch))

    def tap(self, card):
        self.app.tap(card, self.now())
        self.run(100)

    def zone(self, index, active):
        z = self.config["zones"][index]
        level = _normal_level(z)
        machine.Pin(z["gpio"]).drive(1 - level if active else level)

    def display(self):
        return self.app.display(self.now())

    def outputs(self):
        """What the panel shows on its pins, as a comparable tuple."""
        r = self.app.rendered
        return (r.siren, r.flash, r.buzzer, r.mode, r.arming, r.trouble, r.alarm_memory)

    def sent(self):
        return [(e.cid, e.qualifier, e.kind, e.user)
                for e, _u, _a in self.app.journal.history()]

    def cids(self):
        return [s[0] for s in self.sent() if s[0] != 305]
