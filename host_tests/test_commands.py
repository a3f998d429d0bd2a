# Remote commands: only a frame signed with the site key, fresh, with a counter above the last
# accepted one (the command's time in ms), for a known command with valid arguments (and, for
# arm/disarm, a good user code, sealed for the controller) becomes a Command. Everything else is
# rejected with its reason in a signed reply; nothing raises, whatever the bytes. Runs on CPython
# and on the real MicroPython interpreter.
import sys

from mimamori.core import auth as A
from mimamori.core import commands as C
from mimamori.proto import frame as F

RUNS_ON_MICROPYTHON = True

ON_MICROPYTHON = sys.implementation.name == "micropython"
KEY = F.site_key("00112233445566778899aabbccddeeff" * 2)
SITE = "site-001"
NOW = 1795000000
T0 = NOW * 1000          # a counter is the command's time in ms: ctr // 1000 == ts
REASONS = ("malformed", "too_large", "wrong_site", "missing_mac", "bad_mac", "code_in_clear",
           "clock_unset", "stale", "bad_counter", "boot_wait", "replay", "unknown_command",
           "bad_args", "missing_code", "bad_code", "wrong_code", "locked_out")
# signed on CPython by the centre's code (tools/receiver.py uses command_frame too); the code
# 1234 is sealed under ctr 1795000000007 and the nonce 0001020304050607
VECTOR = (b'{"args":{"mode":"away"},"cmd":"arm","ctr":1795000000007,"mac":"4a996cf5f551e40475b'
          b'e95e5fdd847573b6bd09f598c7f94fdf66248fbb7c00d","sealed_code":"0001020304050607'
          b'92f0cee8c3e56cafd7422f02f740089b","site":"site-001","ts":1795000000,"v":1}')


def _auth():
    secrets = {"users": [{"id": 1, "name": "父", "role": "admin",
                          "code": A.make_entry("code", "1234", b"salt-one", 3)},
                         {"id": 2, "name": "母", "role": "user",
                          "code": A.make_entry("code", "9876", b"salt-two", 3)}],
               "cards": [{"id": 5, "user": 2, "uid": A.make_entry("card", "04A1B2C3", b"s5", 3)}]}
    return A.Authenticator(secrets, 0)


def _verifier(last=T0 - 60000, logs=None):
    """A controller that took a command a minute before NOW (its counter file is intact)."""
    saved = []
    v = C.CommandVerifier(KEY, SITE, _auth(), last_ctr=last, save_ctr=saved.append,
                          log=logs.append if logs is not None else None)
    return v, saved


def _f(n, name, args=None, code=None, ts=NOW, key=KEY, site=SITE):
    """The centre's frame with counter number n of second `ts`."""
    return C.command_frame(key, site, ts * 1000 + n, ts, name, args, code)


def _reply(b):
    d = F.parse(b)
    F.verify(KEY, d)
    assert d["type"] == "result" and d["site"] == SITE
    return d


def _reason(v, payload, now=NOW, ms=0):
    cmd, reply = v.handle(payload, now, ms)
    assert cmd is None, cmd
    return _reply(reply)["reason"]


def test_the_centre_vector_arms_away():
    v, saved = _verifier()
    cmd, reply = v.handle(VECTOR, NOW + 30, 1000)
    assert cmd.name == "arm" and cmd.args == {"mode": "away"} and cmd.ctr == T0 + 7
    assert cmd.user["name"] == "父" and cmd.label == "遠隔セット(外出)"
    assert saved == [T0 + 7]
    r = _reply(reply)
    assert (r["ok"], r["reason"], r["ctr"], r["cmd"]) == (True, "accepted", T0 + 7, "arm")


def test_every_command_and_its_arguments():
    v, saved = _verifier()
    ok = [("disarm", {}, "9876"), ("status", {}, None), ("test", {}, None),
          ("shirasete", {"message": "お薬の時間です"}, None), ("shirasete", {}, None),
          ("set_departure", {"time": "07:45"}, None), ("set_departure", {"time": None}, None),
          ("revoke_card", {"card": 5}, None), ("arm", {"mode": "stay"}, "1234"),
          ("arm", {"mode": "partial"}, "9876")]
    for i, (name, args, code) in enumerate(ok):
        cmd, reply = v.handle(_f(10 + i, name, args, code), NOW, 0)
        assert cmd is not None and cmd.name == name, (name, _reply(reply))
    assert cmd.user["name"] == "母"
    assert saved == [T0 + 10 + i for i in range(len(ok))]


def test_forged_malformed_and_unknown_are_rejected_with_reasons():
    v, saved = _verifier()
    good = _f(3, "status")
    assert _reason(v, b"not json") == "malformed"
    assert _reason(v, b"[1,2]") == "malformed"
    assert _reason(v, b"\xff\xfe{") == "malformed"
    assert _reason(v, b'{"v":1,"site":"site-001","ctr":"3","ts":1,"cmd":"status"}') == "malformed"
    assert _reason(v, good.replace(b'"mac":', b'"mac_":')) == "missing_mac"
    assert _reason(v, good.replace(b'"status"', b'"disarm"')) == "bad_mac"
    other = F.site_key("ab" * 32)
    assert _reason(v, _f(3, "status", key=other)) == "bad_mac"
    assert _reason(v, _f(3, "status", site="site-002")) == "wrong_site"
    assert saved == []            # nothing unauthenticated moved the counter
    assert _reason(v, _f(4, "self_destruct")) == "unknown_command"
    assert _reason(v, _f(5, "arm", {"mode": "vacation"}, "1234")) == "bad_args"
    assert _reason(v, _f(6, "set_departure", {"time": "25:00"})) == "bad_args"
    assert _reason(v, _f(7, "disarm")) == "missing_code"
    assert v.rejected == 12 and v.accepted == 0


def test_stale_and_replayed_frames_are_rejected():
    v, saved = _verifier()
    assert _reason(v, _f(1, "status", ts=NOW - 121)) == "stale"
    assert _reason(v, _f(2, "status", ts=NOW + 121)) == "stale"
    assert _reason(v, _f(3, "status"), now=None) == "clock_unset"
    assert _reason(v, _f(0, "status", ts=NOW - 60)) == "replay"     # the last accepted one
    f = _f(4, "status", ts=NOW + 100)
    cmd, _ = v.handle(f, NOW, 0)
    assert cmd is not None
    assert _reason(v, f) == "replay"            # the same frame twice
    assert _reason(v, _f(4, "test", ts=NOW + 100)) == "replay"
    assert saved == [(NOW + 100) * 1000 + 4]
    # after a reboot the persisted counter still stops the replay
    v2 = C.CommandVerifier(KEY, SITE, _auth(), last_ctr=saved[-1], now_unix=NOW + 1, now_ms=0)
    assert _reason(v2, f, now=NOW + 1) == "replay"


def test_wrong_codes_count_towards_lockout_and_frames_are_single_use():
    v, saved = _verifier()
    ms = 1000
    for i in range(A.MAX_FAILURES):
        f = _f(20 + i, "disarm", {}, "0000")
        assert _reason(v, f, ms=ms) == "wrong_code"
        assert _reason(v, f, ms=ms) == "replay"      # a captured wrong frame cannot be replayed
        ms += 1000
    assert v.auth.locked(ms)
    # even the right code is refused while the lockout runs
    assert _reason(v, _f(40, "disarm", {}, "1234"), ms=ms) == "locked_out"
    ms += A.LOCKOUT_MS + 1
    cmd, _ = v.handle(_f(41, "disarm", {}, "1234"), NOW, ms)
    assert cmd.name == "disarm" and cmd.user["id"] == 1


# ---- the counter is the command's time in ms; a lost counter file cannot open a replay --------

def test_the_counter_must_be_the_commands_time_in_ms():
    v, saved = _verifier()
    assert _reason(v, C.command_frame(KEY, SITE, T0 + 1000, NOW, "status")) == "bad_counter"
    assert _reason(v, C.command_frame(KEY, SITE, 17, NOW, "status")) == "bad_counter"
    assert _reason(v, C.command_frame(KEY, SITE, -T0, -NOW, "status")) == "stale"
    assert saved == []
    cmd, _ = v.handle(C.command_frame(KEY, SITE, T0 + 999, NOW, "status"), NOW, 0)
    assert cmd is not None and saved == [T0 + 999]


def test_a_lost_counter_file_does_not_let_a_captured_command_replay():
    v, saved = _verifier()
    captured = _f(5, "disarm", {}, "1234")
    assert v.handle(captured, NOW, 0)[0] is not None
    # The counter file is lost (wiped board, both copies damaged); the board is back 30 s later,
    # well within the frame's +-120 s window.
    boot = NOW + 30
    v2 = C.CommandVerifier(KEY, SITE, _auth(), last_ctr=0, now_unix=boot, now_ms=50000)
    assert _reason(v2, captured, now=boot + 1, ms=51000) == "boot_wait"
    # Nothing dated before boot + the window is taken: a fresh command waits for it too ...
    assert _reason(v2, _f(0, "status", ts=boot + 60), now=boot + 60, ms=110000) == "boot_wait"
    # ... and after it everything works again.
    cmd, _ = v2.handle(_f(0, "status", ts=boot + 121), boot + 121, 171000)
    assert cmd is not None
    assert _reason(v2, captured, now=boot + 121) == "stale"


def test_a_lost_counter_with_the_clock_also_lost_takes_the_floor_from_the_boot_time():
    v, _ = _verifier()
    captured = _f(5, "status")
    assert v.handle(captured, NOW, 0)[0] is not None
    # Power cut: RTC and counter gone. The clock comes back 20 s after the boot (the centre's
    # signed ack); the floor is still the boot time (ticks since boot) + the window.
    v2 = C.CommandVerifier(KEY, SITE, _auth(), last_ctr=None, now_unix=None, now_ms=7000)
    assert _reason(v2, captured, now=None, ms=8000) == "clock_unset"
    boot = NOW + 10
    assert _reason(v2, captured, now=boot + 20, ms=27000) == "boot_wait"
    assert _reason(v2, _f(9, "status", ts=boot + 100), now=boot + 100, ms=107000) == "boot_wait"
    cmd, _ = v2.handle(_f(9, "status", ts=boot + 121), boot + 121, 128000)
    assert cmd is not None


def test_a_saved_counter_from_the_future_does_not_freeze_commands():
    # A counter far ahead of the clock cannot come from a frame this controller accepted
    # (ctr // 1000 == ts, ts within the window): damage, or a huge counter signed before this
    # rule. It is replaced by the boot floor instead of refusing every command forever.
    logs = []
    v = C.CommandVerifier(KEY, SITE, _auth(), last_ctr=10 ** 30, now_unix=NOW, now_ms=0,
                          log=logs.append)
    assert _reason(v, _f(1, "status", ts=NOW + 60), now=NOW + 60) == "boot_wait"
    cmd, _ = v.handle(_f(1, "status", ts=NOW + 121), NOW + 121, 121000)
    assert cmd is not None
    assert [m for m in logs if "ahead of the clock" in m]


def test_a_signed_3800_digit_counter_is_refused_and_does_not_freeze_commands():
    v, saved = _verifier()
    huge = 10 ** 3800 + 7
    d = {"v": 1, "site": SITE, "ctr": huge, "ts": NOW, "cmd": "status", "args": {}}
    assert _reason(v, F.sign(KEY, d)) == "too_large"
    d = {"v": 1, "site": SITE, "ctr": huge, "ts": huge // 1000, "cmd": "status", "args": {}}
    assert _reason(v, F.sign(KEY, d)) == "too_large"
    d = {"v": 1, "site": SITE, "ctr": 10 ** 700 + 7, "ts": NOW, "cmd": "status", "args": {}}
    assert _reason(v, F.sign(KEY, d)) == "malformed"     # under the size bound: its digits
    d = {"v": 1, "site": SITE, "ctr": 10 ** 16 + 7, "ts": 10 ** 13, "cmd": "status", "args": {}}
    assert _reason(v, F.sign(KEY, d)) == "malformed"
    assert saved == []
    cmd, _ = v.handle(_f(1, "status"), NOW, 0)
    assert cmd is not None and saved == [T0 + 1]


# ---- the resident's code never travels in clear -----------------------------------------------

def test_the_code_travels_sealed_and_a_plain_code_is_refused():
    v, saved = _verifier()
    f = _f(1, "disarm", {}, "1234")
    assert b"1234" not in f and b'"code"' not in f
    assert _f(1, "disarm", {}, "1234") != f          # a fresh nonce every time
    assert _f(2, "disarm", {}, "12345678")[:60] != f[:60]
    cmd, _ = v.handle(f, NOW, 0)
    assert cmd.user["id"] == 1
    # the old form, the code in clear, signed or not: refused with a reason, no code checked
    d = {"v": 1, "site": SITE, "ctr": T0 + 3, "ts": NOW, "cmd": "disarm", "args": {},
         "code": "1234"}
    assert _reason(v, F.sign(KEY, d)) == "code_in_clear"
    assert v.auth.failures == 0 and saved == [T0 + 1]
    # a sealed code opens only under its own frame's counter: moved to another frame it is junk
    sealed = F.parse(_f(4, "disarm", {}, "1234"))["sealed_code"]
    d = {"v": 1, "site": SITE, "ctr": T0 + 5, "ts": NOW, "cmd": "disarm", "args": {},
         "sealed_code": sealed}
    assert _reason(v, F.sign(KEY, d)) in ("bad_code", "wrong_code")
    d["ctr"] = T0 + 6
    d["sealed_code"] = "zz" * 24
    del d["mac"]
    assert _reason(v, F.sign(KEY, d)) == "bad_code"


def test_sealing_is_the_same_on_both_runtimes():
    # the vector above was sealed on CPython; open it here
    d = F.parse(VECTOR)
    assert C.open_code(KEY, SITE, d["ctr"], d["sealed_code"]) == "1234"
    assert C.seal_code(KEY, SITE, d["ctr"], "1234", bytes(range(8))) == d["sealed_code"]


# ---- hostile input: one signed reply each, nothing raises, the next command still works -------

if ON_MICROPYTHON:
    REPLIES = 700
else:
    import os
    REPLIES = int(os.environ.get("MIMAMORI_CMD_FUZZ", "4000"))   # a soak sets 20000 or more


class _Rand:
    """A small deterministic generator (the same sequence on both runtimes)."""

    def __init__(self, seed):
        self.s = seed

    def next(self, n):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.s >> 8) % n

    def bytes(self, n, alphabet=None):
        if alphabet is None:
            return bytes([self.next(256) for _ in range(n)])
        return bytes([alphabet[self.next(len(alphabet))] for _ in range(n)])


JSONISH = b'{}[]":,-.0123456789eEtruefalsnul\\u d8DC x'


def _oddities():
    """Hand-made hostile frames, some validly signed."""
    out = [b"", b"{}", b"null", b"\x00" * 10, b"{" * 5000, b"[" * 100000,
           b'{"args":' + b"[" * 3000 + b"]" * 3000 + b"}",
           b'{"v":1,"site":"site-001",1:2}', b'{1:2}', b'{"args":{1:"x"}}',
           b'{"cmd":"\\ud800","site":"site-001","v":1,"ctr":1,"ts":1,"mac":"00"}',
           b'{"site":"\\udfff"}', b'{"cmd":"\\ud83d\\ude00"}',
           b'{"v":1,"site":"site-001","ctr":' + b"9" * 3800 + b',"ts":1795000000}',
           b'{"ts":' + b"1" * 20000 + b"}", b'{"ctr":1e999999,"ts":-1e999999}',
           b'{"ctr":NaN,"ts":Infinity}', b'{"v":1.0}', b"x" * 5000,
           b'{"v":1,"site":"site-001","cmd":"status"}' + b" " * 3000]
    base = {"v": 1, "site": SITE, "ctr": T0 + 1, "ts": NOW, "cmd": "disarm", "args": {}}
    odd_values = [None, True, False, 0, -1, 2 ** 63, -2 ** 63, 10 ** 40, "", "x" * 900, [],
                  {}, [[[[1]]]], {"a": {"b": {"c": {}}}}, {"mode": "away", "x": [1, 2]},
                  "\u3042" * 300, "\x00\x01\x1f"]
    for field in ("v", "site", "ctr", "ts", "cmd", "args", "sealed_code", "code", "extra"):
        for value in odd_values:
            d = dict(base)
            d[field] = value
            try:
                out.append(F.sign(KEY, d))
            except F.FrameError:
                pass
    return out


def _hostile(n):
    r = _Rand(20261201)
    good = _f(1, "disarm", {}, "1234")
    odd = _oddities()
    out = list(odd)
    while len(out) < n:
        k = r.next(4)
        if k == 0:
            out.append(r.bytes(r.next(300)))
        elif k == 1:
            out.append(b"{" + r.bytes(r.next(200), JSONISH) + b"}")
        elif k == 2:
            b = good
            for _ in range(1 + r.next(4)):
                if not b:
                    break
                i = r.next(len(b))
                op = r.next(4)
                if op == 0:
                    b = b[:i] + bytes([r.next(256)]) + b[i + 1:]
                elif op == 1:
                    b = b[:i] + b[i + 1:]
                elif op == 2:
                    b = b[:i] + r.bytes(1 + r.next(8), JSONISH) + b[i:]
                else:
                    b = b[:i]
            out.append(b)
        else:
            src = odd[r.next(len(odd))]
            cut = r.next(len(src) + 1)
            out.append(src[:cut] + r.bytes(r.next(10), JSONISH) + src[cut:])
    return out


def test_hostile_payloads_each_get_one_signed_reply_and_never_raise():
    v, saved = _verifier()
    first = _f(1, "disarm", {}, "1234")
    assert v.handle(first, NOW, 0)[0] is not None     # its mutations can only be replays
    payloads = _hostile(REPLIES)
    ms = 0
    for p in payloads:
        ms += 10
        cmd, reply = v.handle(p, NOW, ms)   # raises nothing: a crash here fails the test
        assert cmd is None, p[:80]
        d = _reply(reply)
        assert d["ok"] is False and d["reason"] in REASONS, (p[:80], d)
        assert d["ctr"] is None or (isinstance(d["ctr"], int) and len(str(d["ctr"])) <= 16)
    assert v.rejected == len(payloads) and v.auth.failures == 0
    assert saved == [T0 + 1]
    # a valid command afterwards still works
    cmd, reply = v.handle(_f(2, "arm", {"mode": "away"}, "9876"), NOW, ms + 10)
    assert cmd is not None and cmd.user["id"] == 2 and _reply(reply)["ok"] is True


def test_the_bounds_are_checked_before_parsing():
    v, _ = _verifier()
    assert _reason(v, b'{"v":1}' + b" " * 2000) == "too_large"
    assert _reason(v, b'{"ctr":' + b"9" * 3800 + b"}") == "too_large"
    assert _reason(v, b'{"ctr":' + b"9" * 900 + b"}") == "malformed"
    assert _reason(v, b'{"ctr":' + b"9" * 17 + b"}") == "malformed"
    assert _reason(v, b'{"a":' * 50 + b"1" + b"}" * 50) == "malformed"
    for p in (b'{"v":1,"site":"site-001",1:2}', b'{"cmd":"\\ud800"}', b'{"cmd":"\\uDBFF"}'):
        assert _reason(v, p) == "malformed", p


def test_a_rejected_command_is_logged_truncated_and_never_with_a_code():
    logs = []
    v, _ = _verifier(logs=logs)
    junk = b'{"cmd":"' + b"A" * 900 + b'"}'
    _reason(v, junk)
    line = logs[-1]
    assert "malformed" in line and "AAAA" in line and len(line) < 200, line
    d = {"v": 1, "site": SITE, "ctr": T0 + 3, "ts": NOW, "cmd": "disarm", "args": {},
         "code": "987654"}
    _reason(v, F.sign(KEY, d))
    assert "code_in_clear" in logs[-1] and "987654" not in logs[-1]
    _reason(v, _f(4, "disarm", {}, "0000"))
    assert "wrong_code" in logs[-1]
    assert not [m for m in logs if "987654" in m or "0000\"" in m]
