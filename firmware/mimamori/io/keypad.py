# The panel's keypad: a 4x4 matrix (digits, *, #, and A/B/C/D = 外出 / 在宅 / 部分 / 解除) plus
# the dedicated 非常, 救急 and キャンセル keys on their own inputs. Key presses and releases go to
# the core (core/keys.py decides what they mean: code entry, 非常 held 2 s, activity).
#
#   kp = Keypad(rows, cols, panic=p, medical=m, cancel=c)   # Pin objects, set up here
#   every loop: kp.poll(ticks_ms(), on_key)                 # on_key(key, down, edge_ticks)
#
# key is one of KEYS: "0".."9", "*", "#", "A".."D", "PANIC", "MEDICAL", "CANCEL"; down is True on
# a press, False on a release; edge_ticks is when the contacts changed (the debounce counts from
# there), so a hold is timed from the finger, not from the loop.
#
# Wiring (README "Keypad"): rows are open-drain outputs with pull-ups, columns inputs with
# pull-ups; a key joins its row to its column. Open drain, so two keys pressed in one column never
# short two driven outputs. The dedicated keys are buttons to GND on inputs with pull-ups.
#
# Scanning never blocks and allocates nothing. At rest every row is held low, so any key pulls
# its column low: a poll reads the four columns and the three dedicated inputs (7 pin reads) and
# is done. Only while a key is down does it walk the rows (one low at a time) to find which.
# Debounce: the scanned state must hold for debounce_ms, counted from its change, before the
# presses and releases in it are reported; chatter shorter than that is never seen. Three or more
# matrix keys at once can show a key that is not pressed (ghosting, no diodes in a membrane pad):
# such a scan is ignored.
from mimamori.compat import const, ticks_diff

KEYS = ("1", "2", "3", "A",
        "4", "5", "6", "B",
        "7", "8", "9", "C",
        "*", "0", "#", "D",
        "PANIC", "MEDICAL", "CANCEL")
ROWS = const(4)
COLS = const(4)
MATRIX_MASK = const(0xFFFF)
DEDICATED = const(16)          # bit of the first dedicated key (PANIC, then MEDICAL, CANCEL)
DEBOUNCE_MS = const(30)        # membrane and tact switches settle within 5-20 ms


class Keypad:
    def __init__(self, rows, cols, panic=None, medical=None, cancel=None,
                 debounce_ms=DEBOUNCE_MS):
        if len(rows) != ROWS or len(cols) != COLS:
            raise ValueError("a 4x4 keypad needs 4 rows and 4 columns")
        Pin = type(rows[0])
        self._rows = tuple(rows)
        self._cols = tuple(cols)
        self._ded = (panic, medical, cancel)
        for p in self._rows:
            p.init(Pin.OPEN_DRAIN, Pin.PULL_UP, value=0)    # at rest: every row low
        for p in self._cols:
            p.init(Pin.IN, Pin.PULL_UP)
        for p in self._ded:
            if p is not None:
                p.init(Pin.IN, Pin.PULL_UP)
        self.debounce_ms = debounce_ms
        self._raw = 0                # last scanned state, bit i = KEYS[i] down
        self._since = 0              # ticks when _raw last changed
        self.state = 0               # debounced state (reported)
        self._changed_at = 0         # ticks of the change that made `state`
        self.ghosts = 0              # scans ignored for ghosting (tests, bench)

    def _scan(self):
        """The keys down now (undebounced), as a bit mask."""
        cols = self._cols
        m = 0
        any_col = 0
        for c in range(COLS):
            if cols[c].value() == 0:
                any_col = 1
        if any_col:
            rows = self._rows
            for r in range(ROWS):
                rows[r].value(1)
            for r in range(ROWS):
                rows[r].value(0)
                for c in range(COLS):
                    if cols[c].value() == 0:
                        m |= 1 << (r * COLS + c)
                rows[r].value(1)
            for r in range(ROWS):
                rows[r].value(0)
            n = 0
            x = m
            while x:
                x &= x - 1
                n += 1
            if n >= 3:
                self.ghosts += 1
                m = self._raw & MATRIX_MASK      # ambiguous: keep what we had
        ded = self._ded
        for i in range(3):
            p = ded[i]
            if p is not None and p.value() == 0:
                m |= 1 << (DEDICATED + i)
        return m

    def poll(self, now, sink):
        """Scan; report each press and release whose state held for debounce_ms, as
        sink(key, down, edge_ticks), oldest first. Returns nothing; allocates nothing."""
        m = self._scan()
        if m != self._raw:
            self._raw = m
            self._since = now
        if m == self.state or ticks_diff(now, self._since) < self.debounce_ms:
            return
        old = self.state
        self.state = m
        self._changed_at = self._since
        diff = old ^ m
        i = 0
        while diff:
            if diff & 1:
                sink(KEYS[i], (m >> i) & 1 == 1, self._since)
            diff >>= 1
            i += 1

    def down(self, key):
        """Is `key` down (debounced)?"""
        for i in range(len(KEYS)):
            if KEYS[i] == key:
                return (self.state >> i) & 1 == 1
        raise ValueError("no key %r" % key)

    def held_ms(self, now):
        """How long the keys down now have been held (since the last press or release), or 0
        when none is."""
        if not self.state:
            return 0
        return ticks_diff(now, self._changed_at)

    def deinit(self):
        """Rows back to inputs (nothing driven)."""
        for p in self._rows:
            p.init(type(p).IN)
