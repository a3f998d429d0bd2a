# The alarm core's state as others see it: the status and the panel line it shows, and the
# snapshot that survives a power cut (restored at boot). Functions of an AlarmCore (core/arming.py
# calls them from its methods of the same names); the timer constants live here because the
# snapshot's checkpoints are defined by them.
from mimamori.compat import ticks_diff, ticks_add
from mimamori.core import events as ev
from mimamori.core import outputs as out
from mimamori.core.vocab import MODE_LABELS
from mimamori.core.zones import SWINGER_PERIOD_MS

DELAY_NONE = 0
DELAY_ENTRY = 1    # 外出: entry-route zone opened, disarm before it ends
DELAY_CANCEL = 2   # 在宅セット / 部分セット: armed zone opened, cancel or disarm before it ends

# Checkpoints while a timer runs (the app saves when checkpoint_due): at most this much powered
# time can be lost to a power cut, and a restore without a trusted clock counts it as gone. The
# entry delay and the cancel window (an intruder inside) are the tightest; each costs one state
# file write per interval while it runs, nothing when idle.
CHECKPOINT_DELAY_MS = 2000
CHECKPOINT_EXIT_MS = 5000
CHECKPOINT_SIREN_MS = 10000
_MAX_ELAPSED_MS = 100000000  # ~28 h: longer than any timer; keeps ticks arithmetic in range


class ArmResult:
    """Answer to an arm request: ok, and the names of the zones that were open (refused) or
    bypassed (force-arm)."""

    def __init__(self, ok, open_zones):
        self.ok = ok
        self.open_zones = open_zones

    def message(self):
        if not self.open_zones:
            return "セットしました" if self.ok else "セットできません"
        names = "、".join(self.open_zones)
        if self.ok:
            return "バイパスしてセット: " + names
        return "セットできません: " + names + " が開いています"


def status(c, now):
    """Everything a panel, the state topic or an installer wants to see (allocates)."""
    return {
        "mode": c.mode,
        "mode_label": MODE_LABELS[c.mode],
        "exit_delay": c._exit_start is not None,
        "entry_delay": c._delay == DELAY_ENTRY,
        "cancel_window": c._delay == DELAY_CANCEL,
        "remaining_s": max(0, c.delay_remaining_ms(now)) // 1000,
        "open_zones": [z.name for z in c.zones if z.open],
        "bypassed": [z.name for z in c.zones if z.bypassed],
        # cancelled in the window and still open: ignored until shut (then guarding again)
        "ignored": [z.name for z in c.zones if z.cancelled],
        # (zone, name, label, first time, times, last time), the latest last
        "alarm_memory": [(m.zone, m.zone_name, m.label, m.first, m.count, m.last)
                         for m in c.memory],
        "siren": c.outputs.siren,
        "flash": c.outputs.flash,
    }

def display(c, now):
    """The panel's one-line display, in Japanese."""
    if c.walk is not None and c._sound == out.BUZ_OFF:
        return c.walk.display(now)      # a real alarm during a walk test shows as one
    secs = max(0, c.delay_remaining_ms(now) + 999) // 1000
    if c._exit_start is not None:
        return "外出セット中 あと%d秒" % secs
    if c._delay == DELAY_ENTRY:
        return "解除してください あと%d秒" % secs
    if c._delay == DELAY_CANCEL:
        return "キャンセルしてください あと%d秒" % secs
    if c.memory:
        m = c.memory[-1]
        if m.count > 1:
            return "異常 %s %s (%d回)" % (m.label, m.zone_name, m.count)
        return "異常 %s %s" % (m.label, m.zone_name)
    return MODE_LABELS[c.mode]

def snapshot(c, now):
    """What must survive a power cut: mode, bypasses, alarm memory and running timers (as
    elapsed ms, since ticks restart at boot). Written by the app when `revision` moved or when
    checkpoint_due."""
    c._saved_at = now

    def elapsed(start):
        return None if start is None else ticks_diff(now, start)
    return {
        "mode": c.mode,
        "bypassed": [z.id for z in c.zones if z.bypassed],
        "cancelled": [z.id for z in c.zones if z.cancelled],
        "pending": [z.id for z in c.zones if z.pending],
        "in_alarm": [z.id for z in c.zones if z.in_alarm],
        "trips": [[z.id, z.trips, ticks_diff(now, z.trips_start)]
                  for z in c.zones if z.trips],
        "exit": elapsed(c._exit_start),
        "delay": c._delay,
        "delay_elapsed": elapsed(c._delay_start) if c._delay else None,
        "siren": elapsed(c._siren_start),
        "sound": c._sound,
        "reported": c._reported,
        "flash": c.outputs.flash,
        "warning": [c._warning, c._warn_siren],
        "memory": [m.to_list() for m in c.memory],
    }

def restore(c, snap, now, since_save_ms=None):
    """Come back in the state we were in. `since_save_ms` is how long ago the snapshot was
    saved (from the RTC) when known: time that passed during the outage counts against
    running delays, so an entry delay interrupted by a power cut expires (and alarms) rather
    than being forgotten. Unknown (the power-on reset lost the RTC): a running timer resumes
    one checkpoint interval after its last checkpoint, never earlier, so repeated cuts
    cannot postpone an alarm (at most the boot time per cut)."""
    known = since_save_ms is not None
    gone = since_save_ms if known else 0
    c.mode = snap["mode"]
    for z in c.zones:
        z.bypassed = z.id in snap["bypassed"]
        z.cancelled = z.id in snap["cancelled"]
        z.pending = z.id in snap["pending"]
        z.in_alarm = z.id in snap["in_alarm"]
        # In alarm or pending means it was open: io reports the real level at boot, and a
        # zone still open then is not a new alarm, a closed one is a restore.
        z.open = z.in_alarm or z.pending or z.cancelled
    # Swinger periods: with the outage's length known they go on (a reboot does not reset
    # them); unknown, the counts are dropped: the zone reports again rather than staying
    # silent for longer than its period.
    c._swinging = False
    for t in snap["trips"]:
        z = c._by_id.get(t[0])
        if z is None or not known or not z.swinger:
            continue
        age = int(t[2] if len(t) > 2 else 0) + gone
        if age < SWINGER_PERIOD_MS:
            z.trips = int(t[1])
            z.trips_start = ticks_add(now, -age)
            c._swinging = True
    c._swing_check = now

    def started(elapsed, interval):
        if elapsed is None:
            return None
        # The RTC counts whole seconds and a checkpoint may be an interval old: count at
        # least one interval as gone, so the timer never ends later than it should.
        return ticks_add(now, -min(elapsed + max(gone, interval), _MAX_ELAPSED_MS))
    c._exit_start = started(snap["exit"], CHECKPOINT_EXIT_MS)
    c._delay = snap["delay"]
    c._delay_start = started(snap["delay_elapsed"], CHECKPOINT_DELAY_MS) or 0
    c._siren_start = started(snap["siren"], CHECKPOINT_SIREN_MS)
    c._sound = snap["sound"]
    c._reported = snap["reported"]
    c.outputs.flash = snap["flash"]
    warning = snap.get("warning") or [False, False]
    c._warning, c._warn_siren = bool(warning[0]), bool(warning[1])
    c.memory = []
    for d in snap["memory"]:
        z = c._by_id.get(d["zone"] if isinstance(d, dict) else d[0])
        m = ev.MemoryEntry.from_saved(d, z.name if z else "")
        if m.cid not in ev.CATALOGUE or not isinstance(m.count, int):
            raise ValueError("memory: %r" % (d,))   # damaged: refuse it here, not in the loop
        c.memory.append(m)
    c._update_outputs()
    c.revision = 0           # as saved: nothing has moved since the snapshot
    c._saved_at = now
    c.tick(now)  # anything that ran out during the outage fires now
