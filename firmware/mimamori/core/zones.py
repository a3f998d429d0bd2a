# Zones as the core sees them: what a zone is (type, name, arm modes, 24-hour, entry route) and
# what it is doing (open, in alarm, bypassed). Built from the validated config; no hardware here.
from mimamori.compat import ticks_diff
from mimamori.core import events as ev
# The modes, their labels and the zone-type groups are declared in core/vocab.py (their one
# home) and imported from there.
from mimamori.core.vocab import LIFE_SAFETY_TYPES

# Contact ID code raised when a zone of this type trips (see events.py for the choices).
_TYPE_CID = {
    "magnet": ev.CID_PERIMETER,
    "space": ev.CID_INTERIOR,
    "glass": ev.CID_GLASS,
    "vibration": ev.CID_24H_SAFE,
    "gas": ev.CID_GAS,
    "panic": ev.CID_PANIC,
    "medical": ev.CID_MEDICAL,
    "tamper": ev.CID_EXPANSION_TAMPER,   # a sensor's (or a junction box's) tamper switch
    "case_tamper": ev.CID_TAMPER,        # the panel's own case switch
}
_FIRE_CID = {"smoke": ev.CID_SMOKE, "heat": ev.CID_HEAT, "generic": ev.CID_FIRE}

# A zone that trips, restores and trips again (a banging door) reports at most this many alarms
# per arming, and per SWINGER_PERIOD_MS from its first counted trip (so a house that stays
# disarmed for weeks is never silenced for good): the classic "swinger shutdown" so one faulty
# contact cannot flood the centre. Never for life safety: every fire, gas, panic and medical
# trip is reported, in every state.
SWINGER_LIMIT = 3
SWINGER_PERIOD_MS = 24 * 3600 * 1000
SWINGERS_RESET = 1       # expire_swingers: some count ran out of its period
SWINGERS_RUNNING = 2     # ... some period still runs


def count_trip(z, now):
    """A swinger-limited zone trips: True when it is still reported, False when it is over
    SWINGER_LIMIT in its period (silenced until the period is over)."""
    if z.trips and ticks_diff(now, z.trips_start) >= SWINGER_PERIOD_MS:
        z.trips = 0      # its period is over: a new one starts with this trip
    if z.trips >= SWINGER_LIMIT:
        return False
    if not z.trips:
        z.trips_start = now
    z.trips += 1
    return True


def expire_swingers(zones, now):
    """Periods that ran out start again (checked while any runs, so a count never outlives its
    period however long the next trip waits). SWINGERS_RESET | SWINGERS_RUNNING bits: a small
    int, so the core's tick allocates nothing."""
    out = 0
    for z in zones:
        if z.trips:
            if ticks_diff(now, z.trips_start) >= SWINGER_PERIOD_MS:
                z.trips = 0
                out |= SWINGERS_RESET
            else:
                out |= SWINGERS_RUNNING
    return out


class Zone:
    def __init__(self, index, cfg):
        self.index = index
        self.id = cfg["id"]
        self.name = cfg["name"]
        self.type = cfg["type"]
        # The validated config (store/config_zones.py) has every key, defaults filled in.
        self.modes = tuple(cfg["modes"])
        self.entry_route = cfg["entry_route"]
        # Interior follower (DSC "interior", ESPHome delayed_follower): instant when no entry
        # delay runs; during one it follows it (the resident walking from the door to the panel).
        self.follower = cfg["follower"]
        self.sounder = cfg["sounder"]      # fire/gas: what sounds after the cut-off (else None)
        self.always_armed = cfg["always_armed"]     # true for every 24-hour type (vocab.py)
        self.chime = cfg.get("chime", False)        # door chime while disarmed (core/chime.py)
        if self.type == "fire":
            self.cid = _FIRE_CID[cfg["detector"]]
        else:
            self.cid = _TYPE_CID.get(self.type, 0)  # cancel buttons raise no alarm of their own
        # Live state.
        self.open = False
        self.in_alarm = False     # tripped and not yet restored (closed)
        self.alarm_cid = 0        # the code it tripped with (134 after an entry delay): restores
        self.trips = 0            # alarms reported this period (swinger limit)
        self.trips_start = 0      # ticks of the period's first counted trip
        self.swinger = self.type not in LIFE_SAFETY_TYPES   # subject to the swinger limit
        self.bypassed = False     # force-arm bypass, this arming only
        self.cancelled = False    # opened, then cancelled within the window: ignored until closed
        self.pending = False      # opened during an entry delay / cancel window: alarms at its end

    def armed_in(self, mode):
        return mode in self.modes

    def __repr__(self):
        return "Zone(%d %s %s open=%s)" % (self.id, self.type, self.name, self.open)


def build_zones(zone_cfgs):
    return [Zone(i, c) for i, c in enumerate(zone_cfgs)]
