# SIA DC-09 (ANSI/SIA DC-09-2013, "Internet Protocol Event Reporting"), sans-I/O: the frames a
# panel sends to an alarm receiver over TCP or UDP, and the receiver's answers.
#
#     <LF> crc 0LLL "id" seq Rrcvr Lpref #acct [data] _timestamp <CR>
#     crc   4 hex digits: CRC-16 (the ARC variant) of everything from the first " to the last
#           character before <CR> (5.5.1.2)
#     0LLL  '0' and 3 hex digits: the length of that same span (5.5.1.3)
#     "id"  the ID token: "ADM-CID" (Contact ID data), "NULL" (link test), "*ADM-CID" and
#           "*NULL" when the data is encrypted; answers "ACK", "*ACK", "NAK", "DUH" (5.5.1.4)
#     seq   4 digits 0001-9999, a new one per new message, the same for a repeat (5.5.1.5)
#     R L # receiver number (optional), account prefix and account, 1-6 / 1-6 / 3-16 hex (5.5.1.6)
#     data  ADM-CID: "#acct|QXYZ GG CCC" - the Contact ID message of proto/contactid.py without
#           its account, message type and check digit (5.5.1.7)
#     _HH:MM:SS,MM-DD-YYYY  UTC; optional in the clear, mandatory when encrypted (5.5.1.8)
#
# Encryption (5.4.4, 5.4.6): AES-CBC with an all-zero IV and a key of 16, 24 or 32 bytes, over
# pad "|" data "]" timestamp (from after the "[" to the end of the timestamp), the pad being
# 1-16 pseudo-random characters (never | [ ]) that make the span a multiple of 16; the
# ciphertext travels as upper-case hex. The cipher is given to encrypt/decrypt as a constructor
# with MicroPython's cryptolib.aes API (aes(key, 2, iv).encrypt(buf)): on the board that is
# cryptolib itself, on the host host_tests/fakes/cryptolib.py; nothing here imports it.
from mimamori.compat import const
from mimamori.proto import contactid as cid

LF = const(0x0A)
CR = const(0x0D)
ADM_CID = "ADM-CID"             # 5.5.1.4: Contact ID data
NULL = "NULL"                   # 5.5.2.1: the link test (supervision), acknowledged like an event
ACK = "ACK"                     # 5.5.3.1
NAK = "NAK"                     # 5.5.3.2: timestamp out of window; carries the receiver's time
DUH = "DUH"                     # 5.5.3.3: the receiver cannot process the message
ENCRYPTED = "*"                 # 5.5.1.4: the ID token's prefix when the data is encrypted
SEQ_FIRST = const(1)            # 5.5.1.5
SEQ_LAST = const(9999)
ACCOUNT_MIN = const(3)          # 5.5.1.6: the account, 3-16 hex characters
ACCOUNT_MAX = const(16)
RL_MAX = const(6)               # 5.5.1.6: receiver number and account prefix, 1-6 hex
KEY_SIZES = (16, 24, 32)        # 5.4.6: AES-128/192/256
BLOCK = const(16)               # 5.4.4: the encrypted span is a multiple of 16 bytes
MODE_CBC = const(2)             # cryptolib.aes mode number for CBC
IV = bytes(16)                  # 5.4.6: CBC with an all-zero initialisation vector
# 5.5.1.8: a receiver accepts a timestamp from 40 s behind to 20 s ahead of its own UTC clock
WINDOW_PAST_S = const(40)
WINDOW_AHEAD_S = const(20)
_HEX = "0123456789ABCDEF"
_PAD = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"   # never | [ ]


class Dc09Error(ValueError):
    pass


def crc16(data, crc=0):
    """CRC-16/ARC (poly 0x8005 reflected = 0xA001, init 0, no final xor): check value 0xBB3D
    for b"123456789" (5.5.1.2)."""
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def next_seq(seq):
    """5.5.1.5: 0001 ... 9999, then 0001 again."""
    return SEQ_FIRST if seq >= SEQ_LAST or seq < SEQ_FIRST else seq + 1


def _hexfield(value, name, lo, hi):
    if not isinstance(value, str) or not lo <= len(value) <= hi:
        raise Dc09Error("%s must be %d-%d hex characters, got %r" % (name, lo, hi, value))
    v = value.upper()
    for ch in v:
        if ch not in _HEX:
            raise Dc09Error("%s must be hex (0-9, A-F), got %r" % (name, value))
    return v


def account(value):
    """A DC-09 account: 3-16 hex characters, upper case (5.5.1.6)."""
    return _hexfield(value, "account", ACCOUNT_MIN, ACCOUNT_MAX)


def adm_cid(acct, qualifier, code, group=0, ccc=0):
    """ADM-CID data "#acct|QXYZ GG CCC" (5.5.1.7): the Contact ID fields of proto/contactid."""
    m = cid.encode("0000", qualifier, code, group, ccc)     # validates every field
    return "#%s|%s %s %s" % (account(acct), m[6:10], m[10:12], m[12:15])


def from_event(event, acct, group=0):
    """ADM-CID data of a core Event: the same mapping as the landline (contactid.from_event)."""
    ccc = event.user if cid.carries_user(event) else event.zone
    return adm_cid(acct, event.qualifier, event.cid, group, ccc)


# --- the timestamp (5.5.1.8) ---------------------------------------------------------------
def _civil(t):
    # days since 1970-01-01 -> (y, m, d): Howard Hinnant's civil_from_days, integers only
    z = t // 86400 + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if m <= 2 else 0), m, d


def _days(y, m, d):
    y -= 1 if m <= 2 else 0
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def timestamp(unix):
    """'_HH:MM:SS,MM-DD-YYYY' in UTC for Unix seconds."""
    unix = int(unix)
    y, mo, d = _civil(unix)
    s = unix % 86400
    return "_%02d:%02d:%02d,%02d-%02d-%04d" % (s // 3600, s // 60 % 60, s % 60, mo, d, y)


def parse_timestamp(text):
    """Unix seconds of '_HH:MM:SS,MM-DD-YYYY' (leading '_' optional)."""
    if text[:1] == "_":
        text = text[1:]
    if len(text) != 19 or text[2] != ":" or text[5] != ":" or text[8] != "," or \
            text[11] != "-" or text[14] != "-":
        raise Dc09Error("timestamp: expected _HH:MM:SS,MM-DD-YYYY, got %r" % text)
    try:
        h, mi, s = int(text[0:2]), int(text[3:5]), int(text[6:8])
        mo, d, y = int(text[9:11]), int(text[12:14]), int(text[15:19])
    except ValueError:
        raise Dc09Error("timestamp: not a time %r" % text)
    if h > 23 or mi > 59 or s > 59 or not 1 <= mo <= 12 or not 1 <= d <= 31:
        raise Dc09Error("timestamp: out of range %r" % text)
    return _days(y, mo, d) * 86400 + h * 3600 + mi * 60 + s


# --- frames ---------------------------------------------------------------------------------
def _hex(data):
    out = ""
    for b in data:
        out += _HEX[b >> 4] + _HEX[b & 15]
    return out


def unhex(text):
    if len(text) % 2:
        raise Dc09Error("encrypted data: odd number of hex digits")
    out = bytearray(len(text) // 2)
    for i in range(len(out)):
        hi = _HEX.find(text[2 * i].upper())
        lo = _HEX.find(text[2 * i + 1].upper())
        if hi < 0 or lo < 0:
            raise Dc09Error("encrypted data: not hex")
        out[i] = hi << 4 | lo
    return bytes(out)


def key_bytes(key):
    """AES key bytes (16, 24 or 32) from bytes, or a str taken as its characters."""
    k = key.encode() if isinstance(key, str) else bytes(key)
    if len(k) not in KEY_SIZES:
        raise Dc09Error("key must be 16, 24 or 32 bytes, got %d" % len(k))
    return k


def encrypt(aes, key, text, pad):
    """Hex of AES-CBC(pad | text) (5.4.4, 5.4.6). pad: characters to draw the pad from (a
    fresh random string per message; never | [ ]); only as many as needed are used."""
    n = BLOCK - (len(text) + 1) % BLOCK      # 1..16 characters (16 when already a multiple)
    if len(pad) < n:
        raise Dc09Error("pad: %d characters needed" % n)
    plain = (pad[:n] + "|" + text).encode()
    return _hex(aes(key_bytes(key), MODE_CBC, IV).encrypt(plain))


def decrypt(aes, key, hextext):
    """The text after the pad of an encrypted span (the receiver may pad with "0"s and leave
    out the "|", as pysiaalarm does)."""
    raw = unhex(hextext)
    if not raw or len(raw) % BLOCK:
        raise Dc09Error("encrypted data: not a whole number of 16-byte blocks")
    plain = aes(key_bytes(key), MODE_CBC, IV).decrypt(raw)
    # the pad may be any byte but | [ ]: keep what follows its "|", else from the first "]"
    bar = plain.find(b"|")
    close = plain.find(b"]")
    if 0 <= bar < (close if close >= 0 else len(plain)):
        plain = plain[bar + 1:]
    elif close >= 0:
        plain = plain[close:]
    else:
        raise Dc09Error("encrypted data: no ']' after decryption (wrong key?)")
    try:
        return plain.decode()
    except UnicodeError:
        raise Dc09Error("encrypted data: not text after decryption (wrong key?)")


def message(token, seq, acct, data="", receiver=None, prefix="0", ts=None, aes=None, key=None,
            pad=None):
    """One whole frame, <LF> to <CR>, as bytes. data: the text inside [ ] (adm_cid(), or "" for
    NULL); ts: Unix seconds or None (required with a key); aes+key+pad: encrypt (5.4)."""
    if not SEQ_FIRST <= seq <= SEQ_LAST:
        raise Dc09Error("seq must be 1-9999, got %r" % (seq,))
    head = '"%s%s"%04d' % (ENCRYPTED if key is not None else "", token, seq)
    if receiver is not None:
        head += "R" + _hexfield(receiver, "receiver", 1, RL_MAX)
    head += "L" + _hexfield(prefix, "prefix", 1, RL_MAX) + "#" + account(acct) + "["
    if key is not None:
        if ts is None:
            raise Dc09Error("timestamp: required when encrypted (5.5.1.8)")
        body = head + encrypt(aes, key, data + "]" + timestamp(ts), pad)
    else:
        body = head + data + "]" + (timestamp(ts) if ts is not None else "")
    return frame(body)


def frame(body):
    """<LF> crc 0LLL body <CR> (5.5.1.2, 5.5.1.3)."""
    b = body.encode()
    if len(b) > 0xFFF:
        raise Dc09Error("message longer than 0LLL allows: %d" % len(b))
    return ("\n%04X0%03X%s\r" % (crc16(b), len(b), body)).encode()


class Reply:
    """A receiver's answer: token (ACK, NAK, DUH, ...), encrypted, seq, account (or None),
    ts (Unix seconds or None), data (the text in [ ] after decryption)."""
    __slots__ = ("token", "encrypted", "seq", "account", "ts", "data")

    def __init__(self, token, encrypted, seq, acct, ts, data):
        self.token = token
        self.encrypted = encrypted
        self.seq = seq
        self.account = acct
        self.ts = ts
        self.data = data


def parse_reply(raw, aes=None, key=None):
    """A receiver's answer (one frame, with or without <LF> and <CR>). Raises Dc09Error naming
    the field for a bad CRC, length, token, seq, or data that does not decrypt."""
    if isinstance(raw, (bytes, bytearray, memoryview)):
        try:
            raw = bytes(raw).decode()
        except UnicodeError:
            raise Dc09Error("reply: not ASCII")
    text = raw.strip("\r\n")
    if len(text) < 10 or text[8] != '"':
        raise Dc09Error("reply: no crc 0LLL \"id\" header in %r" % text[:24])
    body = text[8:]
    try:
        crc = int(text[0:4], 16)
        n = int(text[4:8], 16)
    except ValueError:
        raise Dc09Error("crc/length: not hex in %r" % text[:8])
    if crc != crc16(body.encode()):
        raise Dc09Error("crc: %s does not match the message (%04X)" % (text[0:4],
                                                                       crc16(body.encode())))
    if n != len(body):
        raise Dc09Error("length: %s, the message has %d characters" % (text[4:8], len(body)))
    q = body.find('"', 1)
    if q < 0:
        raise Dc09Error("id: no closing quote")
    token = body[1:q]
    encrypted = token[:1] == ENCRYPTED
    if encrypted:
        token = token[1:]
    try:
        seq = int(body[q + 1:q + 5])
    except ValueError:
        raise Dc09Error("seq: not 4 digits in %r" % body[q + 1:q + 5])
    rest = body[q + 5:]
    lb = rest.find("[")
    if lb < 0:
        raise Dc09Error("data: no '['")
    head = rest[:lb]
    h = head.find("#")
    acct = head[h + 1:] if h >= 0 else None
    tail = rest[lb + 1:]
    if encrypted:
        if key is None or aes is None:
            raise Dc09Error("data: encrypted, and no key to read it")
        tail = decrypt(aes, key, tail)
    rb = tail.find("]")
    if rb < 0:
        raise Dc09Error("data: no ']'")
    data = tail[:rb]
    stamp = tail[rb + 1:]
    while stamp[:1] == "[":     # extended data [..] before the timestamp: skipped
        e = stamp.find("]")
        stamp = stamp[e + 1:] if e >= 0 else ""
    ts = parse_timestamp(stamp) if stamp else None
    return Reply(token, encrypted, seq, acct, ts, data)
