# The controller's small state (arm mode, bypasses, alarm memory, timers, lockout...) as JSON in
# two checksummed copies (store/sealed.py): a power cut mid-save leaves the old or the new state,
# and one rotten copy leaves the other. Each write is counted: flash wears out, and callers
# write only when something changed.
#
# load() never raises. It returns the saved dict or None, and `status` tells the app which:
#   "none"     nothing saved yet (a new installation): boot disarmed, nothing to report;
#   "ok"       the state as saved ("legacy": the single plain file of the previous version);
#   "damaged"  something was saved but no copy can be trusted (checksum, not UTF-8 / JSON, not
#              an object): the app boots in its fail-secure state and reports the damage.
# `problems` lists every copy that did not check, also when the other one did (reported too:
# the flash is rotting). The app checks the sections inside (wrong types, junk values) itself.
#
# save(obj) never raises either: it returns False when the flash refused (full, I/O error),
# `failing` stays True until a save works again (the app shows and reports that trouble, keeps
# the state in RAM and retries).
import json

from mimamori.store import sealed

NONE = sealed.NONE
OK = sealed.OK
LEGACY = sealed.LEGACY
DAMAGED = sealed.DAMAGED


class StateFile:
    def __init__(self, path):
        self.path = path
        self._sealed = sealed.Sealed(path)
        self.writes = 0          # files replaced (a save writes both copies: 2)
        self.status = NONE
        self.problems = []
        self.failing = False     # the last save failed
        self.last_error = None   # text of the last load or save problem, for the log

    def save(self, obj):
        try:
            text = json.dumps(obj)
            self._sealed.save(text.encode())
        except (OSError, MemoryError, ValueError, TypeError) as e:
            self.writes = self._sealed.writes
            self.failing = True
            self.last_error = "%s: save failed (%r)" % (self.path, e)
            return False
        self.writes = self._sealed.writes
        self.failing = False
        return True

    def load(self):
        s = self._sealed
        payload = s.load()
        self.problems = list(s.problems)
        self.status = s.status
        self.last_error = None
        if payload is None:
            if s.status == DAMAGED:
                self.last_error = "%s: no copy checks: %s" % (self.path, "; ".join(s.problems))
            return None
        try:
            obj = json.loads(payload.decode())
            why = "a %s, not an object" % type(obj).__name__
        except Exception:   # noqa: BLE001 - not UTF-8, not JSON, too deep, too big: all damage
            obj = None
            why = "not UTF-8 JSON"
        if not isinstance(obj, dict):
            # A copy whose checksum holds but whose content is not a state (only a bug or the
            # unchecked file of the previous version can get here): refused as a whole.
            self.status = DAMAGED
            self.problems.append("%s: %s" % (self.path, why))
            self.last_error = self.problems[-1]
            return None
        if self.problems:
            self.last_error = "%s: one copy damaged, the other used: %s" % (
                self.path, "; ".join(self.problems))
        return obj
