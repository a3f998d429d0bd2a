# The MQTT link (comms/mqtt.py on the codec proto/mqtt.py) against a real mosquitto broker:
# credentials, last will and retained status, QoS 1 publish, incoming commands, reconnect with
# backoff after the broker or the Wi-Fi goes away, and no poll() ever stalling the loop by more
# than 100 ms.
import socket
import sys
import threading
import time

import paho.mqtt.client as paho

from fake_dns import DnsServer
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
    # the shipped deployment config (deploy/mosquitto): per-site login and ACLs
    w = Watch(auth_broker, ["mimamori/v1/+/status", "mimamori/v1/+/event"],
              *auth_broker.login("centre"))
    got = []
    user, password = auth_broker.login("site-001")
    link = make(auth_broker, user=user, password=password,
                on_message=lambda t, m: got.append((t, m)))
    slow = []
    assert pump(link, lambda: link.connected, slow=slow)
    assert pump(link, lambda: w.payloads("mimamori/v1/site-001/status") == [b"online"])
    assert link.publish(link.topic("event"), '{"seq":1,"label":"火災"}'.encode(), qos=1)
    assert pump(link, lambda: link.pubacks >= 1 and w.payloads("mimamori/v1/site-001/event"))
    assert w.payloads("mimamori/v1/site-001/event") == ['{"seq":1,"label":"火災"}'.encode()]
    # a command published by the centre reaches on_message (QoS 1, PUBACKed by the link)
    w.c.publish("mimamori/v1/site-001/cmd", b'{"cmd":"status"}', qos=1)
    assert pump(link, lambda: got)
    assert got == [(b"mimamori/v1/site-001/cmd", b'{"cmd":"status"}')]
    assert max(slow) < 0.1
    link.close(now_ms())
    w.close()


def test_the_link_needs_no_mqtt_library(broker, monkeypatch):
    # umqtt.simple is the bench's reference client only: with it gone, the link still comes up,
    # publishes and receives (issue 11.2: what is tested is what runs)
    monkeypatch.setitem(sys.modules, "umqtt", None)
    monkeypatch.setitem(sys.modules, "umqtt.simple", None)
    got = []
    link = make(broker, on_message=lambda t, m: got.append(m))
    assert pump(link, lambda: link.connected)
    c = _client(broker, "centre")
    assert _delivered(link, c, link.topic("cmd").decode(), b'{"cmd":"status"}', got)
    assert link.publish(link.topic("event"), b'{"seq":1}', qos=1)
    assert pump(link, lambda: link.pubacks >= 1)
    c.loop_stop()
    c.disconnect()
    link.close(now_ms())


def test_wrong_password_backs_off_without_raising(auth_broker):
    link = make(auth_broker, user="site-001", password="nope")   # a wrong password
    slow = []
    pump(link, lambda: link.drops >= 3, timeout=6, slow=slow)
    assert link.drops >= 3 and not link.connected
    # the broker's CONNACK refusal, named (mosquitto: 5, not authorized)
    assert link.last_error.startswith("mqtt: refused: "), link.last_error
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


def _client(b, cid, user=None, password=None):
    c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=cid)
    if user:
        c.username_pw_set(user, password)
    c.connect(b.host, b.port)
    c.loop_start()
    return c


def _delivered(link, c, topic, payload, got):
    """Publish until the link has it (its SUBACK may still be on the way)."""
    for _ in range(20):
        c.publish(topic, payload, qos=1).wait_for_publish(5)
        if pump(link, lambda: payload in got, 0.5):
            return True
    return False


def test_oversized_publishes_are_skipped_the_session_stays_up(broker):
    # 25 publishes of 20 kB on our cmd topic, more than mosquitto keeps in flight (20): each is
    # skipped as it streams in (never buffered), PUBACKed so the broker's queue moves on, and
    # the session is kept. A command after them still arrives.
    got = []
    link = make(broker, on_message=lambda t, p: got.append(p))
    assert pump(link, lambda: link.connected)
    c = _client(broker, "big")
    topic = link.topic("cmd").decode()
    assert _delivered(link, c, topic, b'{"small": 0}', got)
    for i in range(25):
        c.publish(topic, b"x" * 20000, qos=1)
    c.publish(topic, b'{"small": 1}', qos=1)
    worst = [0]

    def watch():
        worst[0] = max(worst[0], link._rx.held())
        return b'{"small": 1}' in got
    assert pump(link, watch, timeout=10)
    assert link.drops == 0 and link.connected          # the session was never dropped
    assert link.skipped == 25
    assert not [p for p in got if len(p) > 1000]      # none reached the handler ...
    assert worst[0] <= M.MAX_PACKET                   # ... nor the heap
    c.loop_stop()
    c.disconnect()
    link.close(now_ms())


def test_an_oversized_retained_command_does_not_keep_the_controller_off_mqtt(broker):
    # Someone left a retained 5 kB message on the site's cmd topic: the broker hands it over at
    # every subscription. The controller skips it and stays connected.
    c = _client(broker, "retainer")
    topic = "mimamori/v1/%s/cmd" % SITE
    c.publish(topic, b"r" * 5000, qos=1, retain=True).wait_for_publish(5)
    got = []
    link = make(broker, on_message=lambda t, p: got.append(p))
    assert pump(link, lambda: link.connected)
    pump(link, lambda: False, timeout=2)
    assert link.connected and link.drops == 0 and link.skipped == 1
    assert _delivered(link, c, topic, b'{"cmd": "status"}', got)
    c.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)   # clear the retained one
    c.loop_stop()
    c.disconnect()
    link.close(now_ms())


def test_a_flood_on_the_cmd_topic_does_not_delay_the_centres_ack(broker):
    # 640 kB/s of junk on the site's cmd topic while the centre acks a report: the link reads
    # enough each 10 ms loop pass to keep up, so the ack arrives within a second.
    seen = {}
    link = make(broker, on_message=lambda t, p: seen.setdefault(p, time.monotonic())
                if t.endswith(b"/ack") else None)
    assert pump(link, lambda: link.connected)
    c = _client(broker, "flood")
    ack_topic = link.topic("ack").decode()
    for _ in range(40):             # until our subscriptions are in place
        c.publish(ack_topic, b"probe", qos=1).wait_for_publish(5)
        if pump(link, lambda: b"probe" in seen, 0.2):
            break
    assert b"probe" in seen
    stop = threading.Event()
    junk = b"j" * 300

    def flood():
        topic = link.topic("cmd").decode()
        while not stop.is_set():
            for _ in range(20):
                c.publish(topic, junk, qos=0)
            time.sleep(0.01)
    th = threading.Thread(target=flood, daemon=True)
    th.start()
    sent = None
    worst = 0.0
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < 6 and b"ACK" not in seen:
            if sent is None and time.monotonic() - t0 > 2.0:
                c.publish(ack_topic, b"ACK", qos=1)
                sent = time.monotonic()
            p0 = time.perf_counter()
            link.poll(now_ms())
            worst = max(worst, time.perf_counter() - p0)
            time.sleep(0.01)         # the app's loop period
    finally:
        stop.set()
        th.join()
    assert b"ACK" in seen, "the ack never arrived in 4 s of flood"
    assert seen[b"ACK"] - sent < 1.0, seen[b"ACK"] - sent
    assert worst < 0.1, worst        # and each poll stayed bounded (RX_BUDGET)
    assert link.connected and link.drops == 0
    c.loop_stop()
    c.disconnect()
    link.close(now_ms())


class _DripBroker:
    """A TCP peer that answers CONNECT and SUBSCRIBE like a broker, then only drips: one byte
    of a packet that never completes, whenever the test says so."""

    def __init__(self):
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.srv.settimeout(2)
        self.port = self.srv.getsockname()[1]
        self.conns = []

    def accept(self, link, t):
        link.poll(t)
        conn, _ = self.srv.accept()
        conn.settimeout(2)
        self.conns.append(conn)
        return conn

    def close(self):
        for c in self.conns:
            c.close()
        self.srv.close()


def test_a_broker_that_drips_bytes_without_acking_is_dropped_and_redialled():
    drip = _DripBroker()
    link = M.MqttLink(SITE, "127.0.0.1", drip.port, keepalive_s=60)
    t = 1000
    conn = drip.accept(link, t)
    for _ in range(50):
        t += 10
        link.poll(t)
        if link.state == M.CONNACK:
            break
    assert conn.recv(4096)[0] == 0x10               # CONNECT
    conn.sendall(b"\x20\x02\x00\x00")              # CONNACK accepted
    for _ in range(5):
        t += 10
        link.poll(t)
    assert link.connected
    assert link.publish(link.topic("event"), b'{"seq":1}', qos=1)   # a report, awaiting PUBACK
    for _ in range(5):
        t += 10
        link.poll(t)
    conn.recv(4096)                                   # SUBSCRIBE, status, the report
    conn.sendall(b"\x30\x7f")                          # a PUBLISH of 127 bytes begins ...
    up_for = 0
    while link.connected and up_for < 600000:         # ... and one more byte every 5 s
        conn.sendall(b"d")
        t += 5000
        up_for += 5000
        link.poll(t)
    assert not link.connected, "still 'up' after 10 minutes without a PUBACK"
    assert up_for <= M.PROGRESS_MS + 5000
    assert "oserror" in link.last_error
    t += M.BACKOFF_MAX_MS
    conn2 = drip.accept(link, t)                      # redialled
    assert conn2 is not None
    drip.close()


# --- DNS: the broker's address never stalls the loop ------------------------------------------

def _slow_getaddrinfo(monkeypatch):
    """The platform resolver made slow (5 s, as with a bad DNS server): whoever calls it stalls."""
    import usocket
    calls = []

    def slow(*a, **k):
        calls.append(a)
        time.sleep(5)
        raise OSError(-3, "Temporary failure in name resolution")
    monkeypatch.setattr(usocket, "getaddrinfo", slow)
    return calls


def test_an_ip_address_is_never_looked_up(broker, monkeypatch):
    calls = _slow_getaddrinfo(monkeypatch)
    link = make(broker)                       # host 127.0.0.1
    slow = []
    assert pump(link, lambda: link.connected, timeout=8, slow=slow)
    assert max(slow) < 0.1, slow
    assert calls == []


def test_a_slow_dns_server_never_stalls_the_loop(broker, monkeypatch):
    calls = _slow_getaddrinfo(monkeypatch)
    dns = DnsServer(delay_s=1.5)             # answers after 1.5 s (the query is resent at 1 s)
    link = M.MqttLink(SITE, "broker.test", broker.port, keepalive_s=30, dns=dns.addr)
    slow = []
    try:
        assert pump(link, lambda: link.connected, timeout=8, slow=slow), link.last_error
        assert max(slow) < 0.05, slow         # every loop pass stayed short meanwhile
        assert calls == [] and dns.queries >= 1
    finally:
        link.close(now_ms())
        dns.close()


def test_a_dead_or_wrong_dns_answer_is_retried_without_stalling(broker, monkeypatch):
    _slow_getaddrinfo(monkeypatch)
    for behaviour, why in ((None, "dns: no answer for broker.test"),
                           ("nx", "dns: broker.test: no such host")):
        dns = DnsServer(delay_s=behaviour)
        link = M.MqttLink(SITE, "broker.test", broker.port, keepalive_s=30, dns=dns.addr)
        slow = []
        try:
            pump(link, lambda: link.drops >= 1, timeout=6, slow=slow)
            assert not link.connected and link.last_error == why, link.last_error
            assert max(slow) < 0.05, slow
        finally:
            dns.close()


def test_a_host_name_dns_cannot_hold_is_an_error_not_a_crash():
    link = M.MqttLink(SITE, "broker..example", 1883, keepalive_s=30, dns=("127.0.0.1", 9))
    link.poll(1000)                       # no exception escapes into the loop
    assert not link.connected and link.last_error == "dns: broker..example: bad host name"


def _up_on(drip):
    """A link brought up against a _DripBroker: (link, its connection, the time)."""
    link = M.MqttLink(SITE, "127.0.0.1", drip.port, keepalive_s=60)
    t = 1000
    conn = drip.accept(link, t)
    for _ in range(50):
        t += 10
        link.poll(t)
        if link.state == M.CONNACK:
            break
    conn.recv(4096)
    conn.sendall(b"\x20\x02\x00\x00")
    for _ in range(5):
        t += 10
        link.poll(t)
    assert link.connected
    return link, conn, t


def test_a_malformed_publish_from_the_broker_drops_the_session_never_the_loop():
    got = []
    for bad in (b"\x34\x09\x00\x03a/b\x00\x01hi",     # QoS 2: never subscribed for
                b"\x30\x07\x03\xe8a/bhi",              # topic longer than the packet
                b"\x32\x05\x00\x03a/b"):               # QoS 1 without its packet id
        drip = _DripBroker()
        link, conn, t = _up_on(drip)
        link.on_message = lambda tp, p: got.append(p)
        conn.sendall(bad + b"\x30\x05\x00\x01xok")      # ... and a good one behind it
        for _ in range(5):
            t += 10
            link.poll(t)                                # nothing escapes into the loop
        assert not link.connected and link.last_error.startswith("mqtt: "), (bad, link.last_error)
        drip.close()
    assert got == []                                    # nothing half-parsed was handed on


def test_a_failing_message_handler_loses_nothing_behind_it():
    # Two commands arrive in one read; the handler fails on the first. The second still arrives
    # and the session stays up (the stream is not left half-parsed).
    drip = _DripBroker()
    link, conn, t = _up_on(drip)
    got = []

    def handler(topic, payload):
        if payload == b"bad":
            raise ValueError("handler bug")
        got.append(payload)
    link.on_message = handler
    conn.sendall(b"\x30\x06\x00\x01xbad" + b"\x30\x07\x00\x01xgood")
    for _ in range(5):
        t += 10
        link.poll(t)
    assert got == [b"good"] and link.connected
    assert "handler bug" in link.last_error
    drip.close()
