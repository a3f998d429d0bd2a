# The landline dialer: Ademco Contact ID over an ISOmodem (io/modem.py), sans-I/O. Time enters
# as `now` (ticks ms); the modem's bytes through modem.poll(). Nothing here blocks.
#
# Per call: voice mode and off-hook, dial (the receiver numbers alternate call by call), wait for
# the receiver's handshake (1400 Hz then 2300 Hz), then for each queued report: 250 ms pause,
# the 16 DTMF digits, wait for the kissoff (1400 Hz, at least 400 ms, starting within 1.25 s);
# no kissoff -> the same message again, at most 4 attempts; then the next report in the same
# call. A report counts as delivered ONLY on its kissoff (on_delivered(seq)).
#
# A session is a run of calls for the reports waiting: at most `max_calls` calls, `pause_ms`
# apart, and no new call once `budget_ms` has passed since the session began. When the session
# ends with reports still waiting, the path is down (up = False, outcome "budget_spent"), the
# reports stay queued and a new session starts after `retry_ms` (or at the next offer()).
#
# Every call ends in one outcome, logged and given to on_outcome(outcome, number):
#   delivered      every report queued for the call got its kissoff
#   busy           BUSY from the modem (busy tone)
#   no_dialtone    NO DIALTONE: the line is dead or cut (fails at once)
#   no_answer      NO ANSWER: the far end rang out
#   no_handshake   answered (or silent) but no valid 1400/2300 Hz handshake in HANDSHAKE_MS
#   no_kissoff     a message went 4 times without a kissoff
#   line_cut       NO CARRIER during the call: loop current lost mid-call
#   modem_error    ERROR, or the modem did not answer a command in time
#
# Path interface (for the report-path refactor, issue 11): name, offer(report) -> bool,
# withdraw(seq), poll(now) -> ticks of the next deadline or None, on_delivered(seq), up,
# pending(), in_call, last_outcome, on_outcome(outcome, number).
from mimamori.compat import const, ticks_add, ticks_diff
from mimamori.io import modem as M
from mimamori.proto import contactid as C

# Deadlines (ms).
CMD_MS = const(2000)            # any AT command's result
DIAL_MS = const(30000)          # ATDT: dial tone check + dialling until OK
HANDSHAKE_MS = const(40000)     # from the end of dialling: ringing, answer, handshake
# The modem reports a burst at its END, so the kissoff (start within 1.25 s, up to 1.5 s long)
# is heard at most 2.75 s after the last digit, plus the detector's own latency.
KISSOFF_WAIT_MS = C.KISSOFF_START_MS + C.KISSOFF_MAX_MS + 250
# The handshake detector: 100 ms bursts (+-30 ms accepted); the kissoff: 400-1500 ms bursts.
HANDSHAKE_DETECTOR = M.burst_detector(C.HANDSHAKE_TONE_MS, 30)
KISSOFF_DETECTOR = M.burst_detector((C.KISSOFF_MIN_MS + C.KISSOFF_MAX_MS) // 2,
                                    (C.KISSOFF_MAX_MS - C.KISSOFF_MIN_MS) // 2)
DTMF_TIMING = M.dtmf_timing(C.DIGIT_ON_MS, C.DIGIT_OFF_MS)
SEND_MS = C.DIGITS * (C.DIGIT_ON_MS + C.DIGIT_OFF_MS) + CMD_MS

# Session defaults.
MAX_CALLS = const(8)
CALL_PAUSE_MS = const(5000)
BUDGET_MS = const(300000)       # 5 minutes of trying before the path counts as down
RETRY_MS = const(600000)        # then a fresh session every 10 minutes while reports wait
QUEUE = const(16)
EVENTS_PER_POLL = const(8)      # modem events handled per poll: bounded work per loop turn

# Outcomes.
DELIVERED = "delivered"
BUSY = "busy"
NO_DIALTONE = "no_dialtone"
NO_ANSWER = "no_answer"
NO_HANDSHAKE = "no_handshake"
NO_KISSOFF = "no_kissoff"
LINE_CUT = "line_cut"
MODEM_ERROR = "modem_error"
BUDGET_SPENT = "budget_spent"
_PROGRESS = {M.EV_BUSY: BUSY, M.EV_NO_DIALTONE: NO_DIALTONE, M.EV_NO_ANSWER: NO_ANSWER,
             M.EV_NO_CARRIER: LINE_CUT, M.EV_ERROR: MODEM_ERROR}

# States.
IDLE = const(0)
SETUP = const(1)        # voice mode, off-hook, detectors, DTMF timing: one command at a time
DIALING = const(2)      # ATDT sent, waiting for OK
HANDSHAKE = const(3)    # waiting for <DLE>c then <DLE>e
ARMING = const(4)       # kissoff detector being set
PRE_SEND = const(5)     # the 250 ms before the digits
SENDING = const(6)      # AT+VTS sent, waiting for OK (the tones are out)
KISSOFF = const(7)      # waiting for <DLE>c
HANGUP = const(8)       # ATH sent
STATE_NAMES = ("idle", "setup", "dialing", "handshake", "arming", "pre_send", "sending",
               "kissoff", "hangup")


class DialerError(ValueError):
    pass


class Dialer:
    name = "landline"

    def __init__(self, modem, numbers, account, group=0, max_calls=MAX_CALLS,
                 pause_ms=CALL_PAUSE_MS, budget_ms=BUDGET_MS, retry_ms=RETRY_MS,
                 capacity=QUEUE, log=None):
        if not numbers:
            raise DialerError("landline numbers: at least one receiver number is needed")
        self._dial = tuple(M.dial(n) for n in numbers)    # validated now, not mid-alarm
        self.numbers = tuple(numbers)
        self.account = C.account_digits(account)
        if not 0 <= group <= 99:
            raise DialerError("landline group must be 0..99, got %r" % (group,))
        if max_calls < 1:
            raise DialerError("landline max_calls must be at least 1")
        self.modem = modem
        self.group = group
        self.max_calls = max_calls
        self.pause_ms = pause_ms
        self.budget_ms = budget_ms
        self.retry_ms = retry_ms
        self.capacity = capacity
        self.log = log or (lambda *a: None)
        self.on_delivered = None        # f(seq): its kissoff was heard
        self.on_outcome = None          # f(outcome, number): one per call, and budget_spent
        self.up = True                  # False after line_cut / no_dialtone / a spent budget
        self.last_outcome = None
        self.calls = 0                  # calls made, all sessions (for logs and the bench)
        self._q = []                    # [seq, message, urgent] in sending order
        self._state = IDLE
        self._deadline = None
        self._next_at = None            # IDLE: when the next call may start
        self._session_at = None         # ticks the session began, None between sessions
        self._session_calls = 0
        self._cmds = ()
        self._cmd_i = 0
        self._number = None
        self._t1400 = None
        self._attempts = 0
        self._delivered_in_call = 0
        self._modem_ready = False       # INIT sent and accepted (again after a modem error)

    # --- path interface ---------------------------------------------------------------------

    def offer(self, report):
        """Queue a report (a core Event with its seq stamped). False when the queue is full
        (the caller keeps it pending and offers it again). A seq already queued is not added
        twice. Urgent reports go ahead of non-urgent ones not yet on the line."""
        seq = report.seq
        for item in self._q:
            if item[0] == seq:
                return True
        if len(self._q) >= self.capacity:
            return False
        msg = C.from_event(report, self.account, self.group)
        urgent = report.urgent
        at = len(self._q)
        if urgent:
            first = 1 if self._state != IDLE else 0     # the head may be on the line now
            for i in range(first, len(self._q)):
                if not self._q[i][2]:
                    at = i
                    break
        self._q.insert(at, [seq, msg, urgent])
        if self._state == IDLE and self._session_at is None:
            self._next_at = None                        # a new report starts a session now
        return True

    def withdraw(self, seq):
        """Drop a queued report delivered by another path. The one on the line stays."""
        for i in range(len(self._q)):
            if self._q[i][0] == seq:
                if i == 0 and self._state >= PRE_SEND and self._state <= KISSOFF:
                    return False
                del self._q[i]
                return True
        return False

    def pending(self):
        return len(self._q)

    @property
    def in_call(self):
        return self._state != IDLE

    @property
    def state(self):
        return STATE_NAMES[self._state]

    # --- the machine ------------------------------------------------------------------------

    def poll(self, now):
        """Advance on modem events and deadlines; return the ticks of the next deadline, or
        None when idle with nothing queued. Allocates nothing when idle."""
        ev = self.modem.poll()
        st = self._state
        if st == IDLE:
            if not self._q:
                return None
            if self._next_at is not None and ticks_diff(self._next_at, now) > 0:
                return self._next_at
            self._start_call(now)
            return self._deadline
        n = 0
        while ev != M.EV_NONE and self._state != IDLE:
            self._on_event(ev, now)
            n += 1
            if n >= EVENTS_PER_POLL:
                break
            ev = self.modem.poll()
        if self._state != IDLE and ticks_diff(now, self._deadline) >= 0:
            self._on_deadline(now)
        return self._deadline if self._state != IDLE else self._next_at

    def _start_call(self, now):
        if self._session_at is None:
            self._session_at = now
            self._session_calls = 0
        i = self._session_calls % len(self._dial)
        self._number = self.numbers[i]
        self._session_calls += 1
        self.calls += 1
        self._attempts = 0
        self._delivered_in_call = 0
        self._t1400 = None
        self.modem.flush()
        self._cmds = (M.VOICE_MODE, M.OFF_HOOK_LISTEN, HANDSHAKE_DETECTOR) + DTMF_TIMING + \
            (self._dial[i],)
        if not self._modem_ready:       # tone detectors and Ademco mode: after every reset
            self._cmds = M.INIT + self._cmds
        self._cmd_i = 0
        self.log("landline: call %d to %s (%d report(s) waiting)" % (
            self._session_calls, self._number, len(self._q)))
        self._send_cmd(now)

    def _send_cmd(self, now):
        cmd = self._cmds[self._cmd_i]
        self.modem.send(cmd)
        last = self._cmd_i == len(self._cmds) - 1
        self._state = DIALING if last else SETUP
        self._deadline = ticks_add(now, DIAL_MS if last else CMD_MS)

    def _on_event(self, ev, now):
        st = self._state
        if ev == M.EV_RING:
            return
        if st == HANGUP:
            if ev == M.EV_OK:
                self._after_call(now)
            return
        if ev == M.EV_OK:
            if st == SETUP:
                if self._cmds[self._cmd_i] == M.INIT[-1]:
                    self._modem_ready = True
                self._cmd_i += 1
                self._send_cmd(now)
            elif st == DIALING:
                self._state = HANDSHAKE
                self._deadline = ticks_add(now, HANDSHAKE_MS)
            elif st == ARMING:
                self._state = PRE_SEND
                self._deadline = ticks_add(self._t1400, C.PRE_DIGITS_MIN_MS)
            elif st == SENDING:
                self._state = KISSOFF
                self._deadline = ticks_add(now, KISSOFF_WAIT_MS)
            return
        outcome = _PROGRESS.get(ev)
        if outcome is not None:
            self._end_call(outcome, now)
            return
        if ev == M.EV_TONE_1400:
            if st == HANDSHAKE:
                self._t1400 = now
            elif st == KISSOFF:
                self._kissoff(now)
        elif ev == M.EV_TONE_2300 and st == HANDSHAKE and self._t1400 is not None:
            if ticks_diff(now, self._t1400) <= C.HANDSHAKE_PAIR_MAX_MS:
                self.log("landline: handshake from %s" % self._number)
                self._t1400 = now       # the end of the 2300 Hz burst: digits 250 ms after
                self.modem.send(KISSOFF_DETECTOR)
                self._state = ARMING
                self._deadline = ticks_add(now, CMD_MS)

    def _on_deadline(self, now):
        st = self._state
        if st == PRE_SEND:
            self._attempts += 1
            self.modem.send(M.send_tones(C.to_dtmf(self._q[0][1])))
            self._state = SENDING
            self._deadline = ticks_add(now, SEND_MS)
        elif st == KISSOFF:
            if self._attempts < C.ATTEMPTS:
                self.log("landline: no kissoff for seq %d (attempt %d), again" % (
                    self._q[0][0], self._attempts))
                self._state = PRE_SEND
                self._deadline = now
                self._on_deadline(now)
            else:
                self._end_call(NO_KISSOFF, now)
        elif st == HANDSHAKE:
            self._end_call(NO_HANDSHAKE, now)
        elif st == HANGUP:
            self._after_call(now)
        else:
            self._end_call(MODEM_ERROR, now)

    def _kissoff(self, now):
        seq = self._q[0][0]
        del self._q[0]
        self._attempts = 0
        self._delivered_in_call += 1
        self.up = True
        self.log("landline: kissoff for seq %d" % seq)
        if self.on_delivered is not None:
            self.on_delivered(seq)
        if self._q:
            self._state = PRE_SEND
            self._deadline = ticks_add(now, C.PRE_DIGITS_MIN_MS)
        else:
            self._end_call(DELIVERED, now)

    def _end_call(self, outcome, now):
        self.last_outcome = outcome
        if outcome in (LINE_CUT, NO_DIALTONE):
            self.up = False
        if outcome == MODEM_ERROR:
            self._modem_ready = False   # load the detectors again before the next call
        self.log("landline: call %d to %s: %s (%d delivered, %d waiting)" % (
            self._session_calls, self._number, outcome, self._delivered_in_call, len(self._q)))
        if self.on_outcome is not None:
            self.on_outcome(outcome, self._number)
        self.modem.send(M.HANG_UP)
        self._state = HANGUP
        self._deadline = ticks_add(now, CMD_MS)

    def _after_call(self, now):
        self._state = IDLE
        self._deadline = None
        if not self._q:
            self._session_at = None
            self._next_at = None
            return
        if self.last_outcome == DELIVERED:      # more came in during the call: call again
            self._session_at = None
            self._next_at = now
            return
        spent = ticks_diff(now, self._session_at) + self.pause_ms
        if self._session_calls < self.max_calls and spent < self.budget_ms:
            self._next_at = ticks_add(now, self.pause_ms)
            return
        self.up = False
        self.last_outcome = BUDGET_SPENT
        self.log("landline: gave up after %d call(s); %d report(s) still waiting" % (
            self._session_calls, len(self._q)))
        if self.on_outcome is not None:
            self.on_outcome(BUDGET_SPENT, None)
        self._session_at = None
        self._next_at = ticks_add(now, self.retry_ms)
