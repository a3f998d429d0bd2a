# Power: the mains (AC loss, 301) and the standby battery (low battery, 302), both TROUBLE of low
# urgency, each debounced (core/troubles.py Debounce), readings from io/analog.py.
from mimamori.core.watch.base import Watcher, Debounce, ev, tx, const

# AC loss is reported after the mains has been absent for 60 s: a flicker or a breaker being
# reset is not a power cut worth a report; it is restored after 10 s of mains back.
AC_LOSS_MS = const(60000)
AC_BACK_MS = const(10000)
# Battery voltage sags while the siren draws current: the low state must hold 60 s.
BATTERY_MS = const(60000)


class PowerWatcher(Watcher):
    def __init__(self, ctx, low_mv, ok_mv):
        Watcher.__init__(self, ctx)
        self._low_mv = low_mv
        self._ok_mv = ok_mv
        self._ac = Debounce(AC_LOSS_MS, AC_BACK_MS)
        self._batt = Debounce(BATTERY_MS, BATTERY_MS)

    def ac_power(self, present, now):
        self._ac.feed(not present, now)

    def battery(self, mv, now):
        if mv < self._low_mv:
            self._batt.feed(True, now)
        elif mv > self._ok_mv:
            self._batt.feed(False, now)
        # in between: hysteresis band, the input keeps its last value

    def tick(self, now):
        if self._ac.settle(now):
            self._touch()
            self.ctx.event(ev.TROUBLE if self._ac.state else ev.RESTORE, ev.CID_AC_LOSS)
        if self._batt.settle(now):
            self._touch()
            self.ctx.event(ev.TROUBLE if self._batt.state else ev.RESTORE, ev.CID_LOW_BATTERY)

    def troubles(self, out):
        if self._ac.state:
            out.append((ev.CID_AC_LOSS, 0, tx.TROUBLE_TEXT[ev.CID_AC_LOSS]))
        if self._batt.state:
            out.append((ev.CID_LOW_BATTERY, 0, tx.TROUBLE_TEXT[ev.CID_LOW_BATTERY]))

    def snapshot(self, d):
        d["ac"] = self._ac.state
        d["battery"] = self._batt.state

    def parse(self, d):
        return bool(d["ac"]), bool(d["battery"])

    def restore(self, state, now):
        # Reported conditions stay reported (no duplicate); the readings after boot end them.
        self._ac = Debounce(AC_LOSS_MS, AC_BACK_MS, state[0])
        self._batt = Debounce(BATTERY_MS, BATTERY_MS, state[1])
