# Event, ack and result frames: canonical bytes and HMAC identical on CPython and MicroPython.
# The vectors below were computed once on CPython (hmac module as the judge); this file runs on
# both runtimes, so each side reproduces them byte for byte and verifies the other's.
from check import raises

from mimamori.core import events as E
from mimamori.proto import frame as F

RUNS_ON_MICROPYTHON = True

KEY_HEX = "00112233445566778899aabbccddeeff" * 2
SITE = "site-001"
CANON = ('{"cid":"1111","kind":"alarm","label":"火災(煙)","mode":"away","seq":42,'
         '"service":{"code":"B","label":"火災"},"site":"site-001","ts":"2026-11-22T12:50:00+09:00",'
         '"up":3600,"urgent":true,"user":0,"v":1,"zone":3,"zone_name":"台所 \\"北\\"\\u000a"}')
MAC = "92a65fb3c0ba2c68c4a58627b1929b18d61b52dc80fb9da812e5f1efb159a1f7"
# The report reference of the CANON frame: sha256(CANON bytes), first 16 bytes, hex.
REF = "f0abd0ce752d3f82e7fb43ac6ac9c4ef"
ACK = (b'{"mac":"f3343acf5bd179e203b3fb9861fe7fdd9da69018bbd04c7b03a5da255d8afe0d",'
       b'"ref":"f0abd0ce752d3f82e7fb43ac6ac9c4ef","seq":42,"site":"site-001","t":1795317000,'
       b'"type":"ack","v":1}')
# The same event with an epoch and a base (hmac module as the judge), and its ref: base and mac
# are left out of the ref, the epoch is in it.
CANON_EPOCH = CANON.replace('"cid"', '"base":42,"cid"').replace(
    '"kind"', '"epoch":"0a1b2c3d","kind"')
MAC_EPOCH = "489fea289b6472334716dd5ffc1b8dc91d1085469ab7d94520d2a5f74dcf9cb4"
REF_EPOCH = "11cf8a3a77de40c1f52108c67a02a416"


def _event():
    ev = E.Event(1234, E.ALARM, E.CID_SMOKE, E.Q_NEW, zone=3, user=0, zone_name='台所 "北"\n',
                 mode="away")
    ev.seq = 42
    ev.wall = "2026-11-22T12:50:00+09:00"
    return ev


def test_canonical_bytes_and_mac_match_the_vector():
    key = F.site_key(KEY_HEX)
    d = F.event_dict(SITE, _event(), 3600)
    assert F.canonical(d) == CANON.encode()
    assert F.mac_of(key, d) == MAC
    b = F.event_frame(key, SITE, _event(), 3600)
    assert F.verify_event(key, b, SITE)["mac"] == MAC and b"\"mac\":\"" + MAC.encode() in b


def test_hmac_matches_rfc4231_case_2():
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    m = F.hmac_sha256(b"Jefe", b"what do ya want for nothing?")
    assert F.hexlify(m).decode() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_verify_the_vector_and_reject_tampering():
    key = F.site_key(KEY_HEX)
    payload = F.event_frame(key, SITE, _event(), 3600)
    d = F.verify_event(key, payload, SITE)
    assert d["seq"] == 42 and d["zone_name"] == '台所 "北"\n' and d["service"]["label"] == "火災"
    assert d["cid"] == "1111" and d["urgent"] is True
    tampered = payload.replace(b'"zone":3', b'"zone":4')
    with raises(F.FrameError, "bad_mac"):
        F.verify_event(key, tampered, SITE)
    with raises(F.FrameError, "bad_mac"):
        F.verify_event(F.site_key("ff" * 32), payload, SITE)
    with raises(F.FrameError, "missing_mac"):
        F.verify_event(key, F.canonical(F.event_dict(SITE, _event(), 3600)), SITE)
    with raises(F.FrameError, "malformed"):
        F.verify_event(key, b'{"seq": 4', SITE)
    with raises(F.FrameError, "malformed"):
        F.verify_event(key, b"\xff\xfe", SITE)
    with raises(F.FrameError, "bad_fields"):
        F.verify_event(key, payload, "other-site")
    d = F.event_dict(SITE, _event(), 3600)
    d["seq"] = True                                 # a bool is not a seq
    with raises(F.FrameError, "bad_fields"):
        F.verify_event(key, F.sign(key, d), SITE)
    with raises(F.FrameError, "malformed"):         # nesting too deep for the parser
        F.verify_event(key, b"[" * 100000, SITE)


def test_ack_frame_vector_and_verification():
    key = F.site_key(KEY_HEX)
    assert F.ack_frame(key, SITE, 42, REF, 1795317000) == ACK
    assert F.verify_ack(key, SITE, ACK) == 42
    assert F.verify_ack_ref(key, SITE, ACK) == (42, REF, 1795317000)
    assert F.verify_ack_time(key, SITE, ACK) == (42, 1795317000)
    with raises(F.FrameError, "bad_mac"):
        F.verify_ack(key, SITE, ACK.replace(b'"seq":42', b'"seq":43'))
    with raises(F.FrameError, "bad_fields"):
        F.verify_ack(key, "site-002", ACK)
    res = F.result_frame(key, SITE, 7, "arm", False, "wrong_code")
    with raises(F.FrameError, "not_ack"):
        F.verify_ack(key, SITE, res)


def test_an_ack_names_the_exact_report():
    # An ack binds to one report: its ref is the hash of the event frame without mac and base
    # (base changes between resends of the same report).
    key = F.site_key(KEY_HEX)
    d = F.event_dict(SITE, _event(), 3600)
    assert F.report_ref(d) == REF == F.event_ref(SITE, _event(), 3600)
    d2 = F.event_dict(SITE, _event(), 3600, 42, "0a1b2c3d")
    assert F.canonical(d2) == CANON_EPOCH.encode() and F.mac_of(key, d2) == MAC_EPOCH
    assert F.report_ref(d2) == REF_EPOCH == F.event_ref(SITE, _event(), 3600, "0a1b2c3d")
    sent = F.parse(F.event_frame(key, SITE, _event(), 3600, 40, "0a1b2c3d"))
    assert F.report_ref(sent) == REF_EPOCH          # the resend with another base: same report
    other = _event()
    other.wall = "2026-11-23T03:10:00+09:00"        # the same seq, another report
    assert F.event_ref(SITE, other, 3600, "0a1b2c3d") != REF_EPOCH
    # an ack without a ref (the format before acks named their report) confirms nothing
    old = F.sign(key, {"type": "ack", "v": 1, "site": SITE, "seq": 42, "t": 1795317000})
    with raises(F.FrameError, "missing_ref"):
        F.verify_ack_ref(key, SITE, old)
    for bad in ("F0ABD0CE752D3F82E7FB43AC6AC9C4EF", "f0ab", 7, ["x"]):
        with raises(F.FrameError, "bad_fields"):
            F.verify_ack_ref(key, SITE, F.sign(key, {"type": "ack", "v": 1, "site": SITE,
                                                     "seq": 42, "ref": bad}))


def test_canonical_refuses_floats_and_sorts_nested_keys():
    with raises(F.FrameError, "bad_value"):
        F.canonical({"a": 1.5})
    assert F.canonical({"b": [1, None, False], "a": {"z": "x", "y": ""}, "mac": "x"}) == \
        b'{"a":{"y":"","z":"x"},"b":[1,null,false]}'
    assert F.canonical({"s": "\\\t\u3042"}) == '{"s":"\\\\\\u0009\u3042"}'.encode()


def test_restore_and_closing_cid_digits():
    ev = E.Event(1, E.CLOSING, E.CID_OPEN_CLOSE, E.Q_RESTORE, user=2, mode="away")
    assert F.cid_digits(ev) == "3401"
    ev = E.Event(1, E.RESTORE, E.CID_GAS, E.Q_RESTORE, zone=12)
    d = F.event_dict(SITE, ev, 0)
    assert d["cid"] == "3151" and d["label"] == "ガス漏れ 復旧" and d["service"]["code"] == "E"
