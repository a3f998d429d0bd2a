# Ademco Contact ID messages: digit for digit what goes on the line. The DTMF vectors below were
# computed once on CPython by spandsp's own encoder (libspandsp2's encode_msg, the same library
# whose receiver judges the landline tests); this file runs on both runtimes, so each reproduces
# them. One deliberate difference: where the check value is 10 spandsp sends DTMF "D" (Ademco
# digit A, which DC-05 does not use); we send the digit 0, which DC-05 counts as 10. spandsp's
# receiver accepts both (test_landline_judges.py sends such a message through it).
from check import raises

from mimamori.core import events as E
from mimamori.proto import contactid as C

RUNS_ON_MICROPYTHON = True


def _ev(kind, cid, q=E.Q_NEW, zone=0, user=0):
    return E.Event(0, kind, cid, q, zone=zone, user=user)


def test_messages_match_spandsps_encoder_digit_for_digit():
    vectors = [
        (("1234", 1, 131, 1, 3), "1234181131010031"),
        (("1234", 3, 401, 1, 2), "1234183401010025"),
        (("1234", 1, 602, 0, 0), "1234181602000002"),
        (("BCDF", 1, 110, 0, 15), "*#AC18111000015*"),
        (("0000", 6, 350, 0, 0), "000018635000000#"),
        (("1234", 1, 406, 0, 5), "1234181406000055"),
        (("9999", 1, 120, 0, 1), "9999181120000015"),
    ]
    for args, dtmf in vectors:
        msg = C.encode(*args)
        assert C.to_dtmf(msg) == dtmf, (args, C.to_dtmf(msg), dtmf)
        assert C.from_dtmf(dtmf) == msg and C.valid(msg)


def test_check_digit_zero_is_sent_as_f_and_ten_as_zero():
    # 1234 18 1 130 00 001: digits sum to 75, a multiple of 15 already -> S is F (15), never 0.
    msg = C.encode("1234", 1, 130, 0, 1)
    assert msg == "123418113000001F" and C.to_dtmf(msg)[-1] == "C"
    # 1000 18 1 602 00 015: the sum needs 10 more -> the digit 0 (value 10).
    msg = C.encode("1000", 1, 602, 0, 15)
    assert msg == "1000181602000150" and C.valid(msg)
    total = 0
    for ch in msg:
        total += C.digit_value(ch)
    assert total % 15 == 0 and C.digit_value("0") == 10 and C.digit_value("F") == 15


def test_hex_digits_travel_as_star_hash_a_b_c():
    assert C.to_dtmf("0123456789BCDEF") == "0123456789*#ABC"
    assert C.from_dtmf("*#ABC") == "BCDEF"
    with raises(C.ContactIdError, "not used"):
        C.from_dtmf("D")            # DTMF D carries nothing in Contact ID
    with raises(C.ContactIdError, "not a Contact ID digit"):
        C.to_dtmf("A")


def test_a_corrupted_digit_fails_the_checksum():
    msg = C.encode("1234", 1, 131, 1, 3)
    assert C.valid(msg)
    assert not C.valid(msg[:9] + "2" + msg[10:])      # 131 -> 132 without a new S
    assert not C.valid(msg[:15])
    assert not C.valid(msg[:15] + "A")
    with raises(C.ContactIdError, "checksum"):
        C.parse(msg[:15] + "9")
    assert C.parse(msg) == ("1234", "18", "1", "131", "01", "003")


def test_alarms_and_troubles_carry_the_zone_openings_and_closings_the_user():
    acct = "1234"
    fire = _ev(E.ALARM, E.CID_SMOKE, zone=3, user=9)
    assert C.parse(C.from_event(fire, acct)) == ("1234", "18", "1", "111", "00", "003")
    restore = _ev(E.RESTORE, E.CID_PERIMETER, E.Q_RESTORE, zone=12)
    assert C.parse(C.from_event(restore, acct))[2:] == ("3", "131", "00", "012")
    opening = _ev(E.OPENING, E.CID_OPEN_CLOSE, E.Q_NEW, zone=0, user=2)
    closing = _ev(E.CLOSING, E.CID_OPEN_CLOSE, E.Q_RESTORE, user=2)
    assert C.parse(C.from_event(opening, acct))[2:] == ("1", "401", "00", "002")
    assert C.parse(C.from_event(closing, acct))[2:] == ("3", "401", "00", "002")
    stay = _ev(E.CLOSING, E.CID_STAY_ARM, E.Q_RESTORE, user=4)
    assert C.parse(C.from_event(stay, acct))[5] == "004"
    cancel = _ev(E.CANCEL, E.CID_CANCEL, user=1, zone=5)
    assert C.parse(C.from_event(cancel, acct))[3:] == ("406", "00", "001")
    telco = _ev(E.TROUBLE, E.CID_TELCO_FAULT)
    assert C.parse(C.from_event(telco, acct))[3:] == ("351", "00", "000")
    test = _ev(E.TEST, E.CID_PERIODIC_TEST)
    assert C.from_event(test, acct) == "1234181602000002"
    status = _ev(E.STATUS, E.CID_AC_LOSS, E.Q_PREVIOUS)
    assert C.parse(C.from_event(status, acct, group=1))[2:5] == ("6", "301", "01")


def test_bad_fields_are_refused_by_name():
    with raises(C.ContactIdError, "account"):
        C.encode("12A4", 1, 130)
    with raises(C.ContactIdError, "account"):
        C.encode("123", 1, 130)
    with raises(C.ContactIdError, "qualifier"):
        C.encode("1234", 2, 130)
    with raises(C.ContactIdError, "event code"):
        C.encode("1234", 1, 1300)
    with raises(C.ContactIdError, "zone/user"):
        C.from_event(_ev(E.ALARM, E.CID_BURGLARY, zone=1000), "1234")
    with raises(C.ContactIdError, "group"):
        C.encode("1234", 1, 130, group=100)
    assert C.account_digits(42) == "0042" and C.account_digits("bcdf") == "BCDF"


def test_timings_keep_the_standards_numbers():
    assert (C.HANDSHAKE_HZ_1, C.HANDSHAKE_HZ_2, C.HANDSHAKE_TONE_MS) == (1400, 2300, 100)
    assert C.PRE_DIGITS_MIN_MS == 250 and C.PRE_DIGITS_MAX_MS == 300
    assert C.DIGIT_MIN_MS <= C.DIGIT_ON_MS <= C.DIGIT_MAX_MS
    assert C.DIGIT_MIN_MS <= C.DIGIT_OFF_MS <= C.DIGIT_MAX_MS
    assert C.KISSOFF_MIN_MS == 400 and C.KISSOFF_START_MS == 1250 and C.ATTEMPTS == 4
