# Remote commands: only a frame signed with the site key, fresh, with a counter above the last
# accepted one, for a known command with valid arguments (and, for arm/disarm, a good user code)
# becomes a Command. Everything else is rejected with its reason in a signed reply; nothing
# raises. Runs on CPython and on the real MicroPython interpreter.
from mimamori.core import auth as A
from mimamori.core import commands as C
from mimamori.proto import frame as F

RUNS_ON_MICROPYTHON = True

KEY = F.site_key("00112233445566778899aabbccddeeff" * 2)
SITE = "site-001"
NOW = 1795000000
# signed on CPython by the centre's code (tools/receiver.py uses command_frame too)
VECTOR = (b'{"args":{"mode":"away"},"cmd":"arm","code":"1234","ctr":7,"mac":"192e2b3a9a47e1bf18f04'
          b'cd29cd0da081c706a6d899878f6909dd9a85ed08f1e","site":"site-001","ts":1795000000,"v":1}')


def _auth():
    secrets = {"users": [{"id": 1, "name": "父", "role": "admin",
                          "code": A.make_entry("code", "1234", b"salt-one", 3)},
                         {"id": 2, "name": "母", "role": "user",
                          "code": A.make_entry("code", "9876", b"salt-two", 3)}],
               "cards": [{"id": 5, "user": 2, "uid": A.make_entry("card", "04A1B2C3", b"s5", 3)}]}
    return A.Authenticator(secrets, 0)


def _verifier(last=0):
    saved = []
    v = C.CommandVerifier(KEY, SITE, _auth(), last_ctr=last, save_ctr=saved.append)
    return v, saved


def _reply(b):
    d = F.parse(b)
    F.verify(KEY, d)
    assert d["type"] == "result" and d["site"] == SITE
    return d


def test_the_centre_vector_arms_away():
    v, saved = _verifier()
    cmd, reply = v.handle(VECTOR, NOW + 30, 1000)
    assert cmd.name == "arm" and cmd.args == {"mode": "away"} and cmd.ctr == 7
    assert cmd.user["name"] == "父" and cmd.label == "遠隔セット(外出)"
    assert saved == [7]
    r = _reply(reply)
    assert (r["ok"], r["reason"], r["ctr"], r["cmd"]) == (True, "accepted", 7, "arm")


def test_every_command_and_its_arguments():
    v, saved = _verifier()
    ok = [("disarm", {}, "9876"), ("status", {}, None), ("test", {}, None),
          ("shirasete", {"message": "お薬の時間です"}, None), ("shirasete", {}, None),
          ("set_departure", {"time": "07:45"}, None), ("set_departure", {"time": None}, None),
          ("revoke_card", {"card": 5}, None), ("arm", {"mode": "stay"}, "1234"),
          ("arm", {"mode": "partial"}, "9876")]
    for i, (name, args, code) in enumerate(ok):
        cmd, reply = v.handle(C.command_frame(KEY, SITE, 10 + i, NOW, name, args, code), NOW, 0)
        assert cmd is not None and cmd.name == name, (name, _reply(reply))
    assert cmd.user["name"] == "母"
    assert saved == list(range(10, 10 + len(ok)))


def _reason(v, payload, now=NOW, ms=0):
    cmd, reply = v.handle(payload, now, ms)
    assert cmd is None
    return _reply(reply)["reason"]


def test_forged_malformed_and_unknown_are_rejected_with_reasons():
    v, saved = _verifier()
    good = C.command_frame(KEY, SITE, 3, NOW, "status")
    assert _reason(v, b"not json") == "malformed"
    assert _reason(v, b"[1,2]") == "malformed"
    assert _reason(v, b"\xff\xfe{") == "malformed"
    assert _reason(v, b'{"v":1,"site":"site-001","ctr":"3","ts":1,"cmd":"status"}') == "malformed"
    assert _reason(v, good.replace(b'"mac":', b'"mac_":')) == "missing_mac"
    assert _reason(v, good.replace(b'"status"', b'"disarm"')) == "bad_mac"
    other = F.site_key("ab" * 32)
    assert _reason(v, C.command_frame(other, SITE, 3, NOW, "status")) == "bad_mac"
    assert _reason(v, C.command_frame(KEY, "site-002", 3, NOW, "status")) == "wrong_site"
    assert saved == []            # nothing unauthenticated moved the counter
    assert _reason(v, C.command_frame(KEY, SITE, 4, NOW, "self_destruct")) == "unknown_command"
    assert _reason(v, C.command_frame(KEY, SITE, 5, NOW, "arm", {"mode": "vacation"}, "1234")) \
        == "bad_args"
    assert _reason(v, C.command_frame(KEY, SITE, 6, NOW, "set_departure", {"time": "25:00"})) \
        == "bad_args"
    assert _reason(v, C.command_frame(KEY, SITE, 7, NOW, "disarm")) == "missing_code"
    assert v.rejected == 12 and v.accepted == 0


def test_stale_and_replayed_frames_are_rejected():
    v, saved = _verifier(last=100)
    assert _reason(v, C.command_frame(KEY, SITE, 101, NOW - 121, "status")) == "stale"
    assert _reason(v, C.command_frame(KEY, SITE, 102, NOW + 121, "status")) == "stale"
    assert _reason(v, C.command_frame(KEY, SITE, 103, NOW, "status"), now=None) == "clock_unset"
    assert _reason(v, C.command_frame(KEY, SITE, 100, NOW, "status")) == "replay"
    f = C.command_frame(KEY, SITE, 104, NOW + 100, "status")
    cmd, _ = v.handle(f, NOW, 0)
    assert cmd is not None
    assert _reason(v, f) == "replay"            # the same frame twice
    assert _reason(v, C.command_frame(KEY, SITE, 104, NOW, "test")) == "replay"
    assert saved == [104]
    # after a reboot the persisted counter still stops the replay
    v2 = C.CommandVerifier(KEY, SITE, _auth(), last_ctr=saved[-1])
    assert _reason(v2, f) == "replay"


def test_wrong_codes_count_towards_lockout_and_frames_are_single_use():
    v, saved = _verifier()
    ms = 1000
    for i in range(A.MAX_FAILURES):
        f = C.command_frame(KEY, SITE, 20 + i, NOW, "disarm", {}, "0000")
        assert _reason(v, f, ms=ms) == "wrong_code"
        assert _reason(v, f, ms=ms) == "replay"      # a captured wrong frame cannot be replayed
        ms += 1000
    assert v.auth.locked(ms)
    # even the right code is refused while the lockout runs
    assert _reason(v, C.command_frame(KEY, SITE, 40, NOW, "disarm", {}, "1234"), ms=ms) \
        == "locked_out"
    ms += A.LOCKOUT_MS + 1
    cmd, _ = v.handle(C.command_frame(KEY, SITE, 41, NOW, "disarm", {}, "1234"), NOW, ms)
    assert cmd.name == "disarm" and cmd.user["id"] == 1
