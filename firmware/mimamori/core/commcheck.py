# The communication check of one report path (seed 5.: "36 時間毎に通信の状況を確認"): when its
# periodic test (Contact ID 602) is due, whether a test is in flight, and whether the path is in
# trouble. Sans-I/O: core/watch/comm.py sends the tests and emits the events; this only keeps
# the books.
#
# Timeline of a path:
#   boot ---first_ms---> test 602 ---ok---> (period - SEND_MARGIN_MS) ---> test 602 ...
#   The test leaves SEND_MARGIN_MS before the period ends, so that even a transport that needs
#   its whole result deadline gets it acknowledged within the period the centre supervises.
#   any report delivered on the path restarts the period (the centre heard from us).
#   test failed -> trouble; retried after RETRY_MS[n] (5, 10, 20, 40, then every 60 min), never
#   faster: a dead path is not spammed. The first success (test or any report) ends the trouble.
from mimamori.compat import const, ticks_diff

# Backoff between retries of a failed path, in ms: 5, 10, 20, 40 minutes, then every hour.
RETRY_MS = (5 * 60000, 10 * 60000, 20 * 60000, 40 * 60000, 60 * 60000)
# A test with no result after this long counts as failed (the transports have their own, shorter
# deadlines: this is only the safety net against a lost result).
RESULT_TIMEOUT_MS = const(600000)
SEND_MARGIN_MS = const(600000)

# What PathCheck.result()/delivered() report back to core/watch/comm.py (bit flags).
NO_CHANGE = const(0)
FAILED = const(1)       # the path has just entered trouble (350 / 351)
RECOVERED = const(2)    # the path has just left trouble
HEARD = const(4)        # the path was silent for a whole period (354) and has delivered again


class PathCheck:
    def __init__(self, name, number, period_ms, first_ms, now):
        self.name = name            # "mqtt", "line", ...
        self.number = number        # 1-based position in the configured paths (event zone field)
        self.period_ms = period_ms  # comm_check_h, at most 36 h: the centre's window
        every = period_ms - SEND_MARGIN_MS
        self.every_ms = every if every >= period_ms // 2 else period_ms // 2
        self.due_from = now         # the next test is due `due_after` ms after `due_from`
        self.due_after = first_ms
        self.in_flight = 0          # cid of the test awaiting its result (602 / 601), 0 = none
        self.sent_at = 0
        self.failed = False         # trouble: the last test (or report) on this path failed
        self.fail_count = 0         # consecutive failures, for the backoff
        self.silent_from = now      # ticks of the last delivery (or boot)
        self.silent = False         # nothing delivered for a whole period (354 reported)
        self.manual_pending = False  # self-check: a 601 test still to send on this path
        self.manual_result = None   # self-check: None (waiting) / True / False

    def due(self, now):
        return self.in_flight == 0 and ticks_diff(now, self.due_from) >= self.due_after

    def sent(self, cid, now):
        self.in_flight = cid
        self.sent_at = now

    def timed_out(self, now):
        return self.in_flight != 0 and ticks_diff(now, self.sent_at) >= RESULT_TIMEOUT_MS

    def silent_too_long(self, now):
        """True once, when a path in trouble has delivered nothing for a whole period (a
        healthy path whose periodic test is simply in flight is not silent)."""
        if self.silent or not self.failed or ticks_diff(now, self.silent_from) < self.period_ms:
            return False
        self.silent = True
        return True

    def result(self, ok, now):
        """The outcome of the test in flight (or of any report tried on this path)."""
        if self.in_flight == 601:
            self.manual_result = ok
        self.in_flight = 0
        if ok:
            return self.delivered(now)
        self.due_from = now
        n = self.fail_count
        if n >= len(RETRY_MS):
            n = len(RETRY_MS) - 1
        self.due_after = RETRY_MS[n]
        self.fail_count += 1
        if self.failed:
            return NO_CHANGE
        self.failed = True
        return FAILED

    def delivered(self, now):
        """Something was delivered end to end on this path: the period starts again."""
        self.due_from = now
        self.due_after = self.every_ms
        self.silent_from = now
        self.fail_count = 0
        change = NO_CHANGE
        if self.failed:
            self.failed = False
            change = RECOVERED
        if self.silent:
            self.silent = False
            change |= HEARD
        return change
