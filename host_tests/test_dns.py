# DNS without stalling the loop: the query and answer codec (proto/dns.py) that comms/resolve.py
# sends over a non-blocking UDP socket, and the validator's warning about a host name in
# comms.mqtt.host. Runs on CPython and on the real MicroPython. (The link's behaviour with slow,
# dead and lying DNS servers is in test_mqtt.py.)
RUNS_ON_MICROPYTHON = True

import json

from mimamori.proto import dns
from mimamori.store.config import validate_config, warnings

BOARD = "boards/esp32-devkitc/"


def _json(name):
    with open(BOARD + name) as f:
        return json.loads(f.read())


def _raises(fn, *a):
    try:
        fn(*a)
    except dns.DnsError as e:
        return str(e)
    return None


def _response(q, rcode=0, answers=b"", an=0, qid=None):
    head = bytearray(q[:12])
    if qid is not None:
        head[0], head[1] = qid >> 8, qid & 0xFF
    head[2] = 0x81
    head[3] = 0x80 | rcode
    head[6], head[7] = 0, an
    return bytes(head) + q[12:] + answers


A = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xc0\xa8\x01\x0a"       # 192.168.1.10, 300 s
CNAME = b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x0c"


def test_an_ip_address_is_not_a_name():
    assert dns.is_ipv4("192.168.1.10") and dns.is_ipv4("127.0.0.1")
    for s in ("broker.example.jp", "192.168.1", "192.168.1.256", "1.2.3.4.5", "a.b.c.d", ""):
        assert not dns.is_ipv4(s), s


def test_the_query_asks_recursively_for_the_a_record():
    q = dns.query("broker.example.jp", 0x1234)
    assert q == (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                 b"\x06broker\x07example\x02jp\x00\x00\x01\x00\x01")
    assert _raises(dns.query, "a..b", 1) == "bad host name"
    assert _raises(dns.query, "x" * 64 + ".jp", 1) == "bad host name"


def test_the_answer_gives_the_address_and_its_ttl():
    q = dns.query("broker.example.jp", 7)
    assert dns.answer(_response(q, answers=A, an=1), 7) == ("192.168.1.10", 300)
    # a CNAME first, then the address (what a recursive server sends for an alias)
    assert dns.answer(_response(q, answers=CNAME + A, an=2), 7) == ("192.168.1.10", 300)


def test_another_querys_answer_is_ignored_and_failures_are_named():
    q = dns.query("broker.example.jp", 7)
    assert dns.answer(_response(q, answers=A, an=1, qid=8), 7) is None      # not ours
    assert dns.answer(q, 7) is None                                        # not a response
    assert _raises(dns.answer, _response(q, rcode=3), 7) == "no such host"
    assert _raises(dns.answer, _response(q, rcode=2), 7) == "server failure 2"
    assert _raises(dns.answer, _response(q), 7) == "no address for the host"
    assert _raises(dns.answer, _response(q, answers=A[:9], an=1), 7) == "truncated answer"


def test_the_validator_warns_about_a_host_name_but_accepts_it():
    cfg = _json("config.sample.json")
    cfg["comms"]["mqtt"]["host"] = "broker.example.jp"
    config = validate_config(cfg, _json("pins.json"))       # not an error: it boots
    got = warnings(config)
    assert len(got) == 1 and got[0].startswith("comms.mqtt.host: 'broker.example.jp' is a host "
                                               "name"), got
    cfg["comms"]["mqtt"]["host"] = "192.168.1.10"
    assert warnings(validate_config(cfg, _json("pins.json"))) == []
