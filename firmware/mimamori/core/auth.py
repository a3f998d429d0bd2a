# Who may operate the panel: user codes (keypad) and ライフカード (RFID card UIDs), checked
# against salted, iterated SHA-256 hashes from secrets.json, with a lockout against guessing.
#
# Sans-I/O: no clock, no flash. Every call takes `now` (ticks_ms); the caller persists
# snapshot() and hands it back with restore() after a reboot, so pulling the plug does not
# clear a lockout.
#
# What the hashing buys: a 4-digit code has 10**4 values, so no iteration count protects it
# from someone who has secrets.json (or a flash dump) and a PC: at the floor below, one CPU core
# tries every 4-digit code in seconds. The salt stops one precomputed table from serving every
# controller; the iterations make each guess cost MIN_ITERATIONS hashes, which matters for longer
# codes (6-8 digits: minutes to hours per code on a core) and for bulk cracking of many panels'
# files. The real defence of a short code is the lockout below at the panel and keeping the
# flash out of reach. (README "secrets.json" has the figures; `make bench` measures them.)
#
# Roles (README "Residents at the panel"): `master` and `resident` operate the house (arm,
# disarm, cancel, reset, answers to calls); `master` also manages users and cards; `installer`
# only enters installer mode (walk test, configuration) and only while the house is disarmed, so
# an installer's code can never disarm an armed house; `centre` is the code the monitoring centre
# seals into its remote arm / disarm commands (core/commands.py) and acts as a resident.
# A user may also have a duress code (強要): it is accepted exactly as the user's own code, and
# `duress` is set on that check so the caller reports 121 silently (mimamori/operations.py).
import hashlib
import binascii

from mimamori.compat import const, ticks_add, ticks_diff
from mimamori.core.vocab import MODE_DISARMED

# role -> the operations it may start (operations.py names; README "Residents at the panel")
# (みつめてコール and the door chime are panel functions that need no code: resident.py)
HOUSE_ACTIONS = ("arm", "disarm", "cancel", "reset", "self_check", "answer", "departure")
INSTALLER_ACTIONS = ("walk_test", "installer_mode")   # installer mode (issue 13, operations.py)
MASTER_ACTIONS = ("revoke_card", "users")              # managing users and cards
ROLE_ACTIONS = {
    "master": HOUSE_ACTIONS + MASTER_ACTIONS,
    "resident": HOUSE_ACTIONS,
    "centre": HOUSE_ACTIONS,
    "installer": INSTALLER_ACTIONS,
}


def allowed(role, action, mode):
    """May a user of this role start `action` while the house is in `mode`? Installer mode is
    entered only while disarmed: an installer's code cannot disarm, nor open an armed house."""
    if action not in ROLE_ACTIONS.get(role, ()):
        return False
    if action in INSTALLER_ACTIONS and mode != MODE_DISARMED:
        return False
    return True

# Hash rounds. The floor is what the board can afford at a keypress, since a check hashes the
# code once per enrolled user (each has its own salt). `make bench` measures one round on the real
# MicroPython interpreter (WebAssembly, about 0.9 us) and on CPython; on an ESP32 at 240 MHz we
# assume about 40 us a round (a hashlib.sha256 object, one 64-byte block through mbedTLS and the
# SHA accelerator, the digest bytes: tools/bench.py says why), so the floor costs about 40 ms per
# user: 0.2 s for a wrong code in a 5-user house. Each entry carries its own `iter`, so the
# count can rise later without re-enrolling everyone at once.
MIN_ITERATIONS = const(1000)   # the validator's floor (below it: ConfigError)
ITERATIONS = MIN_ITERATIONS    # tools/hash_secret.py's default
MAX_ITERATIONS = const(10000)  # ~0.4 s per entry on the board: the validator's ceiling

MAX_FAILURES = const(5)                    # wrong codes/cards ...
FAILURE_WINDOW_MS = const(10 * 60 * 1000)  # ... within 10 minutes start a lockout
LOCKOUT_MS = const(5 * 60 * 1000)          # first lockout: 5 minutes, doubled each time ...
LOCKOUT_MAX_MS = const(60 * 60 * 1000)     # ... up to 60 minutes, until someone gets in
_MAX_LEVEL = const(4)                      # 5 << 4 = 80 min > cap: no need to count further

# Outcome of the latest check (Authenticator.outcome), for the core to turn into events.
OK = "ok"              # accepted: the user dict is returned
WRONG = "wrong"        # unknown code or card: counts towards the lockout
REVOKED = "revoked"    # a revoked card: counts towards the lockout, worth its own event
LOCKED = "locked"      # refused unchecked: a lockout is running

# Domain separation: the same digits as a code and as a card UID never give the same hash.
_CODE = b"code:"
_CARD = b"card:"


def _digest(material, salt, iterations):
    h = hashlib.sha256(salt + material).digest()
    for _ in range(iterations - 1):
        h = hashlib.sha256(h).digest()
    return h


def normalise_uid(uid):
    """Card UID as upper-case hex bytes: b'04A1B2C3' from bytes, '04a1b2c3' or '04:A1:B2:C3'."""
    if isinstance(uid, (bytes, bytearray)):
        return binascii.hexlify(uid).upper()
    s = str(uid).upper()
    for sep in (":", "-", " "):
        s = s.replace(sep, "")
    return s.encode()


def hash_code(code, salt, iterations):
    return _digest(_CODE + str(code).encode(), salt, iterations)


def hash_card(uid, salt, iterations):
    return _digest(_CARD + normalise_uid(uid), salt, iterations)


def make_entry(kind, secret, salt, iterations=ITERATIONS):
    """The secrets.json entry for a code (kind 'code') or a card UID (kind 'card')."""
    h = hash_code(secret, salt, iterations) if kind == "code" else hash_card(secret, salt, iterations)
    return {"salt": binascii.hexlify(salt).decode(), "hash": binascii.hexlify(h).decode(),
            "iter": iterations}


def same_bytes(a, b):
    """Constant-time equality: the time taken does not tell how many leading bytes matched."""
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0


def _stored(entry):
    return (binascii.unhexlify(entry["salt"]), binascii.unhexlify(entry["hash"]),
            entry["iter"])     # validated: always there


class Authenticator:
    """Checks codes and cards of a validated secrets dict (store.config.validate_secrets).

    check_code / check_card return the user's public dict {id, name, role} or None; the reason
    is in `outcome` (OK, WRONG, REVOKED, LOCKED), `lockout_started` is True on the attempt that
    began a lockout, and `card_id` names the card of the latest check_card match.
    Call poll(now) from the core's regular tick too: it expires the lockout and old failures,
    so a ticks_ms wrap (every 12.4 days on the ESP32) can never revive an old lockout.
    """

    def __init__(self, secrets, now_ms):
        self._users = []   # (public dict, salt, hash, iterations), in file order
        self._duress = []  # the same for the users' duress codes
        self._by_id = {}   # user id -> public dict
        for u in secrets["users"]:
            pub = {"id": u["id"], "name": u["name"], "role": u["role"]}
            self._users.append((pub,) + _stored(u["code"]))
            if u.get("duress"):
                self._duress.append((pub,) + _stored(u["duress"]))
            self._by_id[u["id"]] = pub
        # 外出 is disarmed by a card only together with a code (secrets card_and_code)
        self.card_and_code = bool(secrets.get("card_and_code"))
        self._cards = []   # (card id, user id, salt, hash, iterations)
        for c in secrets["cards"]:
            self._cards.append((c["id"], c["user"]) + _stored(c["uid"]))
        self._revoked = set()
        self._fail_at = []         # ticks of recent wrong attempts, oldest first
        self._level = 0            # lockouts since the last success: sets the next duration
        self._lock_ms = 0          # duration of the running lockout (0: none)
        self.locked_until = None   # ticks_ms when the running lockout ends, or None
        self.outcome = None
        self.lockout_started = False
        self.card_id = None
        self.duress = False        # the latest accepted code was a duress code ...
        self.duress_user = 0       # ... of this user
        self._now = now_ms
        # Bumped (_touch) whenever snapshot() would persist something new: a failure counted or
        # forgotten, a lockout begun or ended, a card revoked. The app saves when it moved.
        self.revision = 0

    def _touch(self):
        self.revision = (self.revision + 1) & 0x3FFFFFFF    # a small int: no allocation

    def __repr__(self):
        # Counts only: never a salt, a hash or a name.
        return "<Authenticator users=%d cards=%d revoked=%d failures=%d locked=%s>" % (
            len(self._users), len(self._cards), len(self._revoked), len(self._fail_at),
            self.locked_until is not None)

    @property
    def failures(self):
        """Wrong attempts in the current 10-minute window (as of the latest call)."""
        return len(self._fail_at)

    def locked(self, now):
        self.poll(now)
        return self.locked_until is not None

    def lock_left_s(self, now):
        """Whole seconds the running lockout still lasts (rounded up), 0 when none."""
        self.poll(now)
        if self.locked_until is None:
            return 0
        return (ticks_diff(self.locked_until, now) + 999) // 1000

    def poll(self, now):
        """Expire the lockout and forget failures older than the window. Allocates nothing."""
        self._now = now
        if self.locked_until is not None:
            left = ticks_diff(self.locked_until, now)
            # More left than was ever set means ticks wrapped past the end: it is over.
            if left <= 0 or left > self._lock_ms:
                self.locked_until = None
                self._lock_ms = 0
                self._touch()
        fails = self._fail_at
        while fails:
            age = ticks_diff(now, fails[0])
            if 0 <= age < FAILURE_WINDOW_MS:
                break
            del fails[0]
            self._touch()

    def _begin(self, now):
        self.poll(now)
        self.lockout_started = False
        self.card_id = None
        self.duress = False
        if self.locked_until is not None:
            self.outcome = LOCKED
            return False
        return True

    def _fail(self, now, outcome):
        self.outcome = outcome
        self._fail_at.append(now)
        self._touch()
        if len(self._fail_at) >= MAX_FAILURES:
            ms = LOCKOUT_MS << self._level
            if ms > LOCKOUT_MAX_MS:
                ms = LOCKOUT_MAX_MS
            if self._level < _MAX_LEVEL:
                self._level += 1
            self._lock_ms = ms
            self.locked_until = ticks_add(now, ms)
            del self._fail_at[:]
            self.lockout_started = True
        return None

    def _success(self, user, clear=True):
        self.outcome = OK
        if clear:
            self.succeeded()
        return user

    def succeeded(self):
        """Someone got in: forget the failures and the lockout level. check_code does it; a
        card checked with clear=False waits for this (card_and_code: a card alone must not
        wipe the count of wrong codes typed after it)."""
        if self._fail_at or self._level:
            del self._fail_at[:]
            self._level = 0
            self._touch()

    def check_code(self, code, now):
        if not self._begin(now):
            return None
        for pub, salt, want, n in self._users:
            if same_bytes(hash_code(code, salt, n), want):
                return self._success(pub)
        for pub, salt, want, n in self._duress:
            if same_bytes(hash_code(code, salt, n), want):
                self.duress = True     # accepted as the user's own code: nothing differs here
                self.duress_user = pub["id"]
                return self._success(pub)
        return self._fail(now, WRONG)

    def check_card(self, uid, now, clear=True):
        if not self._begin(now):
            return None
        for card_id, user_id, salt, want, n in self._cards:
            if same_bytes(hash_card(uid, salt, n), want):
                self.card_id = card_id
                if card_id in self._revoked or user_id not in self._by_id:
                    return self._fail(now, REVOKED)
                return self._success(self._by_id[user_id], clear)
        return self._fail(now, WRONG)

    def revoke_card(self, card_id):
        """Refuse this card from now on (a lost card). True if the card is enrolled."""
        for c in self._cards:
            if c[0] == card_id:
                if card_id not in self._revoked:
                    self._revoked.add(card_id)
                    self._touch()
                return True
        return False

    def revoked(self):
        return sorted(self._revoked)

    def snapshot(self, now=None):
        """Plain dict to persist. Times are relative (ticks restart at boot): the lockout time
        left is counted from the latest call, so it errs on the long side, never the short."""
        if now is not None:
            self.poll(now)
        left = 0
        if self.locked_until is not None:
            left = ticks_diff(self.locked_until, self._now)
        return {"locked_ms": left if left > 0 else 0, "failures": len(self._fail_at),
                "level": self._level, "revoked": self.revoked()}

    def restore(self, state, now=None):
        """Take back a snapshot() after a reboot. A damaged field counts as absent. The power
        was off for an unknown time, so the lockout resumes in full and the restored failures
        count as fresh: a power cut never shortens either."""
        if now is None:
            now = self._now
        self._now = now
        if not isinstance(state, dict):
            return
        left = _int_in(state.get("locked_ms"), 0, LOCKOUT_MAX_MS)
        if left:
            self._lock_ms = left
            self.locked_until = ticks_add(now, left)
        self._level = _int_in(state.get("level"), 0, _MAX_LEVEL)
        self._fail_at = [now] * _int_in(state.get("failures"), 0, MAX_FAILURES - 1)
        revoked = state.get("revoked")
        if isinstance(revoked, list):
            for card_id in revoked:
                if isinstance(card_id, int) and not isinstance(card_id, bool):
                    self._revoked.add(card_id)


def _int_in(v, lo, hi):
    if not isinstance(v, int) or isinstance(v, bool):
        return lo
    return lo if v < lo else hi if v > hi else v
