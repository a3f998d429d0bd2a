# Crash-safe small state files (arm mode, bypasses, timers, lockout...): JSON written to a
# temporary file, closed, then os.rename'd over the old one. On littlefs the rename is atomic, so
# a power cut leaves either the old or the new file, never half of one. Each write is counted:
# flash wears out, and callers write only when something changed.
import json
import os


class StateFile:
    def __init__(self, path):
        self.path = path
        self.writes = 0
        self.last_error = None

    def save(self, obj):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(json.dumps(obj))
        os.rename(tmp, self.path)
        self.writes += 1

    def load(self):
        """The saved object, or None when there is none. A corrupt file (it should not happen
        with rename, but flash can rot) is set aside as .bad, noted in last_error, and treated
        as none: booting disarmed with a trouble beats not booting."""
        try:
            with open(self.path) as f:
                text = f.read()
        except OSError:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            self.last_error = "%s: unreadable (%s), set aside as .bad" % (self.path, exc)
            try:
                os.rename(self.path, self.path + ".bad")
            except OSError:
                pass
            return None
