# What the panel's OLED shows (128x64, eight lines of Japanese text), from what the controller
# already says (status.py, core/panel.py), and when it is redrawn.
#
#   line 0   title bar (inverse): the mode (解除 / 外出 / 在宅セット / 部分セット), 故障 when a
#            trouble is shown, 異常記憶 when the alarm memory is set
#   line 1-2 the panel line (core/panel.py via status.display): a しらせてコール question, the
#            exit / entry / cancel countdown, the latest alarm, the refusal of an arming, a
#            trouble or notice at rest; wrapped onto line 2 when long
#   line 3-7 details: open doors and windows (開 玄関ドア), troubles (故障 停電), older alarm
#            memory lines (記憶 ...); "ほか N件" when they do not fit
#
# Silent alarms show nothing here either: they are not in the alarm memory and a panic or medical
# button is not listed as open (only magnet zones are: the doors and windows that stop an arming).
#
# Redrawn only when what it shows may have changed: an event, an operation or a zone change
# (app._state_dirty, set for all of them), the core's, the supervisor's or the storage's revision,
# the prompt, the countdown's second. Each step compares those integers and allocates nothing;
# composing the lines (string work) happens only then, and only the lines that differ are sent.
from mimamori import status
from mimamori.core import texts
from mimamori.core.vocab import MODE_LABELS
from mimamori.io import display as dsp

DETAIL_LINES = 5
FIRST_DETAIL = 3


class Screen:
    def __init__(self, text_display):
        self.d = text_display
        self._core_rev = -1
        self._sup_rev = -1
        self._sto_rev = -1
        self._prompt = None
        self._secs = -1
        self._ha = -1
        self._force = True
        self.updates = 0            # times the lines were composed (tests, bench)

    def poll(self, app, now):
        """Once per loop step, before status.publish clears app._state_dirty."""
        c = app.core
        secs = -1
        phase = c.phase()
        if phase == "exit_delay" or phase == "entry_delay":   # (also the cancel window)
            secs = (max(0, c.delay_remaining_ms(now)) + 999) // 1000
        rev = c.revision
        sup = app.sup.revision
        sto = app.storage.revision
        prompt = app.ops.prompt
        ha = status.ha_key(c)
        if not (self._force or app._state_dirty or rev != self._core_rev or sup != self._sup_rev
                or sto != self._sto_rev or prompt is not self._prompt or secs != self._secs
                or ha != self._ha):
            return False
        self._force = False
        self._core_rev, self._sup_rev, self._sto_rev = rev, sup, sto
        self._prompt, self._secs, self._ha = prompt, secs, ha
        self.show(lines(app, now))
        return True

    def show(self, rows):
        d = self.d
        for n in range(dsp.LINES):
            d.line(n, rows[n] if n < len(rows) else "", n == 0)
        d.flush()
        self.updates += 1

    def redraw(self):
        """Compose again at the next poll (after the chip was reset, say)."""
        self._force = True


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
