# ライフ監視 (seed H): nobody has moved (no zone change, no operation) for `life_monitor_h`
# hours while the house is not armed 外出: someone may be unwell.
#
# 641 (ALARM): DC-05 641 "Senior watch trouble" is exactly seed H; 654 "System inactivity"
# means the *panel* was not used/armed for a period (a shop left unarmed), which is not what the
# centre must act on. Raised once; restored by the next activity, which restarts the timer.
# Suspended while armed 外出 (a holiday), restarted in full by the disarm.
from mimamori.core.watch.base import Watcher, MS_H, MODE_AWAY, ev, tx, ticks_diff


class LifeWatcher(Watcher):
    def __init__(self, ctx, hours, now):
        Watcher.__init__(self, ctx)
        self.hours = hours
        self._ms = hours * MS_H
        self._on = False
        self._t0 = now
        self._h = -1                # supervision hour the timer (re)started, -1 = suspended
        self.alarm = False
        if ctx.mode != MODE_AWAY:
            self._on = True
            self._h = 0

    def tick(self, now):
        if self._on and not self.alarm and ticks_diff(now, self._t0) >= self._ms:
            self.alarm = True
            self._touch()
            self.ctx.event(ev.ALARM, ev.CID_LIFE)

    def activity(self, now):
        ctx = self.ctx
        if self.alarm:
            self.alarm = False
            self._touch()
            ctx.event(ev.RESTORE, ev.CID_LIFE)
        if ctx.mode == MODE_AWAY:
            if self._on:
                self._on = False
                self._h = -1
                self._touch()
            return
        self._on = True
        self._t0 = now
        if self._h != ctx.hour:
            self._h = ctx.hour
            self._touch()

    def troubles(self, out):
        if self.alarm:
            out.append((ev.CID_LIFE, 0, tx.TROUBLE_TEXT[ev.CID_LIFE] % self.hours))

    def snapshot(self, d):
        d["life_h"] = self._h
        d["life_alarm"] = self.alarm

    def parse(self, d):
        return int(d["life_h"]), bool(d["life_alarm"])

    def restore(self, state, now):
        # The timer is credited with the whole hours that had certainly passed (never more), so
        # it can only fire late, never early: a false ライフ 異常 sends a guard to the house.
        life_h, self.alarm = state
        ctx = self.ctx
        h = ctx.hour
        if ctx.mode != MODE_AWAY:
            self._on = True
            if 0 <= life_h <= h:
                self._h = life_h
                self._t0 = ctx.ago(h - life_h - 1, self._ms)
            else:                       # saved while away, booted disarmed: start afresh
                self._h = h
                self._t0 = now
