# The MQTT link against a real mosquitto broker, with the real umqtt.simple: credentials, last
# will and retained status, QoS 1 publish, incoming commands, reconnect with backoff after the
# broker or the Wi-Fi goes away, and no poll() ever stalling the loop by more than 100 ms.
import socket
import threading
import time

import paho.mqtt.client as paho

from mqtt_broker import Broker, broker, auth_broker  # noqa: F401 (fixtures)
from mimamori.comms import mqtt as M

SITE = "site-001"


def now_ms():
    return int(time.monotonic() * 1000) & ((1 << 30) - 1)


class Watch:
    """A plain paho subscriber: what a centre would see on the broker."""

    def __init__(self, b, topics, user=None, password=None):
        self.msgs = []
        self.c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="watch-%d" % id(self))
        if user:
            self.c.username_pw_set(user, password)
        self.c.on_message = lambda c, u, m: self.msgs.append((m.topic, m.payload, m.retain))
        ready = threading.Event()
        self.c.on_connect = lambda c, u, f, rc, p: (c.subscribe([(t, 1) for t in topics]),
                                                    ready.set())
        self.c.connect(b.host, b.port)
        self.c.loop_start()
        assert ready.wait(5)
        time.sleep(0.2)

    def payloads(self, topic):
        return [p for t, p, _ in self.msgs if t == topic]

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


class WLAN:
    def __init__(self):
        self.up = True

    def isconnected(self):
        return self.up


def pump(link, cond, timeout=5.0, slow=None):
    """Poll like the app's loop (1 ms apart) until cond(); record the slowest poll."""
    end = time.monotonic() + timeout
    worst = 0.0
    while time.monotonic() < end:
        t0 = time.perf_counter()
        link.poll(now_ms())
        worst = max(worst, time.perf_counter() - t0)
        if cond():
            break
        time.sleep(0.001)
    if slow is not None:
        slow.append(worst)
    return cond()


def make(b, **kw):
    kw.setdefault("keepalive_s", 30)
    return M.MqttLink(SITE, b.host, b.port, **kw)


def test_connects_with_site_credentials_and_says_online(auth_broker):
    w = Watch(auth_broker, ["mimamori/v1/+/status", "mimamori/v1/+/event"], "centre", "c-secret")
    got = []
    link = make(auth_broker, user="site-001", password="s1-secret",
                on_message=lambda t, m: got.append((t, m)))
    slow = []
    assert pump(link, lambda: link.connected, slow=slow)
    assert pump(link, lambda: w.payloads("mimamori/v1/site-001/status") == [b"online"])
    assert link.publish(link.topic("event"), '{"seq":1,"label":"火災"}'.encode(), qos=1)
    assert pump(link, lambda: link.pubacks >= 1 and w.payloads("mimamori/v1/site-001/event"))
    assert w.payloads("mimamori/v1/site-001/event") == ['{"seq":1,"label":"火災"}'.encode()]
    # a command published by the centre reaches on_message (QoS 1, PUBACKed by umqtt.simple)
    w.c.publish("mimamori/v1/site-001/cmd", b'{"cmd":"status"}', qos=1)
    assert pump(link, lambda: got)
    assert got == [(b"mimamori/v1/site-001/cmd", b'{"cmd":"status"}')]
    assert max(slow) < 0.1
    link.close(now_ms())
    w.close()


def test_wrong_password_backs_off_without_raising(auth_broker):
    link = make(auth_broker, user="site-001", password="nope")
    slow = []
    pump(link, lambda: link.drops >= 3, timeout=6, slow=slow)
    assert link.drops >= 3 and not link.connected
    assert "oserror" in link.last_error
    assert link._backoff >= 4 * M.BACKOFF_MIN_MS   # it doubled on each failure
    assert max(slow) < 0.1


def test_last_will_says_offline_when_the_controller_vanishes(broker):
    w = Watch(broker, ["mimamori/v1/+/status"])
    link = make(broker, keepalive_s=2)
    assert pump(link, lambda: link.connected)
    assert pump(link, lambda: w.payloads("mimamori/v1/site-001/status") == [b"online"])
    link._sock.close()      # power cut: no DISCONNECT, the broker notices the dead socket
    link._sock = None
    end = time.monotonic() + 6
    while time.monotonic() < end and b"offline" not in w.payloads("mimamori/v1/site-001/status"):
        time.sleep(0.05)
    assert w.payloads("mimamori/v1/site-001/status")[-1] == b"offline"
    # retained: a centre that connects later still sees it
    w2 = Watch(broker, ["mimamori/v1/site-001/status"])
    assert w2.msgs and w2.msgs[-1][1:] == (b"offline", True)
    w.close()
    w2.close()


def test_broker_down_then_back_reconnects_and_never_stalls(broker):
    link = make(broker)
    slow = []
    assert pump(link, lambda: link.connected, slow=slow)
    broker.stop()
    assert pump(link, lambda: not link.connected, timeout=5, slow=slow)
    assert not link.publish(link.topic("event"), b"x", qos=1)   # refused, not blocked
    pump(link, lambda: False, timeout=1.5, slow=slow)           # refused connects, backing off
    assert link.drops >= 2
    broker.start()
    assert pump(link, lambda: link.connected, timeout=8, slow=slow)
    assert link.connects == 2
    assert max(slow) < 0.1, slow


def test_wifi_loss_drops_the_session_and_comes_back(broker):
    wlan = WLAN()
    link = make(broker, wlan=wlan)
    assert pump(link, lambda: link.connected)
    wlan.up = False
    link.poll(now_ms())
    assert not link.connected and link.last_error == "wifi"
    pump(link, lambda: False, timeout=0.3)
    assert link._sock is None      # no connect attempts while the Wi-Fi is down
    wlan.up = True
    assert pump(link, lambda: link.connected, timeout=5)


def test_a_broker_that_never_answers_times_out():
    # A TCP peer that accepts and then says nothing: umqtt.simple.connect() would wait forever.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]
    link = M.MqttLink(SITE, "127.0.0.1", port, keepalive_s=30)
    t = 1000
    link.poll(t)
    assert link.state == M.CONNECTING
    for _ in range(50):
        t += 20
        link.poll(t)
        if link.state == M.CONNACK:
            break
    assert link.state == M.CONNACK
    t0 = time.perf_counter()
    link.poll(t + M.CONNECT_TIMEOUT_MS + 1)
    assert time.perf_counter() - t0 < 0.1
    assert link.state == M.DOWN and "oserror" in link.last_error
    srv.close()


def test_an_oversized_publish_on_our_topics_drops_the_session_not_the_heap(broker):
    got = []
    link = make(broker, on_message=lambda t, p: got.append(p))
    assert pump(link, lambda: link.connected)
    c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="big")
    c.connect(broker.host, broker.port)
    c.loop_start()
    topic = link.topic("cmd").decode()

    def delivered(payload):
        """Publish until the link has it (its SUBACK may still be on the way)."""
        for _ in range(20):
            c.publish(topic, payload, qos=1).wait_for_publish(5)
            if pump(link, lambda: payload in got, 0.5):
                return True
        return False
    assert delivered(b'{"small": 0}')
    drops = link.drops
    c.publish(topic, b"x" * 200000, qos=1).wait_for_publish(5)
    assert pump(link, lambda: link.drops > drops)            # refused at the header ...
    assert b"x" * 200000 not in got and len(link._pipe.rx) <= M.MAX_PACKET   # ... no 200 kB
    assert delivered(b'{"small": 1}')                          # back, normal traffic flows
    c.loop_stop()
    c.disconnect()
    link.close(now_ms())
