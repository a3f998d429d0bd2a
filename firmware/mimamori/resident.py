# The resident at the panel: keys (core/keys.py), ライフカード taps, the watch-over calls
# (core/watchover.py) and the door chime (core/chime.py), wired to the one dispatch
# (operations.py). The app builds one Resident and calls it:
#
#   app.resident.on_key(key, down, now)   the keypad driver (io/keypad.py), every key down / up
#   app.resident.tap(card, now)           the card reader (io/pn532.py), once per tap
#   app.resident.zone(z, active, now)     every debounced zone change (the door chime)
#   app.resident.tick(now)                every loop (非常 hold, entry timeout, calls, chime)
#   app.resident.merge(r)                 after core/panel.merge: the call and chime sounds
#   app.resident.prompt(now)              the panel line that comes first (None: the core's)
#
# Every key press and card tap is activity for ライフ監視. While a call waits for an answer (the
# みつめてコール chime, a しらせてコール question, a みつめてコール already reported), the next key
# press (or card tap) answers it and does nothing else; 非常 and 救急 are never taken for an
# answer.
# A tap does what the letter chosen before it says (A-D); with none it disarms an armed house (or
# silences an alarm sounding while disarmed) and arms a disarmed one 外出 (SECOM's ライフカード: tap
# to set, tap to unset).
from mimamori.compat import const, ticks_diff
from mimamori.core import events as ev
from mimamori.core import keys as K
from mimamori.core import outputs as out
from mimamori.core import texts
from mimamori.core.chime import DoorChime
from mimamori.core.vocab import MODE_AWAY, MODE_DISARMED
from mimamori.core.watchover import WatchOver

MESSAGE_MS = const(5000)      # an operation's result stays on the panel this long
FN_WATCH = const(1)           # *1#: みつめてコール on / off
FN_CHIME = const(2)           # *2#: door chime on / off
FN_RESET = const(3)           # *3#, then the code and #: 異常リセット (the alarm memory)
FN_CHECK = const(4)           # *4#, then the code and #: the monthly 点検
CHIME_VALUE = "chime"         # journal small value: the door chime setting
CALLS_VALUE = "calls"         # journal small value: the watch-over calls (core/watchover.py)


class Resident:
    def __init__(self, app, now):
        self.app = app
        self.entry = K.KeyEntry()
        self.watch = WatchOver(app.config["timers"], app._emit)
        on = app.journal.load_value(CHIME_VALUE, True)
        self.chime = DoorChime(on if isinstance(on, bool) else True)
        saved = app.journal.load_value(CALLS_VALUE, None)
        if saved is not None:
            try:
                self.watch.restore(saved, now, app.wall.unix())
            except Exception as e:   # noqa: BLE001 - damage must not stop the boot
                app._findings.append("calls: %r" % (e,))
        self._calls_saved = self.watch.revision
        self.message = None       # the latest operation's panel text ...
        self._message_at = 0      # ... shown from then for MESSAGE_MS ...
        self._message_rev = 0     # ... while the alarm core stays as it was then
        self._card = None         # card_and_code: the card that asked for the code (kept
                                  # while its entry is open: 10 s after the last key)
        self._lock_left = -1      # the lockout line, rebuilt only when its seconds change
        self._lock_text = None

    # ---- inputs -------------------------------------------------------------------------------

    def on_key(self, key, down, now):
        a = self.app
        if down:
            a.sup.activity(now)          # ライフ監視: someone is up and about
            a._state_dirty = True
            if key != "PANIC" and key != "MEDICAL" and self.watch.waiting:
                self.entry.clear()
                self._show(self.watch.answer(now, a.core.mode), now)
                return
        self._act(self.entry.key(key, down, now), now)

    def tap(self, card, now):
        """A card presented (io/cardreader.py via cards.py): the panel's answer."""
        a = self.app
        a.sup.activity(now)
        a._state_dirty = True
        if self.watch.waiting:
            text = self.watch.answer(now, a.core.mode)
            self._show(text, now)
            return text
        e = self.entry
        letter = e.selected
        mode = K.LETTERS.get(letter) if letter else None
        if letter in K.SELECTED:
            action = K.SELECTED[letter]           # *3# / *4# then a card: reset / 点検
        elif letter == "D" or (letter is None and (a.core.mode != MODE_DISARMED
                                                     or a.core.phase() == "alarm")):
            action = "disarm"         # armed, or an alarm sounding: a tap silences, never arms
        else:
            action = "arm"
            mode = mode or MODE_AWAY
        e.clear()
        r = a.ops.attempt(action, now, card=card, mode=mode)
        if r.reason == "needs_code":
            self._card = card
            e.select("D", now)        # the code and # that follow disarm with this card
        self._result(r, now)
        return r.text

    def zone(self, z, active, now):
        if active:
            self.chime.zone_opened(z, self.app.core.mode, now)

    def tick(self, now):
        a = self.app
        if self.entry.tick(now) == K.PANIC:
            a.core.key_alarm(ev.CID_PANIC, texts.PANEL_PANIC, now)
        w = self.watch
        w.tick(now, a.core.mode)
        if w.revision != self._calls_saved:    # a call started, answered, reported: rare
            self._calls_saved = w.revision
            a.journal.save_value(CALLS_VALUE, w.snapshot(now, a.wall.unix()))
        self.chime.tick(now)
        if self._card is not None and not self.entry.typing:
            self._card = None         # its entry timed out or was cleared: the card is forgotten

    # ---- what the panel shows and sounds ------------------------------------------------------

    def merge(self, r):
        """Add the call chime and the door chime to the merged OutputState (never over a more
        urgent sound). Allocates nothing."""
        b = r.buzzer
        if self.watch.chiming and out.buzzer_rank(out.BUZ_CALL) < out.buzzer_rank(b):
            b = out.BUZ_CALL
        if self.chime.sounding and out.buzzer_rank(out.BUZ_CHIME) < out.buzzer_rank(b):
            b = out.BUZ_CHIME
        r.buzzer = b
        return r

    def prompt(self, now):
        """The line that comes before the core's: a call, the entry being typed, the latest
        operation's result, a running lockout. None: the core's line."""
        w = self.watch
        if w.waiting:
            return w.text(now)        # a question, the watch's last minute, a 101 sent
        e = self.entry
        if e.typing:
            if e.in_function:
                return texts.KEY_FUNCTION
            if e.n == 0 and self._card is not None:
                return texts.CARD_NEEDS_CODE
            if e.n == 0 and e.letter is not None:
                return texts.KEY_SELECTED[_SELECT[e.letter]]
            return texts.KEY_CODE + "*" * e.n
        if self.message is not None:
            # the core moved on (a delay began, an alarm): its line matters more than ours
            if (ticks_diff(now, self._message_at) < MESSAGE_MS
                    and self.app.core.revision == self._message_rev):
                return self.message
            self.message = None
        if w.watching:
            return w.text(now)        # みつめてコール中 あと N分
        left = self.app.auth.lock_left_s(now)
        if left:
            if left != self._lock_left:
                self._lock_left = left
                self._lock_text = texts.LOCKED_LEFT % (left // 60, left % 60)
            return self._lock_text
        return None

    # ---- internals ----------------------------------------------------------------------------

    def _result(self, r, now):
        if r.reason == "locked_out":
            self.message = None       # the live lockout line (prompt) counts down instead
        else:
            self._show(r.text, now)

    def _show(self, text, now):
        if text:
            self.message = text
            self._message_at = now
            self._message_rev = self.app.core.revision

    def _act(self, act, now):
        if act is None:
            return
        a = self.app
        e = self.entry
        if act == K.ARM or act == K.DISARM or act == K.RESET or act == K.SELF_CHECK:
            code = e.code()
            e.clear()
            card = self._card if act == K.DISARM else None
            self._card = None
            r = a.ops.attempt(act, now, code=code, card=card, mode=e.mode)
            self._result(r, now)
        elif act == K.FUNCTION:
            self._function(e.function, now)
        elif act == K.PANIC:
            a.core.key_alarm(ev.CID_PANIC, texts.PANEL_PANIC, now)     # silent: nothing shown
        elif act == K.MEDICAL:
            a.core.key_alarm(ev.CID_MEDICAL, texts.PANEL_MEDICAL, now)
        elif act == K.CANCEL:
            self._card = None
            a.core.cancel(0, now)        # as the キャンセルボタン: the cancel window, the glass warble
        a._state_dirty = True

    def _function(self, n, now):
        a = self.app
        if n == FN_WATCH:
            w = self.watch
            self._show(w.stop_watch(now) if w.watching else w.start_watch(now), now)
        elif n == FN_CHIME:
            on = self.chime.toggle()
            a.journal.save_value(CHIME_VALUE, on)    # one small write per toggle
            self._show(texts.CHIME_ON if on else texts.CHIME_OFF, now)
        elif n == FN_RESET or n == FN_CHECK:
            self.entry.select("R" if n == FN_RESET else "S", now)   # the code and # follow
        else:
            self._show(texts.KEY_UNKNOWN_FUNCTION, now)


_SELECT = {"A": "arm_away", "B": "arm_stay", "C": "arm_partial", "D": "disarm", "R": "reset",
           "S": "self_check"}
