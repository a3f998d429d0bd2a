# SIA DC-09 frames byte for byte (ANSI/SIA DC-09-2013), on CPython and on the real MicroPython
# interpreter. The vectors below were worked out from the standard's text, field by field:
#
#   <LF> crc 0LLL "id" seq [Rrcvr] Lpref #acct [data] [_HH:MM:SS,MM-DD-YYYY] <CR>
#
#   "ADM-CID"0001R0L0#1234[#1234|1131 01 003]_12:00:00,12-01-2025
#     id ADM-CID (5.5.1.4), seq 0001 (5.5.1.5), receiver 0, prefix 0, account 1234 (5.5.1.6),
#     data #acct|Q XYZ GG CCC = new event (1), 131 perimeter burglary, group 01, zone 003
#     (5.5.1.7), timestamp 2025-12-01 12:00:00 UTC (5.5.1.8) = Unix 1764590400.
#     61 characters = 0x03D -> "003D"; CRC-16/ARC of those 61 bytes = 0xF08B -> "F08B" (5.5.1.2;
#     the CRC routine is held to the catalogue's check value 0xBB3D for "123456789" below, and
#     test_dc09_judge.py has pysiaalarm recompute every CRC independently).
#   "NULL"9999L0#ABC[]  the link test (5.5.2.1), no receiver number, the last seq before the
#     rollover, a 3-character account, no timestamp (optional in the clear): 18 = 0x012, CRC 2F0A.
from check import raises

from mimamori.core import events as E
from mimamori.proto import dc09 as D

RUNS_ON_MICROPYTHON = True
NOON = 1764590400       # 2025-12-01T12:00:00Z


def test_crc_is_the_arc_variant_with_check_value_bb3d():
    assert D.crc16(b"123456789") == 0xBB3D
    assert D.crc16(b"") == 0
    assert D.crc16(b"A") == 0x30C0      # CRC-16/ARC of one 'A' (catalogue of CRC algorithms)


def test_adm_cid_frame_matches_the_vector_worked_out_from_the_standard():
    data = D.adm_cid("1234", 1, 131, 1, 3)
    assert data == "#1234|1131 01 003"
    m = D.message(D.ADM_CID, 1, "1234", data, receiver="0", prefix="0", ts=NOON)
    assert m == b'\nF08B003D"ADM-CID"0001R0L0#1234[#1234|1131 01 003]_12:00:00,12-01-2025\r'


def test_null_link_test_frame_matches_its_vector():
    assert D.message(D.NULL, 9999, "abc") == b'\n2F0A0012"NULL"9999L0#ABC[]\r'


def test_sequence_runs_0001_to_9999_then_0001():
    assert D.next_seq(1) == 2
    assert D.next_seq(9998) == 9999
    assert D.next_seq(9999) == 1
    assert D.next_seq(0) == 1           # never 0000 (that is the NAK's)
    with raises(D.Dc09Error, "seq"):
        D.message(D.NULL, 0, "1234")
    with raises(D.Dc09Error, "seq"):
        D.message(D.NULL, 10000, "1234")


def test_timestamp_is_utc_in_the_standards_layout_both_ways():
    assert D.timestamp(NOON) == "_12:00:00,12-01-2025"
    assert D.timestamp(951782400) == "_00:00:00,02-29-2000"        # a leap day
    assert D.timestamp(1767225599) == "_23:59:59,12-31-2025"
    for t in (NOON, 951782400, 1767225599, 4102444799):
        assert D.parse_timestamp(D.timestamp(t)) == t
    with raises(D.Dc09Error, "timestamp"):
        D.parse_timestamp("_25:00:00,12-01-2025")
    with raises(D.Dc09Error, "timestamp"):
        D.parse_timestamp("12:00,12-01-2025")


def test_report_data_comes_from_the_same_contact_id_mapping_as_the_landline():
    burglary = E.Event(0, E.ALARM, E.CID_PERIMETER, E.Q_NEW, zone=3, user=0)
    assert D.from_event(burglary, "1234") == "#1234|1131 00 003"
    closing = E.Event(0, E.CLOSING, E.CID_OPEN_CLOSE, E.Q_RESTORE, zone=0, user=2)
    assert D.from_event(closing, "00AB12", 1) == "#00AB12|3401 01 002"     # the user in CCC
    test = E.Event(0, E.TEST, E.CID_PERIODIC_TEST, E.Q_NEW, zone=0, user=0, zone_name="dc09")
    assert D.from_event(test, "1234") == "#1234|1602 00 000"


def test_bad_fields_are_refused_naming_the_field():
    with raises(D.Dc09Error, "account"):
        D.account("12")                       # 3-16 hex
    with raises(D.Dc09Error, "account"):
        D.account("12G4")
    with raises(D.Dc09Error, "account"):
        D.account("0123456789ABCDEF0")
    with raises(D.Dc09Error, "prefix"):
        D.message(D.NULL, 1, "1234", prefix="1234567")
    with raises(D.Dc09Error, "receiver"):
        D.message(D.NULL, 1, "1234", receiver="")
    with raises(D.Dc09Error, "timestamp"):
        D.message(D.NULL, 1, "1234", key="0123456789ABCDEF")     # encrypted needs the time
    with raises(D.Dc09Error, "key"):
        D.key_bytes("short")
    with raises(ValueError, "qualifier"):
        D.adm_cid("1234", 2, 131)


def test_replies_are_read_and_a_bad_crc_or_length_is_refused():
    ack = D.frame('"ACK"0007R0L0#1234[]')
    r = D.parse_reply(ack)
    assert (r.token, r.encrypted, r.seq, r.account, r.ts, r.data) == ("ACK", False, 7, "1234",
                                                                       None, "")
    nak = D.frame('"NAK"0000R0L0A0[]_12:00:05,12-01-2025')
    r = D.parse_reply(nak)
    assert (r.token, r.seq, r.ts) == ("NAK", 0, NOON + 5)
    bad = bytearray(ack)
    bad[12] = ord("B")                  # "ACK" -> "BCK": the CRC no longer matches
    with raises(D.Dc09Error, "crc"):
        D.parse_reply(bytes(bad))
    body = '"ACK"0007R0L0#1234[]'
    wrong_len = ("\n%04X0%03X%s\r" % (D.crc16(body.encode()), len(body) + 1, body)).encode()
    with raises(D.Dc09Error, "length"):
        D.parse_reply(wrong_len)
    with raises(D.Dc09Error, "reply"):
        D.parse_reply(b"garbage")
