"""The simulated site: the real firmware on the virtual board with the sample house, a monitoring
centre, and the paths between them, on one clock; a timeline of what happened.

    site = Site(clock="real")          # the interactive panel: the loop runs in real time
    site = Site(clock="virtual")       # scenarios: minutes pass instantly, hours are skipped
    site.operate("arm", mode="away")   # the resident at the panel (the sample code by default)
    site.actuate(3)                    # the sensor of zone 3 does what it does (devices.py)
    site.run(61000)                    # board time passes with the loop running
    site.skip(3600000)                 # a quiet hour: no loop in between (fast-forward)
    site.settle(cond, 10)              # real time passes too, so the network answers
    site.close()                       # broker and receiver stopped, temp dir removed

Clocks: "real" is hostclock.RealClock (each loop pass sleeps its 10 ms, fast-forward is
RealClock.jump). "virtual" is hostclock.VirtualClock: run() costs no real time at all, so while
waiting for the broker and the centre settle() sleeps 1 ms of real time per 10 ms loop pass.
Both clocks drive the fake RTC too: report timestamps move with a fast-forward.
"""
import json
import os
import shutil
import sys
import tempfile
import time

import hostpath  # noqa: E402 - firmware/ and the host fakes on the path (simlib/__init__ too)
import vboard  # noqa: E402 - also puts lib/ (umqtt.simple) on the path
import hostclock  # noqa: E402

from mimamori.store.config import validate_config, validate_secrets  # noqa: E402
from simlib import devices  # noqa: E402
from simlib.centre import Centre, LandlinePath, MqttPath  # noqa: E402

BOARD_DIR = os.path.join(hostpath.ROOT, "boards", "esp32-devkitc")
PANEL_BOARD_DIR = os.path.join(hostpath.ROOT, "boards", "esp32s3-devkitc")
SAMPLE_CODE = "1234"        # the sample resident's code (secrets.sample.json)
SAMPLE_CARD = "04A1B2C3"    # the sample resident's ライフカード
SAMPLE_FELICA = "012E4CD1A2B3C4D5"  # the resident's own FeliCa card (enrolled with a reader)
STRANGER_CARD = "04DEADBEEF0102"    # nobody's card
# With a reader (Site(reader=True)) zones 8 and 11 give GPIO21 and GPIO25 to its I2C bus
READER_WIRING = {"gives_up_zones": (8, 11), "i2c": {"sda": 21, "scl": 25}}
LOOP_MS = vboard.LOOP_MS
PACE_S = 0.001              # virtual clock, waiting on the network: real seconds per loop pass

# The timeline is the log (English): sources board (the firmware's own log), panel (the
# resident's operations), sensor, sim (outages, fast-forward), rx (the receiver's diagnostics),
# centre (the receiver's console, Japanese: the operator's surface), check (a scenario's checks).
PATH_EN = {"mqtt": "MQTT broker", "landline": "telephone line"}


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Site:
    def __init__(self, clock="real", broker=None, board_dir=BOARD_DIR, out=None, landline=False,
                 reader=False, panel=False):
        """out(entry): called for every timeline entry (t_ms, source, text) as it happens.
        landline: the house also has the fixed line as its second report path (LandlinePath;
        the sample board then gives zones 4 and 5 to the modem's UART).
        reader: the house has the ライフカード reader (a fake PN532 on I2C; READER_WIRING), the
        sample card and a FeliCa card enrolled: tap_card()."""
        self.landline = landline
        self.reader = reader
        # panel: the house with the resident's panel, keypad and OLED (README "Keypad" and
        # "Display"): the ESP32-S3 panel sample, MQTT only
        self.config_name = "config.panel.sample.json" if panel else "config.sample.json"
        if panel:
            board_dir = PANEL_BOARD_DIR
        self._keys_due = []         # [(board ms, key)]: keypad keys to release
        self.out = out
        self.timeline = []
        self.tmp = tempfile.mkdtemp(prefix="mimamori-sim-")
        self.centre = None
        self.paths = []
        self._due = []              # [(board ms, zone id)]: momentary inputs to release
        try:
            self._build(clock, broker, board_dir)
        except BaseException:
            self.close()
            raise

    def _build(self, clock, broker, board_dir):
        self.centre = Centre(os.path.join(self.tmp, "centre.db"))
        self.paths.append(MqttPath(self.centre, broker))
        if self.landline:
            self.paths.append(LandlinePath(self.centre))
        raw = load_json(os.path.join(board_dir, self.config_name))
        if self.config_name != "config.sample.json":
            raw["comms"]["landline"]["enabled"] = False     # its UART pins stay as they are
        for p in self.paths:
            p.configure(raw)
        if self.reader:
            if not raw.get("i2c"):      # the sample house: two zones give their pins to the bus
                raw["zones"] = [z for z in raw["zones"]
                                if z["id"] not in READER_WIRING["gives_up_zones"]]
                raw["i2c"] = dict(READER_WIRING["i2c"])
            raw["card_reader"] = {}     # the panel house: on the OLED's bus (another address)
        self.config = validate_config(raw, load_json(os.path.join(board_dir, "pins.json")))
        # the house's own secrets, as an installer makes them (the samples themselves would
        # raise the sample-secrets trouble); the codes and card stay SAMPLE_CODE / SAMPLE_CARD
        sec = vboard.own_secrets(load_json(os.path.join(board_dir, "secrets.sample.json")))
        if self.reader:
            from mimamori.core import auth
            sec["cards"].append({"id": 2, "user": 1, "uid": auth.make_entry(
                "card", SAMPLE_FELICA, os.urandom(16), auth.ITERATIONS)})
        self.secrets = validate_secrets(sec, self.config)
        self.site_id = self.config["site_id"]
        ll = self.config["comms"].get("landline") or {}
        self.centre.add_site(self.site_id, self.secrets["site_key"],
                             ll.get("account") if ll.get("enabled") else None)
        for p in self.paths:
            p.allow(self.site_id, self.secrets["mqtt"])
            p.start()
        self.virtual = clock == "virtual"
        if self.virtual:
            hostclock.use_virtual(0)
        else:
            hostclock.use_real()
        self.t0 = hostclock.clock.now_ms    # before the board: it logs its boot report
        # The centre's clock runs on the board's clock (a fast-forward moves both), from the
        # same Unix time the board's RTC starts at: the centre never acks with a time behind the
        # controller's, so report times never run backwards (io/clock.py centre_time).
        unix0 = int(time.time())
        self.centre.clock = lambda: unix0 + self.elapsed_ms() / 1000
        self.board = vboard.VirtualBoard(self.config, self.secrets,
                                         os.path.join(self.tmp, "flash"),
                                         log=lambda m: self.note("board", m), wall_unix=unix0)
        for p in self.paths:
            if hasattr(p, "attach"):
                p.attach(self.board)
        self.zones = {z["id"]: z for z in self.config["zones"]}

    # ---- what happened ----------------------------------------------------------------------

    @property
    def app(self):
        return self.board.app

    def elapsed_ms(self):
        """Board time since the start (does not wrap, unlike ticks)."""
        return hostclock.clock.now_ms - self.t0

    def note(self, source, text):
        entry = (self.elapsed_ms(), source, text)
        self.timeline.append(entry)
        if self.out is not None:
            self.out(entry)

    def drain(self):
        """Put the centre's console lines received so far on the timeline."""
        q = self.centre.lines
        while not q.empty():
            line = q.get_nowait()
            # the operator's console is Japanese; the receiver's own diagnostics ("receiver:
            # ... refused: bad_mac") are log lines, in English: they go to the log
            self.note("rx" if line.startswith("receiver:") else "centre", line)

    def reports(self):
        return self.centre.reports(self.site_id)

    def seen(self):
        return self.centre.seen(self.site_id)

    def path(self, name):
        for p in self.paths:
            if p.name == name:
                return p
        raise KeyError(name)

    def set_path(self, name, up):
        """Take a report path away (an outage) or bring it back."""
        p = self.path(name)
        if up:
            p.up()
        else:
            p.down()
        self.note("sim", "%s %s" % (PATH_EN.get(name, name), "restored" if up else
                                    "cut" if name == "landline" else "stopped"))

    def ready(self):
        return all(p.ready(self.app) for p in self.paths if p.is_up)

    # ---- time -------------------------------------------------------------------------------

    def step(self):
        """One loop pass (10 ms of board time), then release momentary inputs that are due."""
        self.board.step()
        for p in self.paths:
            if hasattr(p, "tick"):
                p.tick(LOOP_MS)
        if self._keys_due:
            now = self.elapsed_ms()
            for item in [d for d in self._keys_due if d[0] <= now]:
                self._keys_due.remove(item)
                self.board.key_up(item[1])
        if self._due:
            now = self.elapsed_ms()
            for item in [d for d in self._due if d[0] <= now]:
                self._due.remove(item)
                self.set_zone(item[1], False, quiet=True)
        self.drain()

    def run(self, ms):
        for _ in range(max(1, ms // LOOP_MS)):
            self.step()

    def skip(self, ms):
        """Fast-forward `ms` of quiet (nothing runs in between; timers due fire once, late)."""
        if self.virtual:
            hostclock.clock.advance(ms)
        else:
            hostclock.clock.jump(ms)
        self.note("sim", "fast-forward +%s" % _duration(ms))
        self.step()

    def settle(self, cond=None, timeout_s=10.0):
        """Run the loop with real time passing (the broker and the centre answer) until cond()
        is true; with cond None, for timeout_s. True if cond was met."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            self.step()
            if self.virtual:
                time.sleep(PACE_S)
            if cond is not None and cond():
                return True
        return cond is None

    # ---- the house --------------------------------------------------------------------------

    def zone_id(self, name):
        for z in self.config["zones"]:
            if z["name"] == name:
                return z["id"]
        raise KeyError(name)

    def set_zone(self, zone_id, active, quiet=False):
        self.board.set_zone(zone_id, active)
        if not quiet:
            self.note("sensor", "%s %s" % (self.zones[zone_id]["name"],
                                           "active" if active else "at rest"))

    def press(self, zone_id, hold_ms=300):
        """A momentary input: active now, back at rest after hold_ms of board time (released
        by step(), so the panel never blocks while a button is held)."""
        self.set_zone(zone_id, True)
        self._due.append((self.elapsed_ms() + hold_ms, zone_id))

    def press_key(self, key, hold_ms=150):
        """A keypad key: down now, released after hold_ms of board time (by step())."""
        self.board.key_down(key)
        self._keys_due.append((self.elapsed_ms() + hold_ms, key))
        self.note("panel", "key %s" % key)

    def actuate(self, zone_id):
        devices.device_for(self.zones[zone_id]).actuate(self, zone_id)

    def operate(self, action, mode=None, code=None, card=None, force=False):
        """The resident at the panel: a code or a card (the sample code if neither is given)."""
        if code is None and card is None:
            code = SAMPLE_CODE
        text = self.app.operate(action, self.board.now(), code=code, card=card, mode=mode,
                                force=force)
        what = ("force-" if force else "") + "arm " + mode if action == "arm" else action
        # the log is English; the panel's answer is quoted as the resident saw it
        self.note("panel", "%s with %s -> %s" % (what, "card" if card else "code", text))
        return text

    def tap_card(self, card_id, kind="mifare"):
        """A card held on the house's reader until read, then taken away: the panel's answer."""
        text = self.board.tap_card(card_id, kind, step=self.step)
        self.note("操作", "カード %s -> %s" % ("FeliCa" if kind == "felica" else "MIFARE",
                                            text if text is not None else "(読み取れません)"))
        return text

    def close(self):
        for p in self.paths:
            try:
                p.close()
            except Exception as e:   # noqa: BLE001 - the rest must still be cleaned up
                print("sim: closing %s: %r" % (p.name, e), file=sys.stderr)
        self.paths = []
        shutil.rmtree(self.tmp, ignore_errors=True)


def _duration(ms):
    if ms % 3600000 == 0:
        return "%d h" % (ms // 3600000)
    if ms % 60000 == 0:
        return "%d min" % (ms // 60000)
    return "%.1f s" % (ms / 1000)
