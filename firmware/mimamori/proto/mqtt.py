# MQTT 3.1.1 (OASIS Standard, 29 October 2014), the client's side, sans-I/O: bytes in, packets
# out. Encoders append one packet to a bytearray the caller owns; Reader takes the bytes a socket
# brings, in pieces of any size, and hands back whole packets one at a time. No socket, clock or
# wait in here: comms/mqtt.py owns those. Section numbers are the standard's.
#
# Reader keeps one packet at most (max_packet bytes, allocated once). A bigger incoming packet is
# not kept: its bytes are discarded as they arrive, and Reader reports it as SKIPPED with its QoS
# and, for a PUBLISH, its packet id (noted on the way past), so the link can still PUBACK it.
# Parsing a PUBACK, PINGRESP, CONNACK or SUBACK allocates nothing; a PUBLISH allocates its topic
# and payload only when the caller asks for them.
#
# Malformed input (a reserved packet type or flag, a fifth remaining-length byte, a length that
# does not fit its packet type, a topic running past its packet ...) raises MqttError, naming the
# packet and the field. Nothing else is raised for bad input.
from mimamori.compat import const

# Control packet types, the high nibble of the fixed header's first byte (2.2.1)
CONNECT = const(1)
CONNACK = const(2)
PUBLISH = const(3)
PUBACK = const(4)
PUBREC = const(5)
PUBREL = const(6)
PUBCOMP = const(7)
SUBSCRIBE = const(8)
SUBACK = const(9)
UNSUBSCRIBE = const(10)
UNSUBACK = const(11)
PINGREQ = const(12)
PINGRESP = const(13)
DISCONNECT = const(14)
SKIPPED = const(16)        # not MQTT: an incoming packet over Reader's max_packet, discarded

# CONNACK return codes (3.2.2.3): 0 accepted, 1..5 refused, why
REFUSALS = ("accepted", "unacceptable protocol version", "identifier rejected",
            "server unavailable", "bad user name or password", "not authorized")
SUBACK_FAILURE = const(0x80)   # 3.9.3
MAX_LENGTH = const(268435455)  # the largest remaining length, 4 bytes of 7 bits (2.2.3)


class MqttError(ValueError):
    """Malformed MQTT input (or a packet this client may not encode), naming the field."""


def refusal(code):
    """The CONNACK return code in words (3.2.2.3)."""
    return REFUSALS[code] if 0 <= code < len(REFUSALS) else "reserved return code"


# --- encoding (client -> server) ------------------------------------------------------------

def _b(s):
    return s.encode() if isinstance(s, str) else s


def _length(out, n):
    """Remaining length (2.2.3): 7 bits a byte, least significant first, 1-4 bytes."""
    if n > MAX_LENGTH:
        raise MqttError("remaining length %d over %d" % (n, MAX_LENGTH))
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return


def _u16(out, n):
    out.append(n >> 8)
    out.append(n & 0xFF)


def _str(out, s, field):
    """A UTF-8 string or binary field: 2-byte length, then the bytes (1.5.3)."""
    if len(s) > 0xFFFF:
        raise MqttError("%s: %d bytes, over 65535" % (field, len(s)))
    _u16(out, len(s))
    out.extend(s)


def _topic_ok(topic, field):
    # 4.7.3: at least one character; 3.3.2.1: no wildcards in a topic published to
    if not topic:
        raise MqttError(field + ": empty")
    if b"+" in topic or b"#" in topic:
        raise MqttError(field + ": a wildcard in a topic name")


def connect(out, client_id, keepalive_s, clean=True, will_topic=None, will_msg=b"",
            will_qos=0, will_retain=False, user=None, password=None):
    """CONNECT (3.1) appended to out. user None: no credentials; a password needs a user
    (3.1.2.9). keepalive_s: 0..65535, 0 = none (3.1.2.10)."""
    client_id = _b(client_id)
    if not 0 <= keepalive_s <= 0xFFFF:
        raise MqttError("CONNECT keepalive: %d outside 0..65535" % keepalive_s)
    if not 0 <= will_qos <= 2:
        raise MqttError("CONNECT will QoS: %d outside 0..2" % will_qos)
    if password is not None and user is None:
        raise MqttError("CONNECT password: given without a user name")
    flags = 0x02 if clean else 0                     # 3.1.2.4 clean session
    n = 10 + 2 + len(client_id)
    if will_topic is not None:
        will_topic = _b(will_topic)
        will_msg = _b(will_msg)
        _topic_ok(will_topic, "CONNECT will topic")
        flags |= 0x04 | will_qos << 3 | (0x20 if will_retain else 0)    # 3.1.2.5-3.1.2.7
        n += 4 + len(will_topic) + len(will_msg)
    if user is not None:
        user = _b(user)
        flags |= 0x80                                # 3.1.2.8
        n += 2 + len(user)
    if password is not None:
        password = _b(password)
        flags |= 0x40                                # 3.1.2.9
        n += 2 + len(password)
    out.append(CONNECT << 4)
    _length(out, n)
    out.extend(b"\x00\x04MQTT\x04")                  # protocol name and level 4 (3.1.2.1-2)
    out.append(flags)
    _u16(out, keepalive_s)
    _str(out, client_id, "CONNECT client id")        # 3.1.3.1
    if will_topic is not None:
        _str(out, will_topic, "CONNECT will topic")
        _str(out, will_msg, "CONNECT will message")
    if user is not None:
        _str(out, user, "CONNECT user name")
    if password is not None:
        _str(out, password, "CONNECT password")


def publish(out, topic, payload, qos=0, retain=False, pid=0, dup=False):
    """PUBLISH (3.3) appended to out. QoS 1 and 2 need a packet id 1..65535 (2.3.1)."""
    _topic_ok(topic, "PUBLISH topic")
    if not 0 <= qos <= 2:
        raise MqttError("PUBLISH QoS: %d outside 0..2" % qos)
    if qos and not 0 < pid <= 0xFFFF:
        raise MqttError("PUBLISH packet id: %d outside 1..65535" % pid)
    out.append(PUBLISH << 4 | (0x08 if dup else 0) | qos << 1 | (1 if retain else 0))
    _length(out, 2 + len(topic) + (2 if qos else 0) + len(payload))
    _str(out, topic, "PUBLISH topic")
    if qos:
        _u16(out, pid)
    out.extend(payload)


def subscribe(out, pid, topics):
    """SUBSCRIBE (3.8) appended to out: topics = ((topic filter, requested QoS), ...)."""
    if not 0 < pid <= 0xFFFF:
        raise MqttError("SUBSCRIBE packet id: %d outside 1..65535" % pid)
    if not topics:
        raise MqttError("SUBSCRIBE: no topic filter")        # 3.8.3
    n = 2
    for t, q in topics:
        if not t:
            raise MqttError("SUBSCRIBE topic filter: empty")
        if not 0 <= q <= 2:
            raise MqttError("SUBSCRIBE QoS: %d outside 0..2" % q)
        n += 3 + len(t)
    out.append(SUBSCRIBE << 4 | 0x02)                 # 3.8.1: reserved flags 0010
    _length(out, n)
    _u16(out, pid)
    for t, q in topics:
        _str(out, t, "SUBSCRIBE topic filter")
        out.append(q)


def puback(out, pid):
    """PUBACK (3.4): the answer to an incoming QoS 1 PUBLISH."""
    out.append(PUBACK << 4)
    out.append(2)
    _u16(out, pid)


def pingreq(out):
    """PINGREQ (3.12)."""
    out.append(PINGREQ << 4)
    out.append(0)


def disconnect(out):
    """DISCONNECT (3.14): the will is discarded."""
    out.append(DISCONNECT << 4)
    out.append(0)


# --- decoding (server -> client) ------------------------------------------------------------

class Reader:
    """Whole incoming packets out of a byte stream that arrives in pieces of any size.

        r = Reader(4096)
        r.feed(chunk, n)               # hand over chunk[:n] (kept by reference until used up)
        t = r.next()                   # a packet type, SKIPPED, or 0: the chunk is used up
        while t: ...; t = r.next()     # call next() until 0 before the next feed()

    After next() the packet's fields are attributes: qos, retain, dup, pid (PUBLISH, PUBACK,
    SUBACK ...; a SKIPPED QoS 1 PUBLISH: its packet id, 0 if it was never seen), code (CONNACK:
    the return code; SUBACK: SUBACK_FAILURE if any subscription was refused, else 0),
    session_present (CONNACK); topic() and payload() (PUBLISH) copy them out."""

    def __init__(self, max_packet=4096):
        self.max_packet = max_packet
        self.buf = bytearray(max_packet)
        self.skipped = 0           # packets skipped, over max_packet
        self.reset()

    def reset(self):
        """A new connection: nothing held."""
        self._in = None
        self._i = 0
        self._n = 0
        self.fill = 0              # bytes of the current packet held in buf
        self._need = 0             # its total length; 0 while its fixed header is incomplete
        self._hdr = 0              # its fixed header's length
        self._rem = 0
        self._left = 0             # skipping: bytes still to discard
        self._pos = 0              # skipping: position in the packet of the next byte
        self._got = 0              # skipping a QoS 1/2 PUBLISH: topic length, packet id bytes seen
        self._tlen = 0
        self._spid = 0
        self.type = 0
        self.qos = 0
        self.retain = 0
        self.dup = 0
        self.pid = 0
        self.code = 0
        self.session_present = 0
        self._t0 = self._t1 = self._p0 = self._p1 = 0

    def feed(self, data, n=-1):
        """Hand over data[:n] (all of data if n < 0); next() takes the packets out of it."""
        if self._i < self._n:
            raise ValueError("Reader.feed: the last chunk is not used up")
        self._in = data
        self._i = 0
        self._n = len(data) if n < 0 else n

    def held(self):
        """Bytes held of a packet not yet complete (never more than max_packet)."""
        return self.fill

    def topic(self):
        return bytes(self.buf[self._t0:self._t1])

    def payload(self):
        return bytes(self.buf[self._p0:self._p1])

    def next(self):
        data = self._in
        buf = self.buf
        while True:
            avail = self._n - self._i
            if self._left:                       # an oversized packet streams past
                k = self._left if self._left < avail else avail
                if self._got < 4 and self.type == PUBLISH and self.qos:
                    self._note(data, self._i, k)
                self._i += k
                self._pos += k
                self._left -= k
                if self._left:
                    return 0
                self.skipped += 1
                self.pid = self._spid if self._got == 4 else 0
                self.fill = 0
                return SKIPPED
            if not self._need:                   # the fixed header, one byte at a time
                if not avail:
                    return 0
                b = data[self._i]
                self._i += 1
                buf[self.fill] = b
                self.fill += 1
                if self.fill == 1:
                    self._first(b)
                    continue
                self._rem |= (b & 0x7F) << (7 * (self.fill - 2))
                if b & 0x80:
                    if self.fill == 5:
                        raise MqttError("remaining length: a fifth byte (2.2.3)")
                    continue
                self._hdr = self.fill
                total = self.fill + self._rem
                if total > self.max_packet:
                    self._left = self._rem
                    self._pos = self.fill
                    self._got = 0
                    self._tlen = 0
                    self._spid = 0
                    if self._left:
                        continue
                self._need = total
                avail = self._n - self._i
            k = self._need - self.fill
            if k > avail:
                k = avail
            if k:
                i = self._i
                f = self.fill
                if k <= 8:
                    for j in range(k):
                        buf[f + j] = data[i + j]
                else:
                    buf[f:f + k] = data[i:i + k]
                self._i = i + k
                self.fill = f + k
            if self.fill < self._need:
                return 0
            return self._decode()

    def _first(self, b):
        """The fixed header's first byte: a type a server sends, with its flags (2.2.2)."""
        t = b >> 4
        f = b & 0x0F
        self.type = t
        self._rem = 0
        if t == PUBLISH:
            self.qos = (f >> 1) & 3
            self.retain = f & 1
            self.dup = f >> 3
            if self.qos == 3:
                raise MqttError("PUBLISH: QoS 3 (3.3.1.2)")
            return
        self.qos = 0
        if t == PUBREL:
            if f != 2:
                raise MqttError("PUBREL: reserved flags not 0010 (3.6.1)")
            return
        if t == CONNACK or PUBACK <= t <= PUBCOMP or t == SUBACK or t == UNSUBACK \
                or t == PINGRESP:
            if f:
                raise MqttError("packet type %d: reserved flags set (2.2.2)" % t)
            return
        raise MqttError("packet type %d: reserved, or sent by clients only (2.2.1)" % t)

    def _note(self, data, off, k):
        """From the next k bytes of a skipped QoS 1/2 PUBLISH (data[off:], at position _pos in
        the packet), note its topic length and then its packet id (3.3.2): a PUBACK needs it."""
        pos = self._pos
        while self._got < 4:
            got = self._got
            q = self._hdr + got + (self._tlen if got >= 2 else 0)
            if q >= pos + k:
                return
            v = data[off + q - pos]
            if got < 2:
                self._tlen = self._tlen << 8 | v
            else:
                self._spid = self._spid << 8 | v
            self._got = got + 1

    def _decode(self):
        b = self.buf
        h = self._hdr
        end = self._need
        t = self.type
        self.fill = 0
        self._need = 0
        rem = end - h
        if t == PUBLISH:
            if rem < 2:
                raise MqttError("PUBLISH: no room for the topic length (3.3.2.1)")
            tl = b[h] << 8 | b[h + 1]
            if not tl:
                raise MqttError("PUBLISH topic: empty (4.7.3)")
            self._t0 = h + 2
            self._t1 = h + 2 + tl
            self._p0 = self._t1 + (2 if self.qos else 0)
            if self._p0 > end:
                raise MqttError("PUBLISH topic: runs past the packet (3.3.2.1)")
            self.pid = 0
            if self.qos:
                self.pid = b[self._t1] << 8 | b[self._t1 + 1]
                if not self.pid:
                    raise MqttError("PUBLISH packet id: 0 (2.3.1)")
            self._p1 = end
            return t
        if t == CONNACK:
            if rem != 2:
                raise MqttError("CONNACK: remaining length %d, not 2 (3.2.1)" % rem)
            if b[h] & 0xFE:
                raise MqttError("CONNACK: reserved acknowledge flags set (3.2.2.1)")
            self.session_present = b[h] & 1
            self.code = b[h + 1]
            return t
        if t == PINGRESP:
            if rem:
                raise MqttError("PINGRESP: remaining length %d, not 0 (3.13.1)" % rem)
            return t
        if t == SUBACK:
            if rem < 3:
                raise MqttError("SUBACK: remaining length %d, under 3 (3.9.2)" % rem)
            self.code = 0
            for i in range(h + 2, end):
                c = b[i]
                if c == SUBACK_FAILURE:
                    self.code = SUBACK_FAILURE
                elif c > 2:
                    raise MqttError("SUBACK return code: 0x%02x reserved (3.9.3)" % c)
        elif rem != 2:                 # PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK
            raise MqttError("packet type %d: remaining length %d, not 2" % (t, rem))
        self.pid = b[h] << 8 | b[h + 1]
        return t
