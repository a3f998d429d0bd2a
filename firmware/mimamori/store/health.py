# The storage troubles: what the panel shows and the centre is told when the flash lets the
# controller down. Two conditions, each reported once when it begins (Q1) and once when it ends
# (restore, Q3), never per loop step:
#
#   307 Self-test failure (Contact ID, SIA DC-05): a saved file failed its check at boot (a
#       checksum, a copy missing its twin, content that is not a state). The controller booted
#       anyway, in the state it could prove, else fail-secure (mimamori/restore.py). Stays
#       until an authorised operation (arm, disarm, reset) re-establishes the state.
#   624 Event log overflow (DC-05): the flash refuses writes (full). Reports stay in RAM and go
#       out; the state is kept in RAM. Ends when writes work again.
#
# Sans-I/O: events go out through `emit`, time is an argument. update() allocates nothing while
# nothing changes (it runs every loop step).
from mimamori.core import events as ev
from mimamori.core import texts as tx
from mimamori.core.vocab import MODES



class StorageHealth:
    def __init__(self, emit):
        self._emit = emit
        self.findings = []          # what was found damaged at boot (log and installer)
        self.damaged = False        # 307 active
        self.fail_secure = False    # booted armed because no state could be proven
        self.full = False           # 624 active
        self.revision = 0           # bumped on every change (the app re-renders)

    @property
    def active(self):
        return self.damaged or self.full

    def boot_damage(self, findings, fail_secure, now, mode):
        """Report what the boot found (once)."""
        if not findings and not fail_secure:
            return
        self.findings = findings
        self.fail_secure = fail_secure
        if not self.damaged:
            self.damaged = True
            self.revision += 1
            self._emit(ev.Event(now, ev.TROUBLE, ev.CID_SELF_TEST, ev.Q_NEW, 0, 0, "", mode))

    def operated(self, now, mode):
        """An authorised operation set the state: the damage found at boot no longer matters."""
        if self.damaged:
            self.damaged = False
            self.fail_secure = False
            self.revision += 1
            self._emit(ev.Event(now, ev.RESTORE, ev.CID_SELF_TEST, ev.Q_RESTORE, 0, 0, "", mode))

    def update(self, failing, now, mode):
        """Every step: is any write failing right now?"""
        if failing == self.full:
            return
        self.full = failing
        self.revision += 1
        if failing:
            self._emit(ev.Event(now, ev.TROUBLE, ev.CID_LOG_OVERFLOW, ev.Q_NEW, 0, 0, "", mode))
        else:
            self._emit(ev.Event(now, ev.RESTORE, ev.CID_LOG_OVERFLOW, ev.Q_RESTORE, 0, 0, "",
                                mode))

    def troubles(self):
        """[(cid, zone, text)] like Supervisor.troubles()."""
        out = []
        if self.damaged:
            out.append((ev.CID_SELF_TEST, 0, tx.STORAGE_FAIL_SECURE if self.fail_secure
                        else tx.STORAGE_DAMAGED))
        if self.full:
            out.append((ev.CID_LOG_OVERFLOW, 0, tx.STORAGE_FULL))
        return out


# ---- is a saved state plausible? ------------------------------------------------------------
# A copy that passes its checksum was written by this firmware, so junk here means a bug, another
# version or a hand edit: the whole state is refused (not patched field by field), and the app
# boots as for a damaged file.
_SOUNDS = ("off", "exit", "entry", "glass", "fire", "alarm", "trouble", "remind")
_MS_MAX = 1 << 29        # a ticks_diff is only meaningful below this


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _ms(v):
    return v is None or (_int(v) and 0 <= v < _MS_MAX)


def _ids(v):
    if not isinstance(v, list):
        return False
    for x in v:
        if not _int(x):
            return False
    return True


def state_problem(saved):
    """None when `saved` (StateFile.load()) is a state this firmware can restore, else why not.
    Checks the alarm core's section strictly (it decides whether the house is guarded); the
    supervision and lockout sections are checked by their own restore()."""
    if not isinstance(saved, dict):
        return "not an object"
    c = saved.get("core")
    if not isinstance(c, dict):
        return "core: missing"
    try:
        if c["mode"] not in MODES:
            return "core.mode: %r" % (c["mode"],)
        for k in ("bypassed", "cancelled", "pending", "in_alarm"):
            if not _ids(c[k]):
                return "core.%s: not a list of zone ids" % k
        for t in c["trips"]:
            # [zone id, count, ms since the swinger period began] ([id, count]: older files)
            if not (isinstance(t, list) and len(t) in (2, 3) and _int(t[0]) and _int(t[1])
                    and (len(t) == 2 or _ms(t[2]))):
                return "core.trips: junk"
        for k in ("exit", "delay_elapsed", "siren"):
            if not _ms(c[k]):
                return "core.%s: not a time" % k
        if c["delay"] not in (0, 1, 2) or isinstance(c["delay"], bool):
            return "core.delay: %r" % (c["delay"],)
        if c["sound"] not in _SOUNDS:
            return "core.sound: junk"
        if not isinstance(c["reported"], bool) or not isinstance(c["flash"], bool):
            return "core.reported/flash: not true/false"
        if not isinstance(c["memory"], list):
            return "core.memory: not a list"
        for d in c["memory"]:
            # one line per zone (MemoryEntry.to_list), or an Event dict (older files)
            if isinstance(d, list):
                if len(d) != 5 or not _int(d[2]) or d[2] < 1:
                    return "core.memory: junk line"
                zone, cid = d[0], d[1]
            else:
                e = ev.Event.from_dict(d)
                zone, cid = e.zone, e.cid
                if not _int(e.seq):
                    return "core.memory: junk event"
            if not (_int(cid) and cid in ev.CATALOGUE and _int(zone)):
                return "core.memory: junk line"
        w = c.get("warning", [False, False])
        if not (isinstance(w, list) and len(w) == 2 and isinstance(w[0], bool)
                and isinstance(w[1], bool)):
            return "core.warning: not [true/false, true/false]"
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return "core: a field missing or of the wrong type"
    at = saved.get("saved_at")
    if at is not None and not _int(at):
        return "saved_at: not a time"
    for k in ("sup", "auth"):
        if saved.get(k) is not None and not isinstance(saved[k], dict):
            return "%s: not an object" % k
    return None
