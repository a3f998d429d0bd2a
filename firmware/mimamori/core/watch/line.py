# 断線監視 of the landline (seed F): its voltage is cut, or its test report failed (comm.py).
# One condition for the centre, 351 (TROUBLE): raised when either cause starts, restored when
# both are gone, naming the line path (zone 0, the name in zone_name) so that it goes out on
# another path.
from mimamori.core.watch.base import Watcher, Debounce, ev, tx


class LineWatcher(Watcher):
    def __init__(self, ctx, cut_mv, cut_ms, path):
        """cut_mv: below it the line is cut; cut_ms: how long a cut (and its end) must hold;
        path: the line's commcheck.PathCheck, or None when no line path is configured."""
        Watcher.__init__(self, ctx)
        self._cut_mv = cut_mv
        self._cut = Debounce(cut_ms, cut_ms)
        self.path = path
        self.reported = False       # 351 reported (cut or test failed)

    def line_voltage(self, mv, now):
        self._cut.feed(mv < self._cut_mv, now)

    def tick(self, now):
        if self._cut.settle(now):
            self._touch()
            self.update()

    def update(self):
        """Raise or end the 351 after either cause changed."""
        p = self.path
        fault = self._cut.state or (p is not None and p.failed)
        if fault != self.reported:
            self.reported = fault
            self._touch()
            self.ctx.event(ev.TROUBLE if fault else ev.RESTORE, ev.CID_TELCO_FAULT, 0,
                           p.name if p is not None else "line")

    def troubles(self, out):
        if self.reported:
            why = []
            if self._cut.state:
                why.append(tx.LINE_CUT)
            if self.path is not None and self.path.failed:
                why.append(tx.LINE_TEST_FAILED)
            out.append((ev.CID_TELCO_FAULT, 0, tx.TROUBLE_TEXT[ev.CID_TELCO_FAULT] % tx.LIST_SEP.join(why)))

    def snapshot(self, d):
        d["line_cut"] = self._cut.state

    def parse(self, d):
        return bool(d["line_cut"])

    def restore(self, cut, now):
        # after comm.py's restore: the path's `failed` is the saved one
        self._cut = Debounce(self._cut.on_ms, self._cut.off_ms, cut)
        self.reported = cut or (self.path is not None and self.path.failed)
