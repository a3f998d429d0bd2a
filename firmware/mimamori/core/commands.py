# Remote commands from the monitoring centre (<prefix>/<site>/cmd), verified. Sans-I/O: bytes
# and times in, a validated Command (or a rejection with its reason) out; the caller persists
# the counter through `save_ctr` and publishes the signed reply on <prefix>/<site>/ack.
#
# Command frame (JSON, signed like every frame: proto/frame.py canonical bytes + HMAC-SHA256):
#   {"v": 1, "site": "<site id>", "ctr": <int>, "ts": <unix seconds>, "cmd": "<name>",
#    "args": {...}, "code": "<user code>" (arm/disarm only), "mac": "<hex>"}
#
# Checks, in order (the first failure is the reason): malformed (not JSON / not an object /
# fields of the wrong type), wrong_site, missing_mac, bad_mac, clock_unset, stale (ts outside
# +-window_s of our wall clock), replay (ctr not above the last accepted one), then the counter
# is persisted, so each signed frame works once whatever follows, and a captured frame with a
# wrong code cannot be replayed to lock a resident out; then unknown_command, bad_args,
# missing_code, wrong_code / locked_out (the Authenticator counts wrong codes towards lockout,
# as at the keypad: Coco-SECOM asks for the contract number and the 暗証番号 alike).
#
# Commands: arm {mode: away|stay|partial}, disarm, status, test, shirasete (しらせてコール: the
# app shows a prompt on the panel asking the resident to answer), set_departure {time: "HH:MM"
# or null}, revoke_card {card: <card id>}.
from mimamori.proto import frame

ARM_MODES = ("away", "stay", "partial")
# name -> (needs a user code, Japanese label for the panel and logs)
COMMANDS = {
    "arm": (True, "遠隔セット"),
    "disarm": (True, "遠隔解除"),
    "status": (False, "状態確認"),
    "test": (False, "通報試験"),
    "shirasete": (False, "しらせてコール"),
    "set_departure": (False, "外出予定時刻"),
    "revoke_card": (False, "カード無効化"),
}
MODE_LABELS = {"away": "外出", "stay": "在宅セット", "partial": "部分セット"}
WINDOW_S = 120
MAX_MESSAGE = 64


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
        base = COMMANDS[self.name][1]
        if self.name == "arm":
            return base + "(" + MODE_LABELS[self.args["mode"]] + ")"
        return base

    def __repr__(self):
        return "Command(%s %r ctr=%d)" % (self.name, self.args, self.ctr)


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


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
                 log=None):
        self.key = key
        self.site = site
        self.auth = auth              # core.auth.Authenticator
        self.last_ctr = last_ctr if _int(last_ctr) else 0
        self.save_ctr = save_ctr      # f(ctr): persist (journal.save_value("cmd_ctr", ctr))
        self.window_s = window_s
        self.log = log or (lambda *a: None)
        self.accepted = 0
        self.rejected = 0

    def verify(self, payload, now_unix, now_ms):
        """bytes -> Command, or raise Rejected. now_unix: the controller's wall clock in Unix
        seconds (None while the clock is not set); now_ms: ticks for the Authenticator."""
        try:
            d = frame.parse(payload)
        except frame.FrameError:
            raise Rejected("malformed")
        ctr = d.get("ctr")
        name = d.get("cmd")
        ts = d.get("ts")
        if not _int(ctr) or not isinstance(name, str) or not _int(ts) or d.get("v") != frame.V:
            raise Rejected("malformed", ctr if _int(ctr) else None)
        if d.get("site") != self.site:
            raise Rejected("wrong_site", ctr, name)
        try:
            frame.verify(self.key, d)
        except frame.FrameError as e:
            raise Rejected(str(e), ctr, name)
        if now_unix is None:
            raise Rejected("clock_unset", ctr, name)
        if ts - now_unix > self.window_s or now_unix - ts > self.window_s:
            raise Rejected("stale", ctr, name)
        if ctr <= self.last_ctr:
            raise Rejected("replay", ctr, name)
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
        if spec[0]:
            code = d.get("code")
            if not isinstance(code, str) or not code:
                raise Rejected("missing_code", ctr, name)
            if self.auth is None:
                raise Rejected("wrong_code", ctr, name)
            user = self.auth.check_code(code, now_ms)
            if user is None:
                raise Rejected("locked_out" if self.auth.outcome == "locked" else "wrong_code",
                               ctr, name)
        return Command(name, args, ctr, ts, user)

    def handle(self, payload, now_unix, now_ms):
        """verify() plus the signed reply for the ack topic: (Command or None, reply bytes).
        Never raises for any input."""
        try:
            cmd = self.verify(payload, now_unix, now_ms)
        except Rejected as r:
            self.rejected += 1
            self.log("command rejected: %s (ctr=%s cmd=%s)" % (r.reason, r.ctr, r.cmd))
            name = r.cmd if isinstance(r.cmd, str) and len(r.cmd) <= 32 else None
            return None, frame.result_frame(self.key, self.site, r.ctr, name, False, r.reason)
        self.accepted += 1
        self.log("command accepted: %s ctr=%d" % (cmd.name, cmd.ctr))
        return cmd, frame.result_frame(self.key, self.site, cmd.ctr, cmd.name, True, "accepted")


def command_frame(key, site, ctr, ts, name, args=None, code=None):
    """The centre's side (tools/receiver.py and tests): a signed command frame's bytes."""
    d = {"v": frame.V, "site": site, "ctr": ctr, "ts": ts, "cmd": name, "args": args or {}}
    if code is not None:
        d["code"] = code
    return frame.sign(key, d)
