# Report paths and the delivery policy above them.
#
# A report path (MQTT, the landline, a test path in host_tests) is one object with:
#   name          "mqtt", "landline", ...: the name in comms.paths, in test and trouble reports
#   up            True while the path can carry reports right now (connected, line present)
#   deadline_ms   how long a report handed here may wait for its end-to-end acknowledgement
#                 before the policy also hands it to the next path
#   offer(seq)    the policy hands it a pending report (its journal seq); it reads the report
#                 from the journal (get(seq)) and keeps trying until the centre acknowledges it
#   poll(now)     bounded work, never blocks
#   on_delivered  set by the policy: f(path, seq, now), called once when the centre acknowledged
#                 `seq` end to end on this path (a signed ack, a Contact ID kissoff)
# Path below gives the bookkeeping (the `box` of seqs offered and not yet acknowledged here, and
# the journal-like view comms/delivery.py reads); a new path is one module subclassing it plus a
# name in comms.paths (README "Architecture").
#
# The policy (Router):
# - each report goes first to the first path (in comms.paths order) whose `kinds` carry it; a
#   kind no path lists goes to the first path: never dropped. A test report (601/602) names its
#   path and goes on that path only: it tests that path;
# - a report not acknowledged on any path within the deadline of the path it was last handed to
#   is ALSO handed to the next path carrying its kind, while the earlier ones keep trying;
# - a path trouble (350/351/354, naming its path) is handed at once to the next path as well;
# - the report leaves the journal's outbox when every path it was handed to acknowledged it (the
#   centre shows it once: it keys reports by their ref, whatever path brought them);
# - which path a report was handed to and which acknowledged it is saved (journal.save_value,
#   two checksummed copies) whenever it is more than "the first path, not yet acknowledged", so
#   after a reboot a hand-off is neither lost nor repeated on a path that acknowledged it.
# With nothing pending poll(now) allocates nothing and writes nothing.
from mimamori.compat import const, ticks_add, ticks_diff
from mimamori.core import events as ev
from mimamori.log import Logger

SWEEP_MS = const(250)
SAVE_NAME = "paths"      # journal small value: {"epoch": e, "r": {"seq": [[handed], [acked]]}}
# path troubles: the event names the failed path in zone_name (core/supervision.py avoid_path)
PATH_CIDS = (ev.CID_COMM_TROUBLE, ev.CID_TELCO_FAULT, ev.CID_FAIL_TO_COMM)


class Path:
    """The bookkeeping every report path shares; a subclass sends what is in `box`."""
    up = False

    def __init__(self, name, journal, deadline_ms):
        self.name = name
        self.journal = journal
        self.deadline_ms = deadline_ms
        self.box = []               # seqs offered here, not yet acknowledged here, ascending
        self.on_delivered = None    # f(path, seq, now): set by the Router

    def offer(self, seq):
        b = self.box
        if seq in b:
            return
        i = len(b)
        while i > 0 and b[i - 1] > seq:
            i -= 1
        b.insert(i, seq)

    def poll(self, now):
        pass

    def delivered(self, seq, now):
        """The centre acknowledged `seq` on this path (call once per ack; repeats are ignored)."""
        if self.ack(seq) and self.on_delivered is not None:
            self.on_delivered(self, seq, now)

    # --- the journal as this path sees it (comms/delivery.py reads a path through these) ------
    def outbox(self):
        return self.box

    def get(self, seq):
        return self.journal.get(seq) if seq in self.box else None

    def ack(self, seq):
        if seq in self.box:
            self.box.remove(seq)
            return True
        return False

    def pending_count(self):
        return len(self.box)

    def base(self, seq):
        return self.journal.base(seq)

    @property
    def epoch(self):
        return self.journal.epoch


def _low_bit(m):
    return m & -m


class Router:
    def __init__(self, journal, paths, kinds, now, on_delivered=None, on_late=None, log=None):
        """paths: Path objects in priority order; kinds: for each, a tuple of report kinds it
        carries, or None for every kind. on_delivered(name, seq, now): a path acknowledged a
        report. on_late(name, seq, event, now): a report passed its deadline on that path."""
        self.journal = journal
        self.paths = paths
        self.kinds = kinds
        self.on_delivered = on_delivered
        self.on_late = on_late
        self.log = Logger.wrap(log)
        self._handed = {}           # pending seq -> bit mask of the paths it was handed to
        self._acked = {}            # pending seq -> bit mask of the paths that acknowledged it
        self._since = {}            # seq -> ticks of its last hand-off, while none acknowledged
        self._top = 0               # highest seq routed
        self._sweep_at = now
        self._dirty = False         # the saved hand-off state is behind
        self.handoffs = 0           # reports handed to a further path
        self.late = 0               # reports past their deadline with no further path
        for p in paths:
            p.on_delivered = self._delivered
        self._restore(now)

    def handed_off_pending(self):
        """Reports handed to a further path and not yet acknowledged on any (not delivered:
        what the panel's ハンドオフ shows; `handoffs` counts every hand-off since boot)."""
        n = 0
        for seq, m in self._handed.items():
            if m & (m - 1) and not self._acked.get(seq):
                n += 1
        return n

    def path(self, name):
        for p in self.paths:
            if p.name == name:
                return p
        return None

    # --- routing ------------------------------------------------------------------------------
    def _route(self, e):
        """Bit mask of the paths that may carry event e."""
        n = len(self.paths)
        if e.kind == ev.TEST:
            i = 0
            while i < n:
                if self.paths[i].name == e.zone_name:
                    return 1 << i       # a test report tests its own path
                i += 1
        m = 0
        i = 0
        while i < n:
            k = self.kinds[i]
            if k is None or e.kind in k:
                m |= 1 << i
            i += 1
        return m or 1

    def _hand(self, seq, bit, now):
        self._handed[seq] = self._handed.get(seq, 0) | bit
        self._since[seq] = now
        self.paths[_index(bit)].offer(seq)

    def _classify(self, outbox, now):
        """Route the reports appended since the last look (seqs only grow)."""
        n = len(outbox)
        if not n or outbox[n - 1] <= self._top:
            return
        i = n
        while i > 0 and outbox[i - 1] > self._top:
            i -= 1
        while i < n:
            seq = outbox[i]
            i += 1
            if seq in self._handed:
                continue                  # restored from the saved hand-off state
            got = self.journal.get(seq)
            if got is None:
                continue
            e = got[0]
            m = self._route(e)
            first = _low_bit(m)
            self._hand(seq, first, now)
            if e.kind == ev.TROUBLE and e.cid in PATH_CIDS and \
                    self.paths[_index(first)].name == e.zone_name:
                nxt = _low_bit(m & ~first)
                if nxt:             # a path's trouble goes out on another path at once
                    self._hand(seq, nxt, now)
                    self.handoffs += 1
                    self._dirty = True
                    self.log.info("paths: seq %d (%s trouble) handed to %s", seq, e.zone_name,
                                  self.paths[_index(nxt)].name)
        self._top = outbox[n - 1]

    def poll(self, now):
        paths = self.paths
        i = 0
        while i < len(paths):
            paths[i].poll(now)
            i += 1
        outbox = self.journal.outbox()
        if outbox:
            self._classify(outbox, now)
            if ticks_diff(self._sweep_at, now) <= 0:
                self._sweep_at = ticks_add(now, SWEEP_MS)
                self._sweep(outbox, now)
        if self._dirty:
            self._save()

    def _sweep(self, outbox, now):
        i = -1
        while i + 1 < len(outbox):
            i += 1
            seq = outbox[i]
            t = self._since.get(seq)
            if t is None:
                continue
            h = self._handed[seq]
            last = self.paths[_top_index(h)]
            if ticks_diff(now, t) < last.deadline_ms:
                continue
            e = self.journal.get(seq)[0]
            if self.on_late is not None:
                self.on_late(last.name, seq, e, now)
            nxt = _low_bit(self._route(e) & ~h)
            if nxt:
                self._hand(seq, nxt, now)
                self.handoffs += 1
                self._dirty = True
                self.log.info("paths: seq %d not acknowledged in %d s on %s: handed to %s too" % (
                    seq, last.deadline_ms // 1000, last.name, self.paths[_index(nxt)].name))
            else:
                del self._since[seq]
                self.late += 1
                self.log.info("paths: seq %d not acknowledged in %d s on %s: no further path",
                              seq, last.deadline_ms // 1000, last.name)

    def _delivered(self, path, seq, now):
        bit = 1 << self.paths.index(path)
        h = self._handed.get(seq, bit)
        a0 = self._acked.get(seq, 0)
        a = a0 | bit
        self._since.pop(seq, None)      # acknowledged: no further hand-off
        self.log.debug("paths: seq %d acknowledged on %s", seq, path.name)
        if self.on_delivered is not None:
            self.on_delivered(path.name, seq, now)
        saved = a0 != 0 or (h & (h - 1)) != 0      # more than "first path, not acknowledged"
        if a & h == h:
            self._handed.pop(seq, None)
            self._acked.pop(seq, None)
            self.journal.ack(seq)
        else:
            self._acked[seq] = a
        if saved:
            self._dirty = True

    def acked_by(self, seq):
        """Names of the paths that acknowledged pending `seq` (for the panel and tests)."""
        a = self._acked.get(seq, 0)
        return [p.name for i, p in enumerate(self.paths) if a & (1 << i)]

    def handed_to(self, seq):
        h = self._handed.get(seq, 0)
        return [p.name for i, p in enumerate(self.paths) if h & (1 << i)]

    # --- persistence --------------------------------------------------------------------------
    def _names(self, m):
        return [p.name for i, p in enumerate(self.paths) if m & (1 << i)]

    def _mask(self, names):
        m = 0
        for i, p in enumerate(self.paths):
            if p.name in names:
                m |= 1 << i
        return m

    def _save(self):
        r = {}
        for seq, h in self._handed.items():
            a = self._acked.get(seq, 0)
            if a or (h & (h - 1)):
                r[str(seq)] = [self._names(h), self._names(a)]
        if self.journal.save_value(SAVE_NAME, {"epoch": self.journal.epoch, "r": r}):
            self._dirty = False

    def _restore(self, now):
        v = self.journal.load_value(SAVE_NAME, None)
        if not isinstance(v, dict) or v.get("epoch") != self.journal.epoch:
            return                   # nothing saved, or another journal's (wiped): route anew
        r = v.get("r")
        if not isinstance(r, dict):
            return
        for k, hv in r.items():
            try:
                seq = int(k)
                h = self._mask(hv[0])
                a = self._mask(hv[1]) & h
            except (ValueError, TypeError, IndexError):
                continue             # checksummed, so only a foreign shape: route anew
            if not h or self.journal.get(seq) is None:
                continue
            if a == h:
                self.journal.ack(seq)    # every path acknowledged before the power went
                continue
            self._handed[seq] = h
            if a:
                self._acked[seq] = a
            else:
                self._since[seq] = now
            i = 0
            while i < len(self.paths):
                if h & ~a & (1 << i):
                    self.paths[i].offer(seq)     # not again where it was acknowledged
                i += 1


def _index(bit):
    i = 0
    while bit > 1:
        bit >>= 1
        i += 1
    return i


def _top_index(m):
    i = -1
    while m:
        m >>= 1
        i += 1
    return i
