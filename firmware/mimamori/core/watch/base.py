# What every supervision watcher shares (Context) and the one shape they all have (Watcher).
#
# A watcher keeps the books of one watched condition (life.py, power.py, line.py, comm.py,
# stuck.py, departure.py, selfcheck.py, secrets.py); core/supervision.py's Supervisor owns the
# list and forwards the app's calls. Inputs are the watcher's own methods (a reading, a fault, a
# departure time); besides them, the Supervisor calls on every watcher the same few:
#   tick(now)               every loop; allocates nothing while nothing is due
#   activity(now)           a zone change or an operation
#   mode_changed(old, now)  the arm mode changed (ctx.mode is already the new one)
#   troubles(out)           append its active conditions: (cid, zone, Japanese panel text)
#   notices(out)            append panel lines that are not troubles
#   snapshot(d)             write its saved fields into the snapshot dict `d`
#   parse(d)                read them back from a saved `d`: returns them, raises on damage
#                           (KeyError, TypeError, ValueError ...), changes nothing
#   restore(state, now)     apply what parse() returned; the Supervisor parses every watcher
#                           before restoring any, so a damaged snapshot changes nothing at all
#   revision                bumped by _touch() whenever a saved field changes
# The snapshot is one flat dict whose keys each watcher owns (the format "v": 1 of the time
# before the watchers), so a state saved by an older firmware still restores.
# What the watchers use, imported here once: each watcher module has the one import line
# `from mimamori.core.watch.base import Watcher, ev, tx, ...` (every import costs its names again
# in every .mpy, and the firmware must fit the flash).
from mimamori.compat import const, ticks_diff, ticks_add  # noqa: F401
from mimamori.core import events as ev
from mimamori.core import texts as tx  # noqa: F401
from mimamori.core.troubles import Debounce  # noqa: F401
from mimamori.core.vocab import MODE_AWAY, MODE_DISARMED  # noqa: F401

MS_H = const(3600000)


class Context:
    """The supervision clock, the arm mode and the event sink, shared by every watcher.

    Time. ticks_ms wrap at 2**30 ms and a ticks_diff is only valid within +-2**29 ms (6.2 days),
    so timers of at most 72 h are ticks + ticks_diff from their start (exact to the ms), and
    long periods (stuck zone up to 168 h, monthly self-check, a departure days ahead) use `sec`:
    seconds accumulated from the differences between consecutive calls, which never wraps in
    practice (2**30 s = 34 years) and stays a small int (no allocation on MicroPython). The
    snapshot stores `hour` = sec // 3600, so it changes about once an hour while idle."""

    def __init__(self, emit, now, mode):
        self.emit = emit
        self.mode = mode
        self.revision = 0       # bumped when `hour` (saved) moves on
        self.restart(0, now)

    def restart(self, hour, now):
        """Carry on from `hour` whole hours of the supervision clock (a restore)."""
        self.now = now
        self.sec = hour * 3600
        self.sub = 0            # milliseconds not yet making a second
        self.hour = hour
        self.next_hour_s = (hour + 1) * 3600

    def advance(self, now):
        d = ticks_diff(now, self.now)
        if d <= 0:
            return          # an older timestamp (an edge latched before the last tick)
        self.now = now
        sub = self.sub + d
        if sub >= 1000:
            q = sub // 1000
            self.sec += q
            sub -= q * 1000
            if self.sec >= self.next_hour_s:
                self.hour = self.sec // 3600
                self.next_hour_s = (self.hour + 1) * 3600
                self.revision += 1
        self.sub = sub

    def ago(self, hours, cap_ms):
        """ticks of a start `hours` whole hours before now, capped (restore of a timer)."""
        ms = hours * MS_H if hours > 0 else 0
        if ms > cap_ms:
            ms = cap_ms
        return ticks_add(self.now, -ms)

    def event(self, kind, cid, zone=0, zone_name=""):
        q = ev.Q_RESTORE if kind == ev.RESTORE else ev.Q_NEW
        self.emit(ev.Event(self.now, kind, cid, q, zone, 0, zone_name, self.mode))


class Watcher:
    """The shape of every watcher: the defaults do nothing."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.revision = 0

    def _touch(self):
        self.revision += 1

    def tick(self, now):
        pass

    def activity(self, now):
        pass

    def mode_changed(self, old, now):
        pass

    def troubles(self, out):
        pass

    def notices(self, out):
        pass

    def snapshot(self, d):
        pass

    def parse(self, d):
        return None

    def restore(self, state, now):
        pass
