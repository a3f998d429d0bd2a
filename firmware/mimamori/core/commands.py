# Remote commands from the monitoring centre (<prefix>/<site>/cmd), verified. Sans-I/O: bytes
# and times in, a validated Command (or a rejection with its reason) out; the caller persists
# the counter through `save_ctr` and publishes the signed reply on <prefix>/<site>/ack.
#
# Command frame (JSON, signed like every frame: proto/frame.py canonical bytes + HMAC-SHA256):
#   {"v": 1, "site": "<site id>", "ctr": <int>, "ts": <unix seconds>, "cmd": "<name>",
#    "args": {...}, "sealed_code": "<hex>" (arm/disarm only), "mac": "<hex>"}
# ctr is the command's time in milliseconds (ctr // 1000 == ts), above every earlier one.
#
# Checks, in order (the first failure is the reason): too_large / malformed (over MAX_PAYLOAD
# bytes, numbers over MAX_DIGITS digits, nesting over MAX_DEPTH, escaped surrogates: all refused
# BEFORE parsing, so no input costs more than one bounded pass; then not JSON / not an object /
# a non-string key / fields of the wrong type), wrong_site, missing_mac, bad_mac, code_in_clear
# (the old form: a plain `code` is refused, never checked), clock_unset, stale (ts outside
# +-window_s of our wall clock), bad_counter (ctr is not ts in ms), replay (ctr not above the
# last accepted one), boot_wait (below the boot floor, see below), then the counter is
# persisted, so each signed frame works once whatever follows, and a captured frame with a
# wrong code cannot be replayed to lock a resident out; then unknown_command, bad_args,
# missing_code, bad_code (a sealed code that does not open), wrong_code / locked_out (the
# Authenticator counts wrong codes towards lockout, as at the keypad: Coco-SECOM asks for the
# contract number and the 暗証番号 alike). Anything else that goes wrong is `malformed`: handle()
# never raises.
#
# The boot floor: a counter file can be lost (a wiped board, both copies damaged, a write that
# failed). Then a frame accepted before the loss is still inside its +-window_s, and replaying it
# would work. Because ctr is the command's own time in ms and a frame is only accepted within
# window_s of our clock, every frame accepted before the boot has ctr <= (boot + window_s) * 1000
# + 999. So when the counter is missing or damaged, nothing at or below that floor is taken: for
# window_s after the boot remote commands are refused (boot_wait), then all works. A saved
# counter too far ahead of the clock cannot come from a frame we accepted either (damage, or a
# huge counter signed before this rule): it is treated as lost rather than freezing commands.
#
# The resident's code never travels in clear: the centre seals it for the controller (seal_code
# in core/sealing.py), inside the signed frame.
#
# Commands: arm {mode: away|stay|partial}, disarm, status, test, shirasete (しらせてコール: the
# app shows a prompt on the panel asking the resident to answer), set_departure {time: "HH:MM"
# or null}, revoke_card {card: <card id>}.
from mimamori.compat import ticks_diff
from mimamori.core.texts import COMMAND_LABELS, MODE_LABELS
from mimamori.core.vocab import ARM_MODES
from mimamori.proto import frame
# CODE_PAD, ha_token: also reached here by the centre's tools and the tests (their old home)
from mimamori.core.sealing import (CODE_PAD, _nonce, code_key, ha_token,  # noqa: F401
                                   open_code, seal_code)

# name -> needs a user code (its Japanese label for the panel and logs: core/texts.py)
COMMANDS = {
    "arm": True,
    "disarm": True,
    "status": False,
    "test": False,
    "shirasete": False,
    "set_departure": False,
    "revoke_card": False,
}
WINDOW_S = 120
MAX_MESSAGE = 64
# Bounds checked on the raw bytes before json.loads: the largest real frame (a shirasete with 64
# Japanese characters, all escaped) is under 700 bytes; ctr has 13 digits for centuries; a frame
# nests two objects deep. A 3,800-digit number costs 54 ms to parse on MicroPython and deep
# nesting blows the recursion limit of CPython's json and of our canonical encoder.
MAX_PAYLOAD = 1024
MAX_DIGITS = 16
MAX_DEPTH = 4
MAX_CTR = 10 ** MAX_DIGITS
LOG_HEAD = 48          # bytes of a rejected payload shown in the log
DAY_MS = 24 * 3600 * 1000


class Rejected(Exception):
    """A refused command: .reason (code word), .ctr and .cmd when known."""

    def __init__(self, reason, ctr=None, cmd=None):
        super().__init__(reason)
        self.reason = reason
        self.ctr = ctr
        self.cmd = cmd


class Command:
    """A verified command for the app to apply to the alarm core."""
    __slots__ = ("name", "args", "ctr", "ts", "user")

    def __init__(self, name, args, ctr, ts, user):
        self.name = name
        self.args = args      # validated: arm {"mode"}, set_departure {"time"}, ...
        self.ctr = ctr
        self.ts = ts
        self.user = user      # the Authenticator's user dict for arm/disarm, else None

    @property
    def label(self):
        base = COMMAND_LABELS[self.name]
        if self.name == "arm":
            return base + "(" + MODE_LABELS[self.args["mode"]] + ")"
        return base

    def __repr__(self):
        return "Command(%s %r ctr=%d)" % (self.name, self.args, self.ctr)


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _shape_ok(b):
    """One pass over the raw bytes: no run of more than MAX_DIGITS digits outside strings, no
    nesting deeper than MAX_DEPTH, no escaped UTF-16 surrogate (\\uD800-\\uDFFF: lone ones break
    CPython's UTF-8 encoder, pairs decode differently on MicroPython; our encoder never writes
    them). Strings are skipped with their escapes, so a message may hold any digits."""
    depth = 0
    run = 0
    state = 0      # 0 outside strings, 1 in a string, 2 after a backslash, 3 after \u, 4 after \ud
    for c in b:
        if state == 0:
            if 48 <= c <= 57:
                run += 1
                if run > MAX_DIGITS:
                    return False
                continue
            run = 0
            if c == 34:                   # "
                state = 1
            elif c == 123 or c == 91:     # { [
                depth += 1
                if depth > MAX_DEPTH:
                    return False
            elif c == 125 or c == 93:     # } ]
                depth -= 1
        elif state == 1:
            if c == 92:                   # backslash
                state = 2
            elif c == 34:
                state = 0
        elif state == 2:
            state = 3 if c == 117 else 1  # \u
        elif state == 3:
            if c != 100 and c != 68:      # d D
                state = 1
            else:
                state = 4
        else:
            if c in b"89abAB":            # \ud8.. - \udf..: a surrogate
                return False
            state = 1
    return True


def _keys_ok(d):
    # MicroPython's json accepts {1: 2}; our frames only ever have string keys.
    for k in d:
        if not isinstance(k, str):
            return False
    args = d.get("args")
    if isinstance(args, dict):
        for k in args:
            if not isinstance(k, str):
                return False
    return True


def _printable(b):
    out = []
    for c in b:
        out.append(chr(c) if 32 <= c < 127 and c != 92 else "\\x%02x" % c)
    return "".join(out)


def _hhmm(v):
    if not isinstance(v, str) or len(v) != 5 or v[2] != ":":
        return False
    if not (v[:2].isdigit() and v[3:].isdigit()):
        return False
    return int(v[:2]) < 24 and int(v[3:]) < 60


def _args(name, a):
    if not isinstance(a, dict):
        return None
    if name == "arm":
        if a.get("mode") not in ARM_MODES or len(a) != 1:
            return None
        return {"mode": a["mode"]}
    if name == "set_departure":
        t = a.get("time")
        if len(a) != 1 or not (t is None or _hhmm(t)):
            return None
        return {"time": t}
    if name == "revoke_card":
        c = a.get("card")
        if len(a) != 1 or not _int(c) or c < 1:
            return None
        return {"card": c}
    if name == "shirasete":
        m = a.get("message", "")
        if len(a) > 1 or (a and "message" not in a) or not isinstance(m, str) \
                or len(m) > MAX_MESSAGE:
            return None
        return {"message": m}
    return {} if not a else None


class CommandVerifier:
    def __init__(self, key, site, auth=None, last_ctr=0, save_ctr=None, window_s=WINDOW_S,
                 log=None, now_unix=None, now_ms=None):
        """last_ctr: the persisted counter (None, 0 or junk when the file was lost: the boot floor
        applies). now_unix / now_ms: the wall clock (None while unset) and ticks at boot, from
        which the floor is set as soon as the clock is known."""
        self.key = key
        self.site = site
        self.auth = auth              # core.auth.Authenticator
        self._ckey = code_key(key)
        lost = not _int(last_ctr) or last_ctr <= 0
        self.last_ctr = 0 if lost else last_ctr
        self.floor = 0                # the boot floor (0: none, or not yet known)
        self._lost = lost
        self._settled = False         # the counter was checked against a known clock
        self._boot_ms = now_ms
        self.save_ctr = save_ctr      # f(ctr): persist (journal.save_value("cmd_ctr", ctr))
        self.window_s = window_s
        self.log = log or (lambda *a: None)
        self.accepted = 0
        self.rejected = 0
        if now_unix is not None:
            self._settle(now_unix, now_ms)

    def _settle(self, now_unix, now_ms):
        """Once, when the wall clock is first known: check the saved counter against it and set
        the boot floor if the counter was lost (module comment)."""
        self._settled = True
        boot = now_unix
        if self._boot_ms is not None and now_ms is not None:
            up = ticks_diff(now_ms, self._boot_ms)
            if 0 <= up < DAY_MS:          # ticks wrap (12.4 days on the ESP32): trust a day
                boot = now_unix - up // 1000
        ceiling = (now_unix + self.window_s) * 1000 + 999
        if self.last_ctr > ceiling:
            self.log("command counter %d is ahead of the clock: treated as lost" % self.last_ctr)
            self.last_ctr = 0
            self._lost = True
        if self._lost:
            self.floor = (boot + self.window_s) * 1000 + 999
            self.log("command counter lost: remote commands wait until %d" % (
                boot + self.window_s + 1))

    def verify(self, payload, now_unix, now_ms):
        """bytes -> Command, or raise Rejected. now_unix: the controller's wall clock in Unix
        seconds (None while the clock is not set); now_ms: ticks for the Authenticator."""
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise Rejected("malformed")
        if len(payload) > MAX_PAYLOAD:
            raise Rejected("too_large")
        if not _shape_ok(payload):
            raise Rejected("malformed")
        try:
            d = frame.parse(payload)
        except frame.FrameError:
            raise Rejected("malformed")
        if not _keys_ok(d):
            raise Rejected("malformed")
        ctr = d.get("ctr")
        name = d.get("cmd")
        ts = d.get("ts")
        if not _int(ctr) or not isinstance(name, str) or not _int(ts) or d.get("v") != frame.V \
                or not -MAX_CTR < ctr < MAX_CTR or not -MAX_CTR < ts < MAX_CTR:
            raise Rejected("malformed", ctr if _int(ctr) and -MAX_CTR < ctr < MAX_CTR else None)
        if d.get("site") != self.site:
            raise Rejected("wrong_site", ctr, name)
        try:
            frame.verify(self.key, d)
        except frame.FrameError as e:
            reason = str(e)
            raise Rejected(reason if reason in ("missing_mac", "bad_mac") else "malformed",
                           ctr, name)
        if "code" in d:
            raise Rejected("code_in_clear", ctr, name)
        if now_unix is None:
            raise Rejected("clock_unset", ctr, name)
        if not self._settled:
            self._settle(now_unix, now_ms)
        if ts - now_unix > self.window_s or now_unix - ts > self.window_s:
            raise Rejected("stale", ctr, name)
        if ctr // 1000 != ts:
            raise Rejected("bad_counter", ctr, name)
        if ctr <= self.last_ctr:
            raise Rejected("replay", ctr, name)
        if ctr <= self.floor:
            raise Rejected("boot_wait", ctr, name)
        self.last_ctr = ctr
        if self.save_ctr:
            self.save_ctr(ctr)
        spec = COMMANDS.get(name)
        if spec is None:
            raise Rejected("unknown_command", ctr, name)
        args = _args(name, d.get("args", {}))
        if args is None:
            raise Rejected("bad_args", ctr, name)
        user = None
        if spec:
            sealed = d.get("sealed_code")
            if sealed is None or sealed == "":
                raise Rejected("missing_code", ctr, name)
            code = open_code(self.key, self.site, ctr, sealed, self._ckey)
            if code is None:
                raise Rejected("bad_code", ctr, name)
            if self.auth is None:
                raise Rejected("wrong_code", ctr, name)
            user = self.auth.check_code(code, now_ms)
            if user is None:
                raise Rejected("locked_out" if self.auth.outcome == "locked" else "wrong_code",
                               ctr, name)
        return Command(name, args, ctr, ts, user)

    def handle(self, payload, now_unix, now_ms):
        """verify() plus the signed reply for the ack topic: (Command or None, reply bytes).
        Never raises for any input: whatever goes wrong is answered `malformed`."""
        try:
            cmd = self.verify(payload, now_unix, now_ms)
        except Rejected as r:
            return None, self._refuse(payload, r.reason, r.ctr, r.cmd)
        except Exception as e:  # noqa: BLE001 - no input may escape the handler
            return None, self._refuse(payload, "malformed", None, None, type(e).__name__)
        self.accepted += 1
        self.log("command accepted: %s ctr=%d" % (cmd.name, cmd.ctr))
        return cmd, frame.result_frame(self.key, self.site, cmd.ctr, cmd.name, True, "accepted")

    def _refuse(self, payload, reason, ctr, name, error=None):
        self.rejected += 1
        if not (_int(ctr) and -MAX_CTR < ctr < MAX_CTR):
            ctr = None
        if not isinstance(name, str) or name not in COMMANDS:   # echo only our own names: never odd text into a frame
            name = None
        try:
            self.log("command rejected: %s%s (ctr=%s cmd=%s) %s" % (
                reason, " (%s)" % error if error else "", ctr, name, _head(payload)))
        except Exception:  # noqa: BLE001 - a log sink that fails must not lose the reply
            pass
        return frame.result_frame(self.key, self.site, ctr, name, False, reason)


def _head(payload):
    """A rejected payload for the log: its size and its first LOG_HEAD bytes, printable; withheld
    when it holds a plain code (secrets never in logs)."""
    try:
        b = bytes(payload[:MAX_PAYLOAD + 1])
    except Exception:  # noqa: BLE001 - not bytes at all
        return "(not bytes)"
    n = len(payload)
    if b'"code"' in b:
        return "%d bytes (withheld: it holds a code)" % n
    return "%d bytes: %s%s" % (n, _printable(b[:LOG_HEAD]), "..." if n > LOG_HEAD else "")


def command_frame(key, site, ctr, ts, name, args=None, code=None, nonce=None):
    """The centre's side (tools/receiver.py and tests): a signed command frame's bytes. ctr must
    be the command's time in ms (ts = ctr // 1000); a code is sealed, never sent in clear."""
    d = {"v": frame.V, "site": site, "ctr": ctr, "ts": ts, "cmd": name, "args": args or {}}
    if code is not None:
        if nonce is None:
            nonce = _nonce()
        d["sealed_code"] = seal_code(key, site, ctr, code, nonce)
    return frame.sign(key, d)
