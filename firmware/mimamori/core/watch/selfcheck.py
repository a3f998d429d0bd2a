# The monthly self-check (seed 6.(6) ①: inspect once a month): after `self_check_days` of
# running time the panel prompts for it; the resident starts it; it sends a 601 test on every
# path (comm.py does, from each PathCheck's manual_pending) and drives each output in turn for
# the resident to watch and hear (`output`, rendered by the app), then shows the result per path
# until the next activity and starts the next period.
from mimamori.core.watch.base import Watcher, tx, ticks_diff

# The self-check sounds each output briefly, in this order (names of core.outputs.OutputState
# fields; the app renders "buzzer" as a continuous tone, "siren" as a short chirp).
SELF_CHECK_STEPS = ("buzzer", "flash", "trouble", "siren")
SELF_CHECK_MS = (1500, 3000, 1500, 500)


class SelfCheckWatcher(Watcher):
    def __init__(self, ctx, period_s, paths, now):
        """paths: the PathChecks of comm.py (each gets a 601 test, and reports its result)."""
        Watcher.__init__(self, ctx)
        self._period_s = period_s
        self._paths = paths
        self._last_s = 0            # supervision clock of the last completed self-check
        self.due = False
        self.running = False
        self.output = None          # the OutputState output to drive right now, or None
        self._t0 = now
        self._show = False          # show the results until the next panel operation

    def start(self, now):
        self.running = True
        self._t0 = now
        self.output = SELF_CHECK_STEPS[0]
        for p in self._paths:
            p.manual_pending = True
            p.manual_result = None

    def tick(self, now):
        if not self.due and self.ctx.sec - self._last_s >= self._period_s:
            self.due = True
        if self.running:
            self.step(now)

    def step(self, now):
        """Move the outputs on; finish once every path has its result."""
        e = ticks_diff(now, self._t0)
        end = 0
        i = 0
        out = None
        for ms in SELF_CHECK_MS:
            end += ms
            if e < end:
                out = SELF_CHECK_STEPS[i]
                break
            i += 1
        self.output = out
        if out is not None:
            return
        for p in self._paths:
            if p.manual_pending or p.manual_result is None:
                return
        self.running = False
        self.due = False
        self._show = True
        self._last_s = self.ctx.sec
        self._touch()

    def results(self):
        return [(p.name, p.manual_result) for p in self._paths]

    def activity(self, now):
        self._show = False

    def notices(self, out):
        if self.running:
            out.append(tx.SELF_CHECK_RUNNING)
        elif self.due:
            out.append(tx.SELF_CHECK_DUE)
        elif self._show:
            out.append(tx.SELF_CHECK_RESULT + " ".join(
                [p.name + ":" + (tx.CHECK_OK if p.manual_result else tx.CHECK_NG)
                 for p in self._paths]))

    def snapshot(self, d):
        d["check_h"] = self._last_s // 3600

    def parse(self, d):
        return int(d["check_h"]) * 3600

    def restore(self, last_s, now):
        sec = self.ctx.sec
        self._last_s = last_s if last_s <= sec else sec
