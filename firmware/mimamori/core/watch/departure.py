# セット忘れ点検 (seed 6.(7)): the resident (or the centre) gave a departure time; not armed 外出
# within `forgot_arm_grace_min` of it: the reminder buzzer (`reminding`) and 454 (TROUBLE) to the
# centre, once. Arming 外出 afterwards sends the normal 401 closing (no 454 restore) and stops
# the reminder. A departure days ahead is counted on the supervision clock `sec`.
from mimamori.core.watch.base import Watcher, MODE_AWAY, ev, tx


class DepartureWatcher(Watcher):
    def __init__(self, ctx, grace_s):
        Watcher.__init__(self, ctx)
        self._grace_s = grace_s
        self._due_s = -1            # departure + grace on the supervision clock, -1 = none
        self.reminding = False

    def set(self, delay_s):
        """Departure `delay_s` seconds from now."""
        self._due_s = self.ctx.sec + int(delay_s) + self._grace_s
        self.reminding = False
        self._touch()

    def clear(self):
        if self._due_s >= 0 or self.reminding:
            self._due_s = -1
            self.reminding = False
            self._touch()

    def tick(self, now):
        ctx = self.ctx
        if self._due_s >= 0 and ctx.sec >= self._due_s:
            self._due_s = -1            # one-shot
            self._touch()
            if ctx.mode != MODE_AWAY:
                self.reminding = True
                ctx.event(ev.TROUBLE, ev.CID_FAIL_TO_CLOSE)

    def mode_changed(self, old, now):
        if self.ctx.mode == MODE_AWAY:
            self.clear()                # armed 外出 in time (or late: the reminder stops)

    def troubles(self, out):
        if self.reminding:
            out.append((ev.CID_FAIL_TO_CLOSE, 0, tx.TROUBLE_TEXT[ev.CID_FAIL_TO_CLOSE]))

    def snapshot(self, d):
        d["dep_s"] = self._due_s
        d["reminding"] = self.reminding

    def parse(self, d):
        return int(d["dep_s"]), bool(d["reminding"])

    def restore(self, state, now):
        self._due_s, self.reminding = state
