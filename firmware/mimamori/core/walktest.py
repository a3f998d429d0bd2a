# The walk test (installer mode): the installer walks the house and trips every sensor; each trip
# shows live with its zone name, nothing is reported as 異常 and nothing sounds. The centre is told
# when it starts and ends (Contact ID 607 Walk test mode, Q1 / Q3) so the guard company knows this
# house's zones are under test. At the end the zones never tripped are listed.
#
#   walktest.start(core, user, now, seconds)   # -> None, or why not (a texts.py line)
#   core.walk                                   # the running WalkTest, or None
#   walktest.end(core, user, now, "installer")  # the installer's code again, Ctrl-C, timeout
#
# The alarm core is told through one call: while a walk test runs, AlarmCore.zone_changed hands
# each change to WalkTest.capture first, which keeps it (the zone's level stays with the walk
# test, the core never sees it) unless the zone is live. At the end every zone's level goes back
# to the core as an ordinary change, so whatever is still active then counts in full.
#
# 24-hour life-safety detectors (fire, gas): a smoke spray or a test button makes a short trip; a
# real fire keeps the detector detecting. So a fire or gas zone is part of the walk test for its
# first HOLD_MS; still detecting after that, it goes live (the core trips it: a real 異常 with
# its siren), and stays live until the end. A walk test cannot outlast MAX_S, and one still
# detecting at the end alarms then. Panic, medical and tamper inputs are walk-tested like the
# rest (a press shows, nobody is called): the installer is in the house, and the time limit
# bounds it. A power cut ends a walk test: the boot's levels go to the core as always (the 607
# end is not sent; the 305 boot report is).
from mimamori.compat import const, ticks_diff
from mimamori.core import events as ev
from mimamori.core import outputs as out
from mimamori.core import texts
from mimamori.core.vocab import MODE_DISARMED, WARNING_TYPES

HOLD_MS = const(30000)     # a fire/gas detector still detecting this long is taken as real
MIN_S = const(10)
MAX_S = const(3600)        # a forgotten walk test ends by itself within the hour
DEFAULT_S = const(600)


class WalkTest:
    def __init__(self, zones, user, now, seconds):
        n = len(zones)
        self.zones = zones
        self.user = user
        self.started = now
        self.limit_ms = seconds * 1000
        self.level = [z.open for z in zones]   # each zone's level as the walk test saw it
        self.seen = bytearray(n)               # tripped at least once
        self.live = bytearray(n)               # handed to the core (a detector that held)
        self.since = [0] * n                   # ticks a fire/gas zone became active
        self.queue = []                        # (zone index, active, live) not yet shown
        self.last = -1                         # the latest trip, for the panel

    def capture(self, z, active, now):
        """A zone changed while the walk test runs. True: the walk test keeps it."""
        i = z.index
        if self.live[i]:
            return False
        if self.level[i] == active:
            return True
        self.level[i] = active
        if active:
            self.seen[i] = 1
            self.since[i] = now
        self.last = i
        self.queue.append((i, active, False))
        return True

    def take(self):
        """The trips not yet shown to the installer, oldest first (and forgets them)."""
        q = self.queue
        if not q:
            return q
        self.queue = []
        return q

    def untriggered(self):
        return [z for z in self.zones if not self.seen[z.index]]

    def display(self, now):
        if self.last < 0:
            return texts.WALK_ON
        i = self.last
        return texts.WALK_ZONE % (self.zones[i].name,
                                  texts.WALK_ACTIVE if self.level[i] else texts.WALK_CLEAR)


def start(core, user, now, seconds=DEFAULT_S):
    """Start a walk test for `user` (the installer). None, or why it is refused (panel text)."""
    if core.walk is not None:
        return None
    if core.mode != MODE_DISARMED or core._delay or core._sound != out.BUZ_OFF:
        return texts.WALK_NOT_DISARMED
    seconds = MIN_S if seconds < MIN_S else MAX_S if seconds > MAX_S else seconds
    core.walk = WalkTest(core.zones, user, now, seconds)
    core._event(ev.TEST, ev.CID_WALK_TEST, now, ev.Q_NEW, None, user)
    return None


def end(core, user, now):
    """End the walk test: 607 end to the centre, then each zone's level back to the core (a
    detector still detecting alarms now). Returns the zones never tripped."""
    w = core.walk
    if w is None:
        return []
    core.walk = None
    core._event(ev.TEST, ev.CID_WALK_TEST, now, ev.Q_RESTORE, None, user or w.user)
    for z in core.zones:
        if not w.live[z.index] and w.level[z.index] != z.open:
            core.zone_changed(z.index, w.level[z.index], now)
    return w.untriggered()


def tick(core, now):
    """From AlarmCore.tick while a walk test runs: the time limit, and fire/gas zones that keep
    detecting go live."""
    w = core.walk
    if ticks_diff(now, w.started) >= w.limit_ms:
        end(core, w.user, now)
        return
    for z in core.zones:
        i = z.index
        if w.level[i] and not w.live[i] and z.type in WARNING_TYPES and \
                ticks_diff(now, w.since[i]) >= HOLD_MS:
            w.live[i] = 1
            w.queue.append((i, True, True))
            core.zone_changed(i, True, now)     # live now: the core trips it (異常)
