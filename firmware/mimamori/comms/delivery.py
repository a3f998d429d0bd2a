# Delivery policy: journal outbox -> MQTT -> the centre's signed ack.
#
# A report counts as delivered only when the centre's signed ack for it arrives on
# <prefix>/<site>/ack (a PUBACK only means the broker has it), and that ack names the exact
# report: its `ref` (frame.report_ref) must match the pending report with that seq, so an ack of
# another report that had the same seq (captured earlier, or from before a wiped board) is
# refused, counted in bad_acks, and sets no clock.
#
# Order: an 異常 (kind alarm) never waits behind routine reports. Alarms go out first, whatever
# their seq, and are not held by the window; routine reports go out in seq order with at most
# `window` unacknowledged on the wire, only while no alarm waits to be published, and only while
# the link's queue keeps room for an alarm (ALARM_ROOM). If the oldest report is not acked in
# time, everything pending is sent again (alarms first, then the rest in seq order), with the
# retry interval doubling up to RETRY_MAX_MS. A new session resends every pending report. Frames
# carry the journal's `epoch`: the centre keys reports by (site, epoch, seq).
#
# An 異常 (kind alarm) not acknowledged within ack_deadline_s of being first seen here is ALSO
# handed to the landline path through `handoff(event)`, once, while MQTT keeps trying.
#
# poll(now) does bounded work: one link poll, at most `window` publishes, a deadline sweep at most
# every SWEEP_MS. With nothing pending it allocates nothing.
from mimamori.compat import ticks_diff, ticks_add, const
from mimamori.core.events import ALARM
from mimamori.log import Logger
from mimamori.proto import frame

RETRY_MIN_MS = const(3000)
RETRY_MAX_MS = const(60000)
SWEEP_MS = const(250)
WINDOW = const(8)
ALARM_ROOM = const(1024)   # bytes of the link's queue routine reports leave free for an alarm
# Command replies that found the link's queue full (a burst of commands: one 16 KB read is dozens)
# wait here, in order, and go out in the next polls: every command gets its one reply. Bounded
# (a reply is ~220 bytes): past it a reply is dropped, counted and logged.
REPLIES_MAX = const(32)


class Delivery:
    def __init__(self, journal, link, key, site, handoff=None, ack_deadline_s=20,
                 window=WINDOW, on_command=None, handoff_kinds=(ALARM,), log=None,
                 retry_min_ms=RETRY_MIN_MS, retry_max_ms=RETRY_MAX_MS):
        self.journal = journal
        self.link = link
        self.key = key
        self.site = site
        self.handoff = handoff
        self.deadline_ms = ack_deadline_s * 1000
        self.window = window
        self.retry_min_ms = retry_min_ms
        self.retry_max_ms = retry_max_ms
        self.on_command = on_command    # f(payload bytes, now) -> reply frame bytes or None
        self.on_delivered = None        # f(seq, now): the centre acknowledged seq (first time)
        self.on_time = None             # f(unix s): the centre's clock, from that signed ack
        self.handoff_kinds = handoff_kinds
        self.log = log
        self._t_event = link.topic("event")
        self._t_ack = link.topic("ack")
        self._t_cmd = link.topic("cmd")
        self._t_state = link.topic("state")
        link.on_message = self._on_message
        link.on_up = self._on_up
        self._sent = {}              # pending seq -> True once sent in this round (go-back-N)
        self._alarms = []            # pending seqs of 異常, ascending: sent ahead of the rest
        self._classified = 0         # highest seq looked at for _alarms
        self._retry_ms = retry_min_ms
        self._retry_at = None
        self._seen = {}              # pending seq -> ticks first seen (for the ack deadline)
        self._handed = {}            # seq -> True once handed to the landline
        self._sweep_at = None
        self._now = 0
        self._state = None           # latest retained state payload
        self._state_dirty = False
        self._retained_src = None    # f() -> iterable of (topic, payload): HA discovery
        self._retained_iter = None   # this session's iterator, None once all were sent
        self._retained_item = None   # the one waiting for room in the link's queue
        self._replies = []           # command replies waiting for room in the link's queue
        # figures
        self.delivered = 0
        self.sent = 0
        self.resends = 0
        self.handoffs = 0
        self.bad_acks = 0
        self.replies_dropped = 0

    @property
    def log(self):
        return self._log

    @log.setter
    def log(self, f):
        self._log = Logger.wrap(f)    # a Logger, or a plain f(line) (tools swap it in)

    # --- the app calls these ----------------------------------------------------------------
    def poll(self, now):
        self._now = now
        self.link.poll(now)
        outbox = self.journal.outbox()
        if self.link.connected:
            if self._state_dirty and self.link.publish(self._t_state, self._state, True, 1):
                self._state_dirty = False
            if self._retained_iter is not None:
                self._publish_retained_one()     # one per poll: bounded work
            if outbox:
                self._send(now, outbox)
            # after the reports, leaving room for an alarm as routine reports do
            while self._replies and self.link.can_publish(
                    len(self._t_ack) + len(self._replies[0]) + ALARM_ROOM) and \
                    self.link.publish(self._t_ack, self._replies[0], False, 1):
                self._replies.pop(0)
        # "deadline - now <= 0" rather than "now - deadline >= 0": the same test, but the usual
        # answer (not yet) is a positive difference (no allocation in a ticks_diff written in Python)
        if outbox and (self._sweep_at is None or ticks_diff(self._sweep_at, now) <= 0):
            self._sweep_at = ticks_add(now, SWEEP_MS)
            self._sweep(now, outbox)

    def publish_state(self, payload):
        """Retained <prefix>/<site>/state (comms.discovery.state_payload); republished on every
        new session, so a centre or Home Assistant that connects later sees the latest."""
        if payload != self._state:
            self._state = payload
            self._state_dirty = True

    def publish_retained(self, source):
        """Messages to publish retained at the start of every session, e.g. Home Assistant
        discovery: `source` is a callable returning (topic, payload) pairs one at a time
        (comms.discovery.iter_payloads), or a list. Only the one being sent is held in RAM."""
        self._retained_src = source if callable(source) else (lambda: source)
        self._retained_iter = iter(self._retained_src())
        self._retained_item = None

    def _publish_retained_one(self):
        if self._retained_item is None:
            try:
                t, p = next(self._retained_iter)
            except StopIteration:
                self._retained_iter = None       # all sent: nothing kept until next session
                return
            self._retained_item = (t.encode() if isinstance(t, str) else t, p)
        t, p = self._retained_item
        if self.link.publish(t, p, True, 1):
            self._retained_item = None

    def pending(self):
        return self.journal.pending_count()

    # --- sending ----------------------------------------------------------------------------
    def _classify(self, outbox):
        """Note the 異常 among reports appended since the last look (seqs only grow in one
        boot): a few dict lookups when something new arrived, nothing otherwise."""
        n = len(outbox)
        if not n or outbox[n - 1] <= self._classified:
            return
        i = n
        while i > 0 and outbox[i - 1] > self._classified:
            i -= 1
        while i < n:
            seq = outbox[i]
            i += 1
            got = self.journal.get(seq)
            if got is not None and got[0].kind == ALARM:
                self._alarms.append(seq)
        self._classified = outbox[n - 1]

    def _publish(self, now, seq, room):
        got = self.journal.get(seq)
        if got is None:
            return True
        if room and not self.link.can_publish(room):
            return False                    # no room: do not even build the frame
        ev, up = got
        # base: the oldest report before this one with no seq gap between them (journal.base)
        payload = frame.event_frame(self.key, self.site, ev, up, self.journal.base(seq),
                                    self.journal.epoch)
        if room and not self.link.can_publish(len(self._t_event) + len(payload) + room):
            return False                    # keep room in the link's queue for an alarm
        if not self.link.publish(self._t_event, payload, False, 1):
            return False                    # the link's queue is full: next poll
        self._sent[seq] = True
        self.log.debug("delivery: seq %d published", seq)
        if seq not in self._seen:
            self._seen[seq] = now
        self.sent += 1
        if self._retry_at is None:
            self._retry_at = ticks_add(now, self._retry_ms)
        return True

    def _send(self, now, outbox):
        self._classify(outbox)
        budget = self.window                # publishes this poll: bounded work
        alarm_waits = False
        alarms = self._alarms
        alarms_out = 0                      # 異常 on the wire: not counted in the window
        i = -1
        while i + 1 < len(alarms):          # 異常 first, whatever their seq, outside the window
            i += 1
            seq = alarms[i]
            if seq in self._sent:
                alarms_out += 1
                continue
            if self.journal.get(seq) is None:   # no longer pending
                alarms.pop(i)
                i -= 1
                continue
            if budget <= 0 or not self._publish(now, seq, 0):
                alarm_waits = True
                break
            alarms_out += 1
            budget -= 1
        if not alarm_waits:
            # Routine reports in seq order: at most `window` unacknowledged on the wire.
            inflight = len(self._sent) - alarms_out
            i = -1
            n = len(outbox)
            while i + 1 < n and inflight < self.window and budget > 0:
                i += 1
                seq = outbox[i]
                if seq in self._sent:
                    continue
                if not self._publish(now, seq, ALARM_ROOM):
                    break
                inflight += 1
                budget -= 1
        if self._retry_at is not None and ticks_diff(self._retry_at, now) <= 0:
            # the oldest report was not acked in time: send everything again (alarms first)
            self.resends += 1
            self._sent.clear()
            self._retry_ms = min(self._retry_ms * 2, self.retry_max_ms)
            self._retry_at = None

    def _sweep(self, now, outbox):
        if self.handoff is None:
            return
        i = -1
        n = len(outbox)
        while i + 1 < n:
            i += 1
            seq = outbox[i]
            t = self._seen.get(seq)
            if t is None:
                self._seen[seq] = now
                continue
            if seq in self._handed or ticks_diff(now, t) < self.deadline_ms:
                continue
            ev = self.journal.get(seq)[0]
            if ev.kind not in self.handoff_kinds:
                continue
            self._handed[seq] = True
            self.handoffs += 1
            self.log.info("delivery: seq %d not acked in %d s: handing to the landline", seq,
                          self.deadline_ms // 1000)
            try:
                self.handoff(ev)
            except Exception as e:   # noqa: BLE001 - the landline's failure is not ours to crash
                self.log.error("delivery: handoff failed: %r", e)

    # --- from the link ----------------------------------------------------------------------
    def _on_up(self):
        self._sent.clear()           # a new session: every pending report goes again
        self._retry_ms = self.retry_min_ms
        self._retry_at = None
        if self._state is not None:
            self._state_dirty = True
        if self._retained_src is not None:
            self._retained_iter = iter(self._retained_src())
            self._retained_item = None

    def _on_message(self, topic, payload):
        if topic == self._t_ack:
            try:
                seq, ref, t = frame.verify_ack_ref(self.key, self.site, payload)
            except frame.FrameError as e:
                if str(e) != "not_ack":      # our own command results come back here too
                    self.bad_acks += 1
                    self.log.warn("delivery: ack refused: %s", e)
                return
            except Exception as e:   # noqa: BLE001 - hostile bytes (deep nesting...) never
                self.bad_acks += 1   # stop the loop
                self.log.warn("delivery: ack refused: %r", e)
                return
            got = self.journal.get(seq)
            if got is None:
                return                       # not pending: a repeated ack, nothing to do
            if ref != frame.event_ref(self.site, got[0], got[1], self.journal.epoch):
                # An ack of another report with this seq (captured before a wipe, a replay):
                # it confirms nothing and its time is not taken.
                self.bad_acks += 1
                self.log.warn("delivery: ack for seq %d refused: it names another report", seq)
                return
            if self.journal.ack(seq):
                self.log.debug("delivery: seq %d acknowledged by the centre", seq)
                self.delivered += 1
                # Time only from an ack of the report still pending: a replayed old ack (with an
                # old time) acknowledges nothing new and cannot turn the clock back.
                if t is not None and self.on_time is not None:
                    self.on_time(t)
                if self.on_delivered is not None:
                    self.on_delivered(seq, self._now)
                self._seen.pop(seq, None)
                self._handed.pop(seq, None)
                self._sent.pop(seq, None)
                if seq in self._alarms:
                    self._alarms.remove(seq)
                # progress: the next retry is counted from now, at the shortest interval
                self._retry_ms = self.retry_min_ms
                self._retry_at = ticks_add(self._now, self._retry_ms) if self.journal.outbox() \
                    else None
        elif topic == self._t_cmd and self.on_command is not None:
            try:
                reply = self.on_command(payload, self._now)
            except Exception as e:   # noqa: BLE001 - a bad command never stops the loop
                self.log.error("delivery: command handler failed: %r", e)
                return
            if reply and (self._replies or not self.link.publish(self._t_ack, reply, False, 1)):
                if len(self._replies) < REPLIES_MAX:
                    self._replies.append(reply)      # sent in the next polls, in order
                else:
                    self.replies_dropped += 1
                    self.log("delivery: command reply dropped: %d waiting" % REPLIES_MAX)
