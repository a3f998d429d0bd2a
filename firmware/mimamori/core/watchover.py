# Watch-over calls (seed coco-secom-terms.txt 第3条):
#
# みつめてコール: a resident starts a watch timer at the panel before, say, a bath (*1#,
# `mitsumete_min`, 30 min). `mitsumete_warn_s` (60 s) before it runs out the panel chimes and asks
# for a key; a key press ends the watch. No key by the end: 101 Personal emergency (DC-05; seed
# "所定の時間内に応答操作をしないときは異常事態発生とみなし") goes to the centre, and the panel says
# so; a key pressed after that sends its restore (the resident is up after all).
#
# しらせてコール: a signed command from the centre (core/commands.py `shirasete`) makes the panel
# chime and show the centre's question; a key press is the answer. The seed's よびだしチェック
# reports both outcomes ("応答があった場合はその旨、応答がなかった場合はその旨"), so both are
# journalled reports, carried by every path like any other (the landline too):
#   no answer within `shirasete_answer_min` (10 min): 102 Fail to report in, q1 (kind alarm);
#   the answer (in time, or late): the restore of 102, q3 (kind restore, "しらせてコール 応答あり").
# After a missed call the question stays on the panel (the chime stops), so a late answer still
# reaches the centre. A new call replaces an unanswered one.
#
# Sans-I/O: ticks in, Events out through emit; `mode` is the arm mode for the events.
# A reboot must not end a call (the resident in the bath still needs the 101): `revision` moves
# on every change worth keeping (start, stop, a question, an answer, a report), never per tick,
# and the app saves snapshot() then (a small checksummed value: a few writes per call). restore()
# resumes the time left, less the time the power was off when the RTC knows it; a watch whose
# time ran out meanwhile still gets its warn_ms of chime first (the resident could not hear it).
from mimamori.compat import const, ticks_add, ticks_diff
from mimamori.core import events as ev
from mimamori.core import texts

MS_MIN = const(60000)


class WatchOver:
    def __init__(self, timers, emit):
        self.watch_ms = timers["mitsumete_min"] * MS_MIN
        self.warn_ms = timers["mitsumete_warn_s"] * 1000
        self.call_ms = timers["shirasete_answer_min"] * MS_MIN
        self._emit = emit
        self._watch_start = None    # ticks the みつめてコール started, while it runs
        self._watch_len = 0
        self.watch_reported = False  # 101 went out; shown until a key answers
        self.question = None        # the しらせてコール question on the panel, or None
        self._call_start = None     # ticks it was asked, until answered or missed
        self.call_missed = False    # 102 went out for the question still shown
        self.chiming = False        # the panel should sound the call chime (BUZ_CALL)
        self.revision = 0           # bumped when snapshot() would change (not the time left)

    def _touch(self):
        self.revision = (self.revision + 1) & 0x3FFFFFFF

    # ---- みつめてコール ------------------------------------------------------------------------

    @property
    def watching(self):
        return self._watch_start is not None

    def start_watch(self, now, minutes=None):
        self._watch_start = now
        self._watch_len = minutes * MS_MIN if minutes else self.watch_ms
        self.watch_reported = False
        self._touch()
        self._update(now)
        return texts.WATCH_STARTED % (self._watch_len // MS_MIN)

    def stop_watch(self, now):
        self._watch_start = None
        self._touch()
        self._update(now)
        return texts.WATCH_ENDED

    def watch_left_ms(self, now):
        if self._watch_start is None:
            return 0
        return self._watch_len - ticks_diff(now, self._watch_start)

    def warning(self, now):
        """The watch is in its last warn_ms: the chime sounds, a key ends it."""
        return self._watch_start is not None and self.watch_left_ms(now) <= self.warn_ms

    # ---- しらせてコール ------------------------------------------------------------------------

    def ask(self, message, now):
        self.question = texts.CALL_ASK + (message or texts.CALL_DEFAULT)
        self._call_start = now
        self.call_missed = False
        self._touch()
        self._update(now)
        return self.question

    # ---- both ---------------------------------------------------------------------------------

    @property
    def waiting(self):
        """Something on the panel is waiting for a key: that key answers it (and does
        nothing else)."""
        return self.chiming or self.question is not None or self.watch_reported

    def answer(self, now, mode):
        """A key press (or an authorised operation at the panel). Returns the panel text when
        it answered something, else None."""
        text = None
        if self.question is not None:
            self.question = None
            self._call_start = None
            self.call_missed = False
            self._event(ev.RESTORE, ev.CID_FAIL_TO_REPORT, now, mode)
            text = texts.CALL_ANSWERED
        if self.watch_reported:
            self.watch_reported = False
            self._event(ev.RESTORE, ev.CID_PERSONAL_EMERGENCY, now, mode)
            text = texts.WATCH_ENDED
        elif self._watch_start is not None and self.warning(now):
            self._watch_start = None
            text = texts.WATCH_ENDED
        if text is not None:
            self._touch()
        self._update(now)
        return text

    def tick(self, now, mode):
        """Every loop. Allocates nothing while nothing is due."""
        if self._watch_start is not None:
            if ticks_diff(now, self._watch_start) >= self._watch_len:
                self._watch_start = None
                self.watch_reported = True
                self._touch()
                self._event(ev.ALARM, ev.CID_PERSONAL_EMERGENCY, now, mode)
                self._update(now)
            elif not self.chiming and self.warning(now):
                self._update(now)
        if self._call_start is not None and ticks_diff(now, self._call_start) >= self.call_ms:
            self._call_start = None
            self.call_missed = True
            self._touch()
            self._event(ev.ALARM, ev.CID_FAIL_TO_REPORT, now, mode)
            self._update(now)

    def text(self, now):
        """What the panel shows for the calls, or None (allocates: a display line)."""
        if self.question is not None:
            return self.question
        if self.watch_reported:
            return texts.WATCH_REPORTED
        if self._watch_start is not None:
            left = self.watch_left_ms(now)
            if left <= self.warn_ms:
                return texts.WATCH_WARN % ((left + 999) // 1000)
            return texts.WATCH_RUNNING % ((left + MS_MIN - 1) // MS_MIN)
        return None

    # ---- persistence --------------------------------------------------------------------------

    def snapshot(self, now, unix):
        """Plain dict to save: times left in seconds, and the wall clock (None when unset)."""
        d = {"at": unix, "reported": self.watch_reported, "question": self.question,
             "missed": self.call_missed}
        if self._watch_start is not None:
            d["watch_left_s"] = (self.watch_left_ms(now) + 999) // 1000
            d["watch_len_s"] = self._watch_len // 1000
        if self._call_start is not None:
            d["call_left_s"] = (self.call_ms - ticks_diff(now, self._call_start) + 999) // 1000
        return d

    def restore(self, d, now, unix):
        """Take back a snapshot() after a reboot; a damaged one is ignored (ValueError)."""
        if not isinstance(d, dict):
            raise ValueError("calls: not an object")
        at = d.get("at")
        gone = 0
        if _int(at) and _int(unix) and unix >= at:
            gone = (unix - at) * 1000
        q = d.get("question")
        if q is not None and not isinstance(q, str):
            raise ValueError("calls: question")
        self.watch_reported = d.get("reported") is True
        self.question = q
        self.call_missed = d.get("missed") is True
        left = d.get("watch_left_s")
        if _int(left) and _int(d.get("watch_len_s")):
            self._watch_len = d["watch_len_s"] * 1000
            ms = left * 1000 - gone
            if ms < self.warn_ms:
                ms = self.warn_ms      # its chime was not heard while the panel was off
            if ms > self._watch_len:
                ms = self._watch_len
            self._watch_start = _ticks_back(now, self._watch_len - ms)
        left = d.get("call_left_s")
        if q is not None and _int(left):
            ms = left * 1000 - gone
            self._call_start = _ticks_back(now, self.call_ms - (ms if ms > 0 else 0))
        self._update(now)

    def _update(self, now):
        self.chiming = self.warning(now) or self._call_start is not None

    def _event(self, kind, cid, now, mode):
        q = ev.Q_RESTORE if kind == ev.RESTORE else ev.Q_NEW
        self._emit(ev.Event(now, kind, cid, q, 0, 0, "", mode))


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _ticks_back(now, ms):
    return ticks_add(now, -(ms if ms > 0 else 0))
