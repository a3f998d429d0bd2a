# The communication check of every report path (seed 5.: "36 時間毎に通信の状況を確認"): one
# core/commcheck.PathCheck per configured path keeps its books; this watcher sends the tests when
# they are due and turns a path's changes into events.
#
#   602 (TEST, via send_test): the periodic test, zone 0, the path's name in zone_name.
#   601 (TEST, via send_test): the self-check's test on every path (selfcheck.py asks for it).
#   350 (TROUBLE): the first test on a path other than the line that is not delivered.
#   354 (TROUBLE): nothing at all was delivered on that path for a whole comm_check_h period,
#       so the centre's own 36-hour supervision of it has lapsed. Raised once; both 350 and 354
#       are restored by the first delivery on the path.
#   The line path's failure is part of 351 instead (line.py, told through `on_line`).
from mimamori.core.commcheck import PathCheck, FAILED, RECOVERED, HEARD
from mimamori.core.watch.base import Watcher, MS_H, ev, tx

LINE_PATHS = ("line", "landline")


class CommWatcher(Watcher):
    def __init__(self, ctx, paths, period_ms, first_ms, send_test, now):
        """paths: configured report paths in priority order; send_test(path, event) hands a test
        report to that path's transport only (its outcome comes back as test_result)."""
        Watcher.__init__(self, ctx)
        self._send_test = send_test
        self.paths = []
        self.line = None            # the line's PathCheck, if a line path is configured
        self.on_line = None         # called when the line path fails or recovers (line.py)
        n = 0
        for name in paths:
            n += 1
            p = PathCheck(name, n, period_ms, first_ms, now)
            self.paths.append(p)
            if name in LINE_PATHS:
                self.line = p

    def path(self, name):
        for p in self.paths:
            if p.name == name:
                return p
        raise ValueError("unknown path " + str(name))

    def tick(self, now):
        for p in self.paths:
            if p.timed_out(now):
                self._change(p, p.result(False, now))
            if p.in_flight == 0:
                if p.manual_pending:
                    p.manual_pending = False
                    self._test(p, ev.CID_MANUAL_TEST, now)
                elif p.due(now):
                    self._test(p, ev.CID_PERIODIC_TEST, now)
            if p is not self.line and p.silent_too_long(now):
                self._touch()
                self.ctx.event(ev.TROUBLE, ev.CID_FAIL_TO_COMM, 0, p.name)

    def _test(self, p, cid, now):
        p.sent(cid, now)
        self._send_test(p.name, ev.Event(now, ev.TEST, cid, ev.Q_NEW, 0, 0, p.name,
                                         self.ctx.mode))

    def _change(self, p, change):
        if change == 0:
            return
        self._touch()
        if p is self.line:
            self.on_line()
        elif change & FAILED:
            self.ctx.event(ev.TROUBLE, ev.CID_COMM_TROUBLE, 0, p.name)
        elif change & RECOVERED:
            self.ctx.event(ev.RESTORE, ev.CID_COMM_TROUBLE, 0, p.name)
        if change & HEARD:
            self.ctx.event(ev.RESTORE, ev.CID_FAIL_TO_COMM, 0, p.name)

    def test_result(self, name, ok, now):
        p = self.path(name)
        self._change(p, p.result(ok, now))

    def delivered(self, name, now):
        p = self.path(name)
        self._change(p, p.delivered(now))

    def troubles(self, out):
        for p in self.paths:
            if p is self.line:
                continue
            if p.failed:
                out.append((ev.CID_COMM_TROUBLE, 0, tx.TROUBLE_TEXT[ev.CID_COMM_TROUBLE] % p.name))
            if p.silent:
                out.append((ev.CID_FAIL_TO_COMM, 0,
                            tx.TROUBLE_TEXT[ev.CID_FAIL_TO_COMM] % (p.name, p.period_ms // MS_H)))

    def snapshot(self, d):
        paths = {}
        for p in self.paths:
            paths[p.name] = [p.failed, p.silent]
        d["paths"] = paths

    def parse(self, d):
        paths = d["paths"]
        states = [paths.get(p.name) or (False, False) for p in self.paths]
        return [(bool(st[0]), bool(st[1])) for st in states]

    def restore(self, state, now):
        for p, st in zip(self.paths, state):
            p.failed = st[0]
            p.silent = st[1]
