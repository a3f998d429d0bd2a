# What the panel's OLED shows (128x64, eight lines of Japanese text), from what the controller
# already says (status.py, core/panel.py), and when it is redrawn.
#
#   line 0   title bar (inverse): the mode (解除 / 外出 / 在宅セット / 部分セット), 故障 when a
#            trouble is shown, 異常記憶 when the alarm memory is set
#   line 1-2 the panel line (core/panel.py via status.display): the resident's prompt (a
#            しらせてコール question; with the resident's key handling also the code being typed,
#            an operation's result, the lockout's time), the exit / entry / cancel countdown, the
#            latest alarm, a trouble or notice at rest. Wrapped onto line 2 when long
#   line 3-7 details: open doors and windows (開 玄関ドア), troubles (故障 停電), older alarm
#            memory lines (記憶 ...); "ほか N件" when they do not fit
#
# Silent alarms show nothing here either: they are not in the alarm memory and a panic or medical
# button is not listed as open (only magnet zones are: the doors and windows that stop an arming).
#
# Sleep: an OLED lit day and night burns its static pixels in (the title bar first), so with
# display.sleep_min the panel goes dark after that many minutes in which nothing it shows changed
# and no key was pressed, and lights again at the next change or key. Only a change of what it
# shows wakes it, never an event that shows nothing: a silent alarm leaves a sleeping panel dark.
#
# Redrawn only when what it shows may have changed: an event, an operation, a key or a zone
# change (app._state_dirty, set for all of them), the core's, the supervisor's or the storage's
# revision, the prompt's text, the countdown's second. Each step compares those and allocates
# nothing; composing the lines (string work) happens only then, and only the lines that differ
# are sent.
from mimamori import status
from mimamori.compat import const, ticks_diff
from mimamori.core import texts
from mimamori.core.texts import MODE_LABELS
from mimamori.io import display as dsp

DETAIL_LINES = 5
RETRY_MS = const(5000)       # a display that does not answer is tried again this often


class Screen:
    def __init__(self, text_display, contrast=None, log=None, sleep_ms=0, keypad=None):
        self.d = text_display
        self.contrast = contrast
        self.log = log
        self.sleep_ms = sleep_ms    # 0: never sleeps
        self.keypad = keypad        # a key held wakes the display (io/keypad.py: .state)
        self.asleep = False
        self._lively_at = None      # ticks of the last change shown or key pressed
        self.errors = 0             # I2C failures (display unplugged, bus stuck)
        self._retry_at = None       # ticks of the last failure, while the chip is not set up
        self._core_rev = -1
        self._sup_rev = -1
        self._sto_rev = -1
        self._prompt = None
        self._secs = -1
        self._ha = -1
        self._prompt_of = None      # now -> the panel's prompt (bound at the first poll)
        self._force = True
        self.updates = 0            # times the lines were composed (tests, bench)

    def poll(self, app, now):
        """Once per loop step, before status.publish clears app._state_dirty. A display that
        does not answer never stops the loop: it is set up again every RETRY_MS."""
        if not self.d.oled.ready:
            if self._retry_at is not None and ticks_diff(now, self._retry_at) < RETRY_MS:
                return False
            try:
                self.d.oled.init(self.contrast)
            except OSError as e:
                self._failed(now, e)
                return False
            self._retry_at = None
            self.asleep = False         # init turns the display on
            self._lively_at = now
            self.d.forget()             # the chip's RAM is blank: every line again
            self._force = True
        if self._lively_at is None:
            self._lively_at = now
        kp = self.keypad
        if kp is not None and kp.state:
            self._lively_at = now
            if self.asleep:
                self._wake()
        elif (self.sleep_ms and not self.asleep
              and ticks_diff(now, self._lively_at) >= self.sleep_ms):
            try:
                self.d.oled.power(False)
                self.asleep = True
            except OSError as e:
                self._failed(now, e)
                return False
        c = app.core
        secs = -1
        phase = c.phase()
        if phase == "exit_delay" or phase == "entry_delay":   # (also the cancel window)
            secs = (max(0, c.delay_remaining_ms(now)) + 999) // 1000
        rev = c.revision
        sup = app.sup.revision
        sto = app.storage.revision
        if self._prompt_of is None:
            self._prompt_of = prompt_source(app)
        prompt = self._prompt_of(now)
        ha = status.ha_key(c)
        if not (self._force or app._state_dirty or rev != self._core_rev or sup != self._sup_rev
                or sto != self._sto_rev or prompt != self._prompt or secs != self._secs
                or ha != self._ha):
            return False
        self._force = False
        self._core_rev, self._sup_rev, self._sto_rev = rev, sup, sto
        self._prompt, self._secs, self._ha = prompt, secs, ha
        try:
            if self.show(lines(app, now)):
                self._lively_at = now
                if self.asleep:
                    self._wake()
        except OSError as e:
            self._failed(now, e)
        return True

    def show(self, rows):
        """Put the lines in the chip; True if any of them changed."""
        d = self.d
        changed = False
        for n in range(dsp.LINES):
            if d.line(n, rows[n] if n < len(rows) else "", n == 0):
                changed = True
        self.updates += 1
        d.flush()
        return changed

    def _wake(self):
        self.d.oled.power(True)
        self.asleep = False

    def _failed(self, now, e):
        self.errors += 1
        self._retry_at = now
        self.d.oled.ready = False       # set the chip up again before the next frame
        if self.log is not None and (self.errors & (self.errors - 1)) == 0:   # 1, 2, 4, 8 ...
            self.log.warn("display: no answer on I2C (%r), %d failures", e, self.errors)

    def redraw(self):
        """Compose again at the next poll (after the chip was reset, say)."""
        self._force = True


def prompt_source(app):
    """now -> the prompt core/panel.py puts first: the resident's (resident.py: calls, the code
    being typed, results, the lockout) when the app has one, else the operations' しらせてコール
    question."""
    if hasattr(app, "resident"):
        return app.resident.prompt
    ops = app.ops
    return lambda now: ops.prompt


def lines(app, now):
    """The eight lines of the screen (allocates: called only when something changed)."""
    c = app.core
    title = MODE_LABELS[c.mode]
    ts = status.troubles(app)
    if ts:
        title += texts.SCREEN_FLAG_TROUBLE
    if c.outputs.alarm_memory:
        title += texts.SCREEN_FLAG_MEMORY
    text = status.display(app, now)
    cut = dsp.fit(text)
    first, rest = text[:cut], text[cut:].lstrip()
    out = [title, first, rest]
    details = [texts.SCREEN_OPEN + z.name for z in c.zones if z.open and z.type == "magnet"]
    details += [texts.SCREEN_TROUBLE + t[2] for t in ts]
    details += [texts.SCREEN_MEMORY + "%s %s" % (m.label, m.zone_name)
                for m in reversed(c.memory[:-1])]
    if len(details) > DETAIL_LINES:
        more = len(details) - (DETAIL_LINES - 1)
        details = details[:DETAIL_LINES - 1] + [texts.SCREEN_MORE % more]
    return out + details
