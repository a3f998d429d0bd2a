# MQTT 3.1.1 (OASIS Standard, 29 October 2014), the client's side, sans-I/O: bytes in, packets
# out. Encoders (here) append one packet to a bytearray the caller owns; Reader
# (proto/mqtt_reader.py) takes the bytes a socket brings, in pieces of any size, and hands back
# whole packets one at a time. No socket, clock or wait in either: comms/mqtt.py owns those.
# Section numbers are the standard's.
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
