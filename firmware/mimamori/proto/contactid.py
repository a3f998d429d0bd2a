# Ademco Contact ID (SIA DC-05-1999.09), sans-I/O: the 16-digit message a panel sends over the
# telephone line in DTMF, and the timings both ends keep.
#
#     ACCT MT Q XYZ GG CCC S
#     ACCT  4 digits, account number at the centre (0-9, B-F; A is not allowed)
#     MT    message type: 18 (DC-05 preferred; 98 is the optional alternative)
#     Q     event qualifier: 1 new event / opening, 3 restore / closing, 6 previously reported
#           condition still present (status)
#     XYZ   event code (the catalogue in core/events.py)
#     GG    group or partition, 00 = none
#     CCC   zone number for event reports, user number for opening/closing reports; 000 = none
#     S     check digit: the sum of all 16 digit values is a multiple of 15, where every digit
#           counts at face value except 0, which counts as 10 (B=11 ... F=15). A check digit that
#           would be 0 is sent as F (15), since a 0 would add 10.
#
# Hex digits B-F travel as the DTMF keys * # A B C (DTMF D is not used; there is no Contact ID
# digit A). Only strings and small ints here: runs on MicroPython and on CPython alike.
from mimamori.compat import const
from mimamori.core import events as E

MESSAGE_TYPE = "18"             # DC-05 message type 18 (preferred)
DIGITS = const(16)              # ACCT(4) MT(2) Q(1) XYZ(3) GG(2) CCC(3) S(1)

# --- timings (DC-05 section 3; tolerances beside each) -------------------------------------
# The receiver's handshake: 1400 Hz for 100 ms, 100 ms silence, 2300 Hz for 100 ms
# (frequency and duration +-3 % at the receiver; a sender accepts +-5 % in frequency).
HANDSHAKE_HZ_1 = const(1400)
HANDSHAKE_HZ_2 = const(2300)
HANDSHAKE_TONE_MS = const(100)
HANDSHAKE_GAP_MS = const(100)
HANDSHAKE_PAIR_MAX_MS = const(400)  # 1400 burst end to 2300 burst end: nominally 200 ms
# The first DTMF digit starts 250-300 ms after the end of the 2300 Hz tone, and the same pause
# separates a kissoff from the next message.
PRE_DIGITS_MIN_MS = const(250)
PRE_DIGITS_MAX_MS = const(300)
# Each DTMF digit 50-60 ms on, then 50-60 ms off. The modem sets "on" in 10 ms steps (+VTD):
# 50 ms as in AN93's example; the off time 55 ms, mid-range (spandsp's sender uses 55/55).
DIGIT_ON_MS = const(50)
DIGIT_OFF_MS = const(55)
DIGIT_MIN_MS = const(50)
DIGIT_MAX_MS = const(60)
# Kissoff: 1400 Hz sent by the receiver for 750-1000 ms; a sender accepts a burst of at least
# 400 ms. It must start within 1.25 s of the message's last digit, or the message is repeated.
KISSOFF_HZ = const(1400)
KISSOFF_MIN_MS = const(400)
KISSOFF_MAX_MS = const(1500)       # longest burst we still take as a kissoff
KISSOFF_START_MS = const(1250)
ATTEMPTS = const(4)                # attempts per message before the call is given up

# Ademco digit -> DTMF key, and back, by position (= the digit's hex value). Position 10 (Ademco
# A, DTMF D) is not used by Contact ID and is refused both ways.
_ADEMCO = "0123456789ABCDEF"
_KEYS = "0123456789D*#ABC"
_UNUSED = const(10)
_VALUE_OF_ZERO = const(10)

# Codes whose CCC field carries the user (DC-05 appendix: the open/close family, cancel,
# armed stay, failed to close, partial arm). Everything else carries the zone (000 = the panel).
USER_CODES = (E.CID_OPEN_CLOSE, E.CID_CANCEL, E.CID_STAY_ARM, E.CID_FAIL_TO_CLOSE,
              E.CID_PARTIAL_ARM, E.CID_DURESS)   # 121: the user forced (DC-05)
USER_KINDS = (E.OPENING, E.CLOSING, E.CANCEL)


class ContactIdError(ValueError):
    pass


def digit_value(ch):
    """Checksum value of one Ademco digit: 0 counts as 10, B-F as 11-15."""
    i = _ADEMCO.find(ch)
    if i < 0 or i == _UNUSED:
        raise ContactIdError("digit %r is not a Contact ID digit" % ch)
    return _VALUE_OF_ZERO if i == 0 else i


def check_digit(body):
    """The digit S that makes the 15 digits of `body` plus S a multiple of 15."""
    total = 0
    for ch in body:
        total += digit_value(ch)
    s = (15 - total % 15) % 15
    if s == 0:
        return "F"      # a 0 would count as 10: the multiple of 15 needs a full 15
    if s == _VALUE_OF_ZERO:
        return "0"      # value 10 is the digit 0
    return _ADEMCO[s]


def valid(message):
    """True when `message` is 16 Ademco digits whose values sum to a multiple of 15."""
    if len(message) != DIGITS:
        return False
    total = 0
    for ch in message:
        i = _ADEMCO.find(ch)
        if i < 0 or i == _UNUSED:
            return False
        total += _VALUE_OF_ZERO if i == 0 else i
    return total % 15 == 0


def _field(value, width, name, limit):
    if not isinstance(value, int) or value < 0 or value > limit:
        raise ContactIdError("%s must be 0..%d, got %r" % (name, limit, value))
    s = str(value)
    return "0" * (width - len(s)) + s


def account_digits(account):
    """Validate an account number: 4 Contact ID digits (0-9, B-F), as a string or an int."""
    if isinstance(account, int):
        account = _field(account, 4, "account", 9999)
    if not isinstance(account, str) or len(account) != 4:
        raise ContactIdError("account must be 4 digits, got %r" % (account,))
    account = account.upper()
    for ch in account:
        if _ADEMCO.find(ch) in (-1, _UNUSED):
            raise ContactIdError("account %r: %r is not allowed (0-9, B-F)" % (account, ch))
    return account


def encode(account, qualifier, code, group=0, ccc=0):
    """The 16-digit message (Ademco digits) for one event."""
    if qualifier not in (E.Q_NEW, E.Q_RESTORE, E.Q_PREVIOUS):
        raise ContactIdError("qualifier must be 1, 3 or 6, got %r" % (qualifier,))
    body = (account_digits(account) + MESSAGE_TYPE + str(qualifier) +
            _field(code, 3, "event code", 999) + _field(group, 2, "group", 99) +
            _field(ccc, 3, "zone/user", 999))
    return body + check_digit(body)


def carries_user(event):
    """DC-05: openings and closings (and their relatives) report the user in CCC."""
    return event.kind in USER_KINDS or event.cid in USER_CODES


def from_event(event, account, group=0):
    """The Contact ID message of a core Event (zone or user in CCC, see carries_user)."""
    ccc = event.user if carries_user(event) else event.zone
    return encode(account, event.qualifier, event.cid, group, ccc)


def to_dtmf(message):
    """Ademco digits -> the DTMF keys sent on the line (B-F become * # A B C)."""
    out = ""
    for ch in message:
        i = _ADEMCO.find(ch)
        if i < 0 or i == _UNUSED:
            raise ContactIdError("digit %r is not a Contact ID digit" % ch)
        out += _KEYS[i]
    return out


def from_dtmf(keys):
    """DTMF keys heard on the line -> Ademco digits (the receiver's view)."""
    out = ""
    for ch in keys:
        i = _KEYS.find(ch)
        if i < 0 or i == _UNUSED:
            raise ContactIdError("DTMF key %r is not used by Contact ID" % ch)
        out += _ADEMCO[i]
    return out


def parse(message):
    """(account, message type, qualifier, code, group, ccc) of a valid message, as strings."""
    if not valid(message):
        raise ContactIdError("bad message or checksum: %r" % (message,))
    m = message
    return (m[0:4], m[4:6], m[6], m[7:10], m[10:12], m[12:15])
