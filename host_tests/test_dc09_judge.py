# The SIA DC-09 path judged by pysiaalarm (the library Home Assistant's SIA integration runs):
# its TCP and UDP servers, run here, must accept every report kind the controller sends, in the
# clear and encrypted (its own AES decryption, never ours), with a valid CRC and timestamp, and
# their ACK - only their ACK for that message - marks the report delivered. A NAK resynchronises
# our timestamp; a DUH, a bad answer or silence never marks anything delivered.
import time

import pytest
from pysiaalarm import SIAAccount
from pysiaalarm.event import SIAEvent

import cryptolib
from dc09_judge import Judge, Scripted, drive
import hostclock
from mimamori.comms.path_dc09 import Dc09Path, key_bytes
from mimamori.comms.resolve import Address
from mimamori.core import events as E
from mimamori.proto import contactid
from mimamori.proto import dc09 as D

ACCOUNT = "AB12"
TEXT_KEY = "0123456789ABCDEF"                        # HA: the 16 characters are the AES key
HEX_KEY = "000102030405060708090A0B0C0D0E0F"        # most receivers: 16 bytes written in hex


def every_report():
    """One event of every code the controller reports, with the kind and qualifier it uses."""
    out = []
    for cid in sorted(E.CATALOGUE):
        if cid in (E.CID_OPEN_CLOSE, E.CID_STAY_ARM, E.CID_PARTIAL_ARM):
            out.append(E.Event(0, E.CLOSING, cid, E.Q_RESTORE, user=2))
            out.append(E.Event(0, E.OPENING, cid, E.Q_NEW, user=2))
        elif cid == E.CID_CANCEL:
            out.append(E.Event(0, E.CANCEL, cid, E.Q_NEW, user=1))
        elif cid == E.CID_BYPASS:
            out.append(E.Event(0, E.BYPASS, cid, E.Q_NEW, zone=4))
        elif cid in (E.CID_MANUAL_TEST, E.CID_PERIODIC_TEST):
            out.append(E.Event(0, E.TEST, cid, E.Q_NEW, zone_name="dc09"))
        elif cid == E.CID_SYSTEM_RESET:
            out.append(E.Event(0, E.STATUS, cid, E.Q_NEW))
        elif cid < 300:
            out.append(E.Event(0, E.ALARM, cid, E.Q_NEW, zone=12))
            out.append(E.Event(0, E.RESTORE, cid, E.Q_RESTORE, zone=12))
        else:
            out.append(E.Event(0, E.TROUBLE, cid, E.Q_NEW, zone_name="mqtt"))
            out.append(E.Event(0, E.TROUBLE, cid, E.Q_PREVIOUS, zone_name="mqtt"))
    return out


class Journal:
    """What a path reads of the journal: get(seq) -> (event, up)."""

    def __init__(self, events):
        self.events = {}
        for i, e in enumerate(events):
            e.seq = i + 1
            self.events[e.seq] = e

    def get(self, seq):
        e = self.events.get(seq)
        return (e, 0) if e else None


def cfg(port, protocol="tcp", key=None, key_format="text", ping=0, receiver="0"):
    return {"enabled": True, "host": "127.0.0.1", "port": port, "protocol": protocol,
            "account": ACCOUNT, "key": key, "key_format": key_format, "receiver": receiver,
            "prefix": "0", "ping_interval_s": ping, "ack_deadline_s": 30}


def make_path(events, port, protocol="tcp", key=None, key_format="text", wall=None, ping=0,
              logs=None):
    hostclock.use_virtual(0)
    p = Dc09Path(Journal(events), cfg(port, protocol, key, key_format, ping),
                 wall or (lambda: int(time.time())), cryptolib.aes,
                 log=(logs.append if logs is not None else None),
                 rand=lambda n: bytes((i * 37 + 11) & 0xFF for i in range(n)))
    p.got = []
    p.on_delivered = lambda path, seq, now: p.got.append(seq)
    for e in events:
        p.offer(e.seq)
    return p


def test_pysiaalarm_parses_every_report_kind_in_the_clear_and_encrypted():
    now = int(time.time())
    acc = {ACCOUNT: SIAAccount(ACCOUNT, None)}
    enc = {ACCOUNT: SIAAccount(ACCOUNT, TEXT_KEY)}
    reports = every_report()
    for i, e in enumerate(reports):
        data = D.from_event(e, ACCOUNT)
        for key, accounts in ((None, acc), (TEXT_KEY, enc)):
            m = D.message(D.ADM_CID, i + 1, ACCOUNT, data, "0", "0", now, cryptolib.aes, key,
                          "Zq" * 8)
            ev = SIAEvent.from_line(m.decode().strip("\n\r"), accounts)
            assert ev.valid_message, (m, ev.msg_crc, ev.calc_crc)     # its CRC is ours
            # 0LLL: hex length of the body (pysiaalarm's own valid_length reads it as decimal
            # and never runs in its servers; checked here directly)
            assert int(ev.length, 16) == len(ev.full_message) and ev.valid_timestamp
            assert ev.encrypted is (key is not None)
            assert ev.response.value == "ACK", (m, ev)
            assert (ev.event_qualifier, ev.event_type, ev.partition, ev.account) == (
                str(e.qualifier), "%03d" % e.cid, "00", ACCOUNT)
            # the user in CCC for openings, closings and their relatives (121 duress too)
            assert int(ev.ri) == (e.user if contactid.carries_user(e) else e.zone)
            assert ev.sequence == "%04d" % (i + 1)
    # pysiaalarm's names for a few: fire, burglary, closing by user, periodic test
    names = {}
    for e in reports:
        ev = SIAEvent.from_line(D.message(D.ADM_CID, 1, ACCOUNT, D.from_event(e, ACCOUNT),
                                          "0", "0", now).decode().strip(), acc)
        names[(e.cid, e.qualifier)] = ev.code
    assert names[(110, 1)] == "FA" and names[(131, 1)] == "BA" and names[(401, 3)] == "CL"
    assert names[(602, 1)] == "RP" and names[(110, 3)] == "FH"


def test_null_link_test_is_accepted_clear_and_encrypted():
    now = int(time.time())
    for key in (None, TEXT_KEY):
        m = D.message(D.NULL, 5, ACCOUNT, "", "0", "0", now, cryptolib.aes, key, "p" * 16)
        ev = SIAEvent.from_line(m.decode().strip(), {ACCOUNT: SIAAccount(ACCOUNT, key)})
        assert ev.valid_message and ev.response.value == "ACK" and ev.code == "RP"


def test_the_key_trap_hex_key_bytes_are_not_what_pysiaalarm_uses():
    """pysiaalarm (so Home Assistant) takes the key's CHARACTERS as the AES key: a receiver
    configured with the same text but expecting hex decrypts something else."""
    now = int(time.time())
    data = D.from_event(E.Event(0, E.ALARM, 130, 1, zone=3), ACCOUNT)
    as_text = {"key": TEXT_KEY, "key_format": "text"}
    as_hex = {"key": HEX_KEY, "key_format": "hex"}
    assert key_bytes(as_text) == b"0123456789ABCDEF"
    assert key_bytes(as_hex) == bytes(range(16))
    m = D.message(D.ADM_CID, 1, ACCOUNT, data, "0", "0", now, cryptolib.aes, key_bytes(as_hex),
                  "x" * 16)
    # pysiaalarm given the hex text as its key (32 characters: AES-256 of the characters)
    with pytest.raises(Exception):
        ev = SIAEvent.from_line(m.decode().strip(), {ACCOUNT: SIAAccount(ACCOUNT, HEX_KEY)})
        assert ev.event_type == "130"
    # the same bytes, in hex-key receivers' terms, decrypt fine (pycryptodome, not our fake)
    from Crypto.Cipher import AES
    body = m.decode().strip()[8:]
    plain = AES.new(bytes(range(16)), AES.MODE_CBC, bytes(16)).decrypt(
        bytes.fromhex(body[body.index("[") + 1:]))
    assert plain.endswith(("|%s]%s" % (data, D.timestamp(now))).encode())


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
@pytest.mark.parametrize("key", [None, TEXT_KEY])
def test_pysiaalarm_server_acks_every_report_and_each_ack_marks_it_delivered(protocol, key):
    reports = every_report()
    with Judge(protocol, ACCOUNT, key) as j:
        p = make_path(reports, j.port, protocol, key)
        assert drive(p, lambda: len(p.got) == len(reports), real_timeout=20)
        assert j.settle(len(reports))
    assert p.got == [e.seq for e in reports]                 # in order, each once
    assert [(ev.event_qualifier, ev.event_type) for ev in j.events] == [
        (str(e.qualifier), "%03d" % e.cid) for e in reports]
    assert all(ev.encrypted is (key is not None) for ev in j.events)
    assert j.counts.get("crc") == 0 and j.counts.get("timestamp") == 0
    assert p.box == [] and p.up is True and p.sent == len(reports)


def test_link_test_pings_at_the_interval_and_are_acknowledged():
    with Judge("tcp", ACCOUNT, TEXT_KEY) as j:
        p = make_path([], j.port, "tcp", TEXT_KEY, ping=10)
        assert drive(p, lambda: p.acked >= 2, real_timeout=10)
        first_two = p.sent
        assert j.settle(2)
    assert [ev.message_type.value for ev in j.events][:2] == ["NULL", "NULL"]
    assert first_two == 2 and p.up


def test_nak_with_the_receivers_time_resynchronises_and_the_report_is_delivered():
    """Our RTC an hour behind: pysiaalarm NAKs with its time; the repeat carries its time."""
    logs = []
    e = E.Event(0, E.ALARM, E.CID_PANIC, E.Q_NEW, zone=12)
    with Judge("tcp", ACCOUNT, TEXT_KEY) as j:
        p = make_path([e], j.port, "tcp", TEXT_KEY, wall=lambda: int(time.time()) - 3600,
                      logs=logs)
        assert drive(p, lambda: p.got == [1], real_timeout=10)
        assert j.settle(1)
    assert j.counts.get("timestamp") == 1 and len(j.events) == 1
    assert any("NAK" in x for x in logs)
    assert p.sent == 2 and p.up


def _ack_for(seq_from_frame=True, token="ACK", seq=None):
    def answer(frame):
        body = frame.decode().strip()[8:]
        s = body[body.index('"', 1) + 1:][:4] if seq is None else "%04d" % seq
        return D.frame('"%s"%sR0L0#%s[]' % (token, s, ACCOUNT))
    return answer


BAD_ANSWERS = {
    "silence": None,
    "garbage": b"hello\r",
    "bad crc": lambda f: b"\n0000" + D.frame('"ACK"0001R0L0#AB12[]')[5:],
    "ack for another seq": _ack_for(seq=77),
    "ack for another account": lambda f: D.frame('"ACK"0001R0L0#9999[]'),
    "duh": _ack_for(token="DUH"),
    "nak without time": lambda f: D.frame('"NAK"0000R0L0A0[]'),
}


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
@pytest.mark.parametrize("name", sorted(BAD_ANSWERS))
def test_a_bad_answer_silence_or_duh_never_marks_a_report_delivered(protocol, name):
    logs = []
    e = E.Event(0, E.ALARM, E.CID_PANIC, E.Q_NEW, zone=12)
    links = []
    with Scripted(protocol, [BAD_ANSWERS[name]] * 10) as rx:
        p = make_path([e], rx.port, protocol, logs=logs)
        p.on_link = lambda ok, now: links.append(ok)
        # three attempts: 10 s answer deadline each, 5 s then 10 s between them
        drive(p, lambda: False, board_ms=60000, step_ms=200, real_timeout=8)
    assert p.got == [] and p.box == [1]
    assert len(rx.heard) >= 3 and p.up is False and links == [False]
    assert any("failed" in x for x in logs)
    if name == "duh":
        assert any("DUH" in x for x in logs)


def test_a_clear_ack_to_an_encrypted_report_is_not_its_ack():
    e = E.Event(0, E.ALARM, E.CID_PANIC, E.Q_NEW, zone=12)
    with Scripted("tcp", [_ack_for()] * 5) as rx:
        p = make_path([e], rx.port, "tcp", TEXT_KEY)
        drive(p, lambda: False, board_ms=20000, step_ms=50, real_timeout=5)
    assert rx.heard and p.got == []


def test_receiver_down_retries_then_up_delivers_in_order():
    links = []
    reports = [E.Event(0, E.ALARM, E.CID_PANIC, E.Q_NEW, zone=12),
               E.Event(0, E.RESTORE, E.CID_PANIC, E.Q_RESTORE, zone=12),
               E.Event(0, E.CLOSING, E.CID_OPEN_CLOSE, E.Q_RESTORE, user=1)]
    with Scripted("tcp", []) as gone:
        port = gone.port            # a port nobody listens on once this closes
    p = make_path(reports, port, "tcp", TEXT_KEY)
    p.on_link = lambda ok, now: links.append(ok)
    drive(p, lambda: p.up is False, board_ms=120000, step_ms=100, real_timeout=8)
    assert p.up is False and links == [False] and p.got == []
    with Judge("tcp", ACCOUNT, TEXT_KEY, port=port) as j:
        assert drive(p, lambda: len(p.got) == 3, step_ms=100, real_timeout=10)
        assert j.settle(3)
    assert p.got == [1, 2, 3] and links == [False, True]
    assert [(ev.event_qualifier, ev.event_type) for ev in j.events] == [
        ("1", "120"), ("3", "120"), ("3", "401")]


def test_a_key_without_cryptolib_never_sends_in_the_clear():
    e = E.Event(0, E.ALARM, E.CID_PANIC, E.Q_NEW, zone=12)
    logs = []
    with Scripted("tcp", [_ack_for()] * 5) as rx:
        p = make_path([e], rx.port, "tcp", TEXT_KEY, logs=logs)
        p.aes = None                # a build without cryptolib
        drive(p, lambda: p.up is False, board_ms=60000, step_ms=200, real_timeout=5)
    assert rx.heard == [] and p.got == [] and p.up is False
    assert any("no cryptolib" in x for x in logs)


def test_the_default_settings_no_receiver_number_are_acked_by_pysiaalarm():
    """comms.dc09.receiver defaults to none (no R field), as in the README's Home Assistant
    table: pysiaalarm then writes "None" where the R field goes in its ACK; still its ACK."""
    e = E.Event(0, E.ALARM, E.CID_FIRE, E.Q_NEW, zone=3)
    with Judge("tcp", ACCOUNT, TEXT_KEY) as j:
        p = make_path([e], j.port, "tcp", TEXT_KEY)
        p.cfg = cfg(j.port, "tcp", TEXT_KEY, receiver=None)
        assert drive(p, lambda: p.got == [1], real_timeout=10)
        assert j.settle(1)
    assert j.events[0].receiver is None and j.events[0].event_type == "110"


def test_a_receiver_named_by_host_name_is_looked_up_then_acks():
    from fake_dns import DnsServer
    dns = DnsServer("127.0.0.1")
    try:
        e = E.Event(0, E.ALARM, E.CID_GAS, E.Q_NEW, zone=5)
        with Judge("udp", ACCOUNT, TEXT_KEY) as j:
            p = make_path([e], j.port, "udp", TEXT_KEY)
            p.host = "receiver.example"
            p._where = Address(p.host, p.port, dns.addr)
            assert drive(p, lambda: p.got == [1], real_timeout=10)
            assert j.settle(1)
        assert dns.queries >= 1 and j.events[0].event_type == "151"
    finally:
        dns.close()


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
def test_a_late_ack_for_an_earlier_message_is_ignored_and_its_own_ack_delivers(protocol):
    e = E.Event(0, E.ALARM, E.CID_PANIC, E.Q_NEW, zone=12)
    stale = _ack_for(seq=9998)
    with Scripted(protocol, [lambda f: [stale(f), _ack_for()(f)]]) as rx:
        logs = []
        p = make_path([e], rx.port, protocol, logs=logs)
        assert drive(p, lambda: p.got == [1], real_timeout=5)
    assert p.sent == 1 and p.up and any("ignored" in x for x in logs)
