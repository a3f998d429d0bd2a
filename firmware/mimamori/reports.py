# Reports: every event the core, the supervisor or the storage decides goes to the journal
# first (seq and wall time stamped), which is the outbox the Router (comms/paths.py) offers to
# the report paths. The Router's callbacks come back here: a delivered report ends that path's
# comm trouble; a test report delivered or late is that path's test result.
class Reports:
    def __init__(self, app):
        self.app = app
        self._test_seq = {}         # path -> seq of the test report in flight

    def emit(self, e):
        """Every event: journal first (stamps seq and wall), then it is in the outbox."""
        a = self.app
        a.journal.append(e, a.wall.iso(), a.uptime_s)
        a._state_dirty = True
        a.log.info("event %d %s %03d %s%s" % (e.seq, e.kind, e.cid, e.label,
                                             " " + e.zone_name if e.zone_name else ""))

    def send_test(self, path, e):
        self.emit(e)
        self._test_seq[path] = e.seq

    def delivered(self, path, seq, now):
        """The centre acknowledged seq on that path (comms/paths.py Router)."""
        self.app.sup.report_delivered(path, now)
        if self._test_seq.get(path) == seq:
            del self._test_seq[path]
            self.app.sup.test_result(path, True, now)

    def late(self, path, seq, e, now):
        """seq was not acknowledged on that path within its deadline (the Router hands it to the
        next path carrying its kind, if any): a test report there means the path failed it."""
        if self._test_seq.get(path) == seq:
            del self._test_seq[path]
            self.app.sup.test_result(path, False, now)

    def centre_time(self, t):
        """The centre's clock from a signed ack. io/clock.py WallClock.centre_time decides: set
        an unset RTC, step it forward, never back for a stale or implausible time (t=0, a day
        old), so report times never run backwards."""
        msg = self.app.wall.centre_time(t)
        if msg is not None:
            self.app.log.info(msg)
