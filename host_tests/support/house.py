# A small house for core scenario tests: one zone of every type, with the defaults the config
# validator fills in. Shared by CPython and MicroPython runs (plain Python).
from mimamori.core.arming import AlarmCore
from mimamori.store.config_check import Check, ConfigError
from mimamori.store.config_pins import PinUse
from mimamori.store.config_zones import zones as check_zones


def validated(zones):
    """`zones` as the config validator hands them to the core: every default filled in (the core
    reads them as they are, without defaults of its own). A zone without a GPIO gets one; the
    core never looks at it."""
    raw = []
    for i, z in enumerate(zones):
        z = dict([(k, v) for k, v in z.items() if v is not None])   # None: "not set" (again)
        if "gpio" not in z:
            z["gpio"] = i
        raw.append(z)
    errors = []
    out = check_zones(PinUse(Check(errors), None), raw)
    if errors:
        raise ConfigError(errors)
    return out


ALL = ["away", "stay", "partial"]

ZONES = validated([
    {"id": 1, "name": "玄関ドア", "type": "magnet", "modes": ALL, "entry_route": True},
    {"id": 2, "name": "リビング窓", "type": "magnet", "modes": ALL},
    {"id": 3, "name": "2階寝室窓", "type": "magnet", "modes": ["away", "stay"]},
    {"id": 4, "name": "リビング 空間センサー", "type": "space", "modes": ["away"],
     "follower": True},
    {"id": 5, "name": "リビング ガラス", "type": "glass", "modes": ALL},
    {"id": 6, "name": "台所 熱感知器", "type": "fire", "detector": "heat"},
    {"id": 7, "name": "寝室 煙感知器", "type": "fire", "detector": "smoke"},
    {"id": 8, "name": "台所 ガス", "type": "gas"},
    {"id": 9, "name": "非常ボタン", "type": "panic"},
    {"id": 10, "name": "救急ボタン", "type": "medical"},
    {"id": 11, "name": "キャンセルボタン", "type": "cancel"},
    {"id": 12, "name": "本体タンパー", "type": "tamper"},
    {"id": 13, "name": "金庫 振動", "type": "vibration", "always_armed": True},
    {"id": 14, "name": "勝手口", "type": "magnet", "modes": ["away"], "entry_route": True},
    {"id": 15, "name": "制御盤 ケース", "type": "case_tamper"},
])

TIMERS = {"entry_delay_s": 30, "exit_delay_s": 60, "cancel_window_s": 30, "siren_cutoff_min": 5}

USER = 1  # an authorised resident (the app authenticates the code or card first)


class House:
    """The core plus an event log, driven by zone id and seconds of virtual time."""

    def __init__(self, start_ms=0, zones=ZONES, timers=TIMERS):
        self.events = []
        self.now = start_ms
        self.zones = validated(zones)
        self.timers = timers
        self.core = AlarmCore(self.zones, timers, self.events.append, start_ms)

    def at(self, seconds):
        """Move to `seconds` after the start and let the core tick there."""
        self.now = self._start + int(seconds * 1000) if hasattr(self, "_start") else int(seconds * 1000)
        self.core.tick(self.now)
        return self

    def wait(self, seconds):
        self.now += int(seconds * 1000)
        self.core.tick(self.now)
        return self

    def open(self, zone_id):
        self.core.zone_changed(self._index(zone_id), True, self.now)
        return self

    def close(self, zone_id):
        self.core.zone_changed(self._index(zone_id), False, self.now)
        return self

    def _index(self, zone_id):
        return self.core.zone_by_id(zone_id).index

    def arm(self, mode, force=False):
        return self.core.arm(mode, USER, self.now, force)

    def disarm(self):
        self.core.disarm(USER, self.now)
        return self

    def alarms(self):
        return [(e.cid, e.zone) for e in self.events if e.kind == "alarm"]

    def kinds(self):
        return [e.kind for e in self.events]

    def power_cut(self, off_ms=0, since_save_ms=None, boot_ms=0):
        """The power goes: the core restarts from what was last saved (`saved`, else a snapshot
        now), `off_ms` + `boot_ms` later. since_save_ms: what the RTC says (None: lost).
        Ticks restart near zero; the zones keep their level (io reports them again at boot)."""
        snap = getattr(self, "saved", None) or self.core.snapshot(self.now)
        levels = [z.open for z in self.core.zones]
        self.now = 7 + boot_ms
        self.core = AlarmCore(self.zones, self.timers, self.events.append, self.now)
        self.core.restore(snap, self.now, since_save_ms)
        for i, active in enumerate(levels):
            self.core.zone_changed(i, active, self.now)
        self.saved = None
        self.saved_rev = 0          # a restored core: revision 0, as saved
        return self

    def save(self):
        """The app's persistence: a snapshot whenever the core changed or a checkpoint is due."""
        due = getattr(self.core, "checkpoint_due", None)
        if self.core.revision != getattr(self, "saved_rev", 0) or (due is not None and
                                                                     due(self.now)):
            self.saved = self.core.snapshot(self.now)
            self.saved_rev = self.core.revision
            self.writes = getattr(self, "writes", 0) + 1
        return self

    def clear(self):
        del self.events[:]
        return self
