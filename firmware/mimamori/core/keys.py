# What the panel's keys mean. The keypad driver (io/keypad.py) reports each key as it goes down
# and up: entry.key(key, down, now); entry.tick(now) runs every loop. Both return an action name
# for the one dispatch (mimamori/resident.py hands it to mimamori/operations.py), or None:
#
#   "arm"      A / B / C (外出 / 在宅 / 部分) then the code and #; or the code, then the letter.
#              entry.mode says which mode, entry.code() the digits typed.
#   "disarm"   D (解除) then the code and #; or the code then D; or the code then # alone.
#   "function" * with nothing typed, a number, #: entry.function is the number
#              (1 みつめてコール on/off, 2 door chime on/off, 3 異常リセット and 4 点検 ask for
#              the code: README "住まいの方へ").
#   "reset", "self_check"   the code and # after *3# / *4# (select("R") / select("S")).
#   "panic"    非常 held PANIC_HOLD_MS: a brush of the key does nothing (silent 120).
#   "medical"  救急 pressed (100, silent, as the medical zone).
#   "cancel"   キャンセル pressed (as the cancel button; it also forgets a code being typed).
#
# * clears what was typed. A code being typed is forgotten ENTRY_TIMEOUT_MS after the last key.
# Sans-I/O: time comes in as ticks ms. The digits go into a preallocated bytearray and every
# return value is a constant string, so a key press allocates nothing; only code() (on a submit)
# builds a string.
from mimamori.compat import const, ticks_diff
from mimamori.core.vocab import MODE_AWAY, MODE_PARTIAL, MODE_STAY

ENTRY_TIMEOUT_MS = const(10000)   # a half-typed code is forgotten after 10 s without a key
PANIC_HOLD_MS = const(2000)       # 非常 must be held this long (a brush does not trigger it)
MAX_DIGITS = const(8)             # codes are 4-8 digits; more keys are ignored

DIGITS = "0123456789"
LETTERS = {"A": MODE_AWAY, "B": MODE_STAY, "C": MODE_PARTIAL, "D": None}   # None: 解除
KEYS = tuple(DIGITS) + ("*", "#", "A", "B", "C", "D", "PANIC", "MEDICAL", "CANCEL")

ARM = "arm"
DISARM = "disarm"
FUNCTION = "function"
PANIC = "panic"
MEDICAL = "medical"
CANCEL = "cancel"
RESET = "reset"
SELF_CHECK = "self_check"
# actions chosen by a function (select()) rather than a key, then the code and #
SELECTED = {"R": RESET, "S": SELF_CHECK}

_IDLE = const(0)
_CODE = const(1)        # digits (and maybe a letter) being typed
_FUNC = const(2)        # * pressed with nothing typed: a function number follows


class KeyEntry:
    def __init__(self):
        self._buf = bytearray(MAX_DIGITS)
        self.n = 0              # digits typed (the display shows one * each)
        self.state = _IDLE
        self.letter = None      # "A".."D" chosen first, or None
        self.mode = None        # the arm mode of the latest "arm"
        self.function = 0       # the number of the latest "function"
        self.last = 0           # ticks of the latest key
        self._panic_down = None  # ticks the 非常 key went down, while it is held
        self.revision = 0       # bumped when what the display shows of the entry changed

    def _touch(self):
        self.revision = (self.revision + 1) & 0x3FFFFFFF

    @property
    def typing(self):
        """A code or a function number is being typed (the display shows the entry)."""
        return self.state != _IDLE

    @property
    def selected(self):
        """The letter chosen before the code (A-D), or None."""
        return self.letter

    @property
    def in_function(self):
        """* was pressed with nothing typed: a function number is being typed."""
        return self.state == _FUNC

    def select(self, letter, now):
        """Choose a letter as if its key was pressed (a card that wants the code too)."""
        self.clear()
        self.letter = letter
        self.state = _CODE
        self.last = now
        self._touch()

    def clear(self):
        if self.state != _IDLE or self.n or self.letter is not None:
            self._touch()
        self.n = 0
        self.state = _IDLE
        self.letter = None
        for i in range(MAX_DIGITS):
            self._buf[i] = 0   # the digits do not linger in RAM

    def code(self):
        """The digits typed, as a string (allocates: only on a submit)."""
        return bytes(self._buf[:self.n]).decode()

    def key(self, key, down, now):
        if key == "PANIC":
            return self._panic(down, now)
        if not down:
            return None
        self.last = now
        if key == "MEDICAL":
            return MEDICAL
        if key == "CANCEL":
            self.clear()
            return CANCEL
        if key == "*":
            if self.state == _IDLE:
                self.state = _FUNC
                self.function = 0
                self._touch()
            else:
                self.clear()
            return None
        if key in LETTERS:
            if self.state == _CODE and self.n:
                self.letter = key        # the code first, then the letter: that submits it
                return self._submit()
            self.clear()
            self.letter = key
            self.state = _CODE
            self._touch()
            return None
        if key == "#":
            if self.state == _FUNC:
                return self._function()
            if self.state == _CODE and self.n:
                return self._submit()
            self.clear()
            return None
        if len(key) == 1 and key in DIGITS:
            if self.state == _FUNC:
                if self.function < 100:
                    self.function = self.function * 10 + ord(key) - 48
                    self._touch()
                return None
            self.state = _CODE
            if self.n < MAX_DIGITS:
                self._buf[self.n] = ord(key)
                self.n += 1
                self._touch()
            return None
        return None     # an unknown key name: ignored

    def tick(self, now):
        """Every loop: the 非常 hold, and the entry timeout. Allocates nothing."""
        if self._panic_down is not None and ticks_diff(now, self._panic_down) >= PANIC_HOLD_MS:
            self._panic_down = None   # once per press, however long it is held
            return PANIC
        if self.state != _IDLE and ticks_diff(now, self.last) >= ENTRY_TIMEOUT_MS:
            self.clear()
        return None

    def _panic(self, down, now):
        if down:
            self._panic_down = now
            return None
        # released: held long enough but the loop did not tick in between
        t = self._panic_down
        self._panic_down = None
        if t is not None and ticks_diff(now, t) >= PANIC_HOLD_MS:
            return PANIC
        return None

    def _submit(self):
        letter = self.letter
        self.state = _IDLE        # the digits stay for code(); the caller clears
        self._touch()
        if letter in SELECTED:
            return SELECTED[letter]
        if letter is None or letter == "D":
            self.mode = None
            return DISARM
        self.mode = LETTERS[letter]
        return ARM

    def _function(self):
        self.state = _IDLE
        self._touch()
        return FUNCTION
