# The byte vectors of test_mqtt_codec.py (run on both runtimes) re-derived from two independent
# MQTT implementations on the host, so the vectors are not just our own codec's opinion:
# paho-mqtt 2.1.0 (the centre's and the tests' client) encodes every client packet to the same
# bytes, amqtt 0.12.1 (a broker: its own codec) decodes our bytes to the same fields and encodes
# every server packet the vectors hold.
import asyncio

import paho.mqtt.client as paho
from amqtt.adapters import BufferReader
from amqtt.mqtt.connack import ConnackPacket
from amqtt.mqtt.connect import ConnectPacket
from amqtt.mqtt.pingresp import PingRespPacket
from amqtt.mqtt.puback import PubackPacket
from amqtt.mqtt.publish import PublishPacket
from amqtt.mqtt.suback import SubackPacket
from amqtt.mqtt.subscribe import SubscribePacket

import test_mqtt_codec as V
from mimamori.proto import mqtt as C
from mimamori.proto.mqtt_reader import Reader


class _Sink:
    """paho's socket: keeps what paho writes."""

    def __init__(self):
        self.data = b""

    def send(self, b):
        self.data += bytes(b)
        return len(b)

    def close(self):
        pass


def _paho(send, client_id="x", clean=True, user=None, password=None, will=None):
    c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id,
                    clean_session=clean, protocol=paho.MQTTv311)
    if user is not None:
        c.username_pw_set(user, password)
    if will:
        c.will_set(*will)
    c._sock = sink = _Sink()
    send(c)                      # paho's own packet builder, written to the sink
    return sink.data


def test_paho_encodes_every_client_vector():
    info = paho.MQTTMessageInfo
    judged = {
        "connect, will + credentials + keepalive 60 + clean session": _paho(
            lambda c: c._send_connect(60), "site-001", user="site-001", password="pässword",
            will=(V.STATUS.decode(), b"offline", 1, True)),
        "connect, bare": _paho(lambda c: c._send_connect(0)),
        "connect, session kept, keepalive 30": _paho(lambda c: c._send_connect(30), "site-001",
                                                     clean=False),
        "publish QoS 1 retained, packet id 7": _paho(
            lambda c: c._send_publish(7, b"a/b", b"hello", 1, True, False)),
        "publish QoS 0 retained": _paho(
            lambda c: c._send_publish(0, V.STATUS, b"online", 0, True, False, info(0))),
        "publish of 200 bytes": _paho(
            lambda c: c._send_publish(0, b"a/b", b"x" * 200, 0, False, False, info(0))),
        "subscribe ack at 0, cmd at 1": _paho(lambda c: c._send_subscribe(
            False, [(b"mimamori/v1/site-001/ack", 0), (b"mimamori/v1/site-001/cmd", 1)])),
        "puback 258": _paho(lambda c: c._send_command_with_mid(paho.PUBACK, 258, False)),
        "pingreq": _paho(lambda c: c._send_simple_command(paho.PINGREQ)),
        "disconnect": _paho(lambda c: c._send_simple_command(paho.DISCONNECT)),
    }
    for name, want, ours in V.client_vectors():
        assert judged[name] == want == ours, name


def _amqtt(cls, data):
    return asyncio.run(cls.from_stream(BufferReader(bytes(data))))


def test_amqtt_decodes_our_connect_subscribe_and_publish():
    p = _amqtt(ConnectPacket, V.CONNECT_FULL)
    assert (p.client_id, p.keep_alive, p.clean_session_flag) == ("site-001", 60, True)
    assert (p.will_topic, p.will_message, p.will_qos, p.will_retain_flag) == (
        V.STATUS.decode(), b"offline", 1, True)
    assert (p.username, p.password) == ("site-001", "pässword")
    s = _amqtt(SubscribePacket, V.SUBSCRIBE_ACK_CMD)
    assert s.variable_header.packet_id == 1
    assert s.payload.topics == [("mimamori/v1/site-001/ack", 0), ("mimamori/v1/site-001/cmd", 1)]
    m = _amqtt(PublishPacket, V.PUBLISH_Q1_RETAIN)
    assert (m.topic_name, m.data, m.qos, m.retain_flag, m.packet_id) == ("a/b", b"hello", 1, True, 7)


def test_amqtt_encodes_every_server_vector():
    built = [
        ConnackPacket.build(0, 0), ConnackPacket.build(0, 5), ConnackPacket.build(1, 0),
        SubackPacket.build(9, [0, 1, 0x80]), SubackPacket.build(10, [0, 1]),
        PublishPacket.build("a/b", b"hi", 5, False, 1, True),
        PublishPacket.build("a/b", b"hi", None, False, 0, False),
        PublishPacket.build("a/b", b"", None, False, 0, False),
        PubackPacket.build(258), PingRespPacket(),
    ]
    assert [p.to_bytes() for p in built] == [raw for raw, _, _ in V.SERVER]


def test_our_reader_decodes_what_amqtt_sends_at_any_size():
    # a 100 kB QoS 1 publish: skipped by a 4 KB reader, PUBACKable; a 4000-byte one: kept
    big = PublishPacket.build("mimamori/v1/site-001/cmd", b"b" * 100000, 777, False, 1, False)
    fits = PublishPacket.build("mimamori/v1/site-001/cmd", b"f" * 4000, 778, False, 1, False)
    stream = big.to_bytes() + fits.to_bytes()
    r = Reader(4096)
    got = []
    for i in range(0, len(stream), 1000):
        r.feed(stream[i:i + 1000])
        t = r.next()
        while t:
            got.append((t, r.pid, r.payload() if t == C.PUBLISH else None))
            t = r.next()
    assert got == [(C.SKIPPED, 777, None), (C.PUBLISH, 778, b"f" * 4000)]
