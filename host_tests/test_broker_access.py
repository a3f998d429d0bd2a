# The shipped broker configuration (deploy/mosquitto: mosquitto.conf + acl) on a real mosquitto:
# who may publish and subscribe where. Every client here logs in as a real deployment's user
# would: site-001 and site-002 (controllers), centre (the receiver), ha-site-00N (Home Assistant).
import threading
import time

import paho.mqtt.client as paho

from mqtt_broker import site_broker  # noqa: F401 (fixture)
from mimamori.comms import mqtt as M

P = "mimamori/v1"


class Client:
    """A paho client logged in as `user` (its password from the broker), recording what it
    receives and the broker's answer to each SUBSCRIBE."""

    def __init__(self, b, user, client_id=None, password=None, port=None):
        self.msgs = []
        self.granted = []
        self.refused = None
        self.gone = threading.Event()
        self.c = paho.Client(paho.CallbackAPIVersion.VERSION2,
                             client_id=client_id or "c-%s-%d" % (user, id(self)))
        if user is not None:
            self.c.username_pw_set(user, password if password is not None else b.login(user)[1])
        self.c.on_message = lambda c, u, m: self.msgs.append((m.topic, m.payload))
        up = threading.Event()
        subacked = self._subacked = threading.Event()

        def on_connect(c, u, f, rc, p):
            if rc.is_failure:
                self.refused = rc
            up.set()

        def on_subscribe(c, u, mid, codes, p):
            self.granted.extend(codes)
            subacked.set()
        self.c.on_connect = on_connect
        self.c.on_subscribe = on_subscribe
        self.c.on_disconnect = lambda *a: self.gone.set()
        self.c.connect(b.host, port or b.port, 30)
        self.c.loop_start()
        assert up.wait(5) or self.gone.wait(0.1)

    def subscribe(self, *topics):
        self._subacked.clear()
        self.c.subscribe([(t, 1) for t in topics])
        assert self._subacked.wait(5)
        return self

    def publish(self, topic, payload):
        self.c.publish(topic, payload, qos=1).wait_for_publish(5)

    def got(self, topic):
        return [p for t, p in self.msgs if t == topic]

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def settle(s=0.5):
    time.sleep(s)


def test_a_client_without_a_login_or_with_a_wrong_password_is_refused(site_broker):
    b = site_broker
    anon = Client(b, None)
    wrong = Client(b, "site-001", password="guess")
    assert anon.refused is not None and not anon.refused.value == 0
    assert wrong.refused is not None
    anon.close()
    wrong.close()
    # the controller's link with a wrong password never comes up
    link = M.MqttLink("site-001", b.host, b.port, "site-001", "guess", keepalive_s=30)
    t = 0
    end = time.monotonic() + 3
    while time.monotonic() < end:
        t += 10
        link.poll(t)
        assert not link.connected
        time.sleep(0.005)
    assert link.drops >= 1


def test_a_site_cannot_publish_on_another_sites_topics(site_broker):
    b = site_broker
    centre = Client(b, "centre").subscribe(P + "/+/event", P + "/+/ack", P + "/+/status",
                                           P + "/+/state", P + "/+/ha/cmd")
    victim = Client(b, "site-002").subscribe(P + "/site-002/cmd", P + "/site-002/ack")
    a = Client(b, "site-001")
    for kind in ("event", "ack", "status", "state", "cmd", "ha/cmd"):
        a.publish("%s/site-002/%s" % (P, kind), b"forged by site-001")
    a.publish("homeassistant/alarm_control_panel/site-002/config", b"forged by site-001")
    # what site-001 may do, as a control: its own report reaches the centre
    a.publish(P + "/site-001/event", b"own report")
    settle()
    assert centre.got(P + "/site-001/event") == [b"own report"]
    assert not [m for m in centre.msgs + victim.msgs if m[1] == b"forged by site-001"]
    for c in (centre, victim, a):
        c.close()


def test_a_site_cannot_read_another_sites_commands_acks_or_home_assistant_requests(site_broker):
    b = site_broker
    spy = Client(b, "site-001").subscribe(P + "/site-002/cmd", P + "/site-002/ack",
                                          P + "/site-002/ha/cmd", P + "/+/cmd", P + "/#", "#")
    victim = Client(b, "site-002").subscribe(P + "/site-002/cmd", P + "/site-002/ack")
    centre = Client(b, "centre").subscribe(P + "/+/ha/cmd")
    ha = Client(b, "ha-site-002")
    centre.publish(P + "/site-002/cmd", b"signed command")
    centre.publish(P + "/site-002/ack", b"signed ack")
    ha.publish(P + "/site-002/ha/cmd", b'{"action":"DISARM","code":"1234"}')
    settle()
    assert victim.got(P + "/site-002/cmd") == [b"signed command"]      # the rightful reader
    assert victim.got(P + "/site-002/ack") == [b"signed ack"]
    assert centre.got(P + "/site-002/ha/cmd") == [b'{"action":"DISARM","code":"1234"}']
    assert spy.msgs == []
    for c in (spy, victim, centre, ha):
        c.close()


def test_home_assistant_may_only_ask_on_ha_cmd_and_read_its_house(site_broker):
    b = site_broker
    controller = Client(b, "site-001").subscribe(P + "/site-001/cmd", P + "/site-001/ack")
    centre = Client(b, "centre").subscribe(P + "/+/event", P + "/+/ha/cmd")
    ha = Client(b, "ha-site-001").subscribe(P + "/site-001/cmd", P + "/site-002/state")
    for kind in ("cmd", "ack", "event"):
        ha.publish("%s/site-001/%s" % (P, kind), b"from ha")
    ha.publish(P + "/site-002/ha/cmd", b"from ha")             # another house
    centre.publish(P + "/site-001/cmd", b"signed command")      # HA cannot read it
    settle()
    assert controller.got(P + "/site-001/cmd") == [b"signed command"]
    assert not [m for m in controller.msgs + centre.msgs if m[1] == b"from ha"]
    assert ha.msgs == []
    for c in (controller, centre, ha):
        c.close()


def test_no_user_can_take_over_a_sites_session_with_its_client_id(site_broker):
    b = site_broker
    link = M.MqttLink("site-001", b.host, b.port, *b.login("site-001"), keepalive_s=30)
    t = 0
    end = time.monotonic() + 5
    while not link.connected and time.monotonic() < end:
        t += 10
        link.poll(t)
        time.sleep(0.002)
    assert link.connected
    impostors = [Client(b, u, client_id="site-001")
                 for u in ("site-002", "centre", "ha-site-001", "ha-site-002")]
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        t += 10
        link.poll(t)
        time.sleep(0.005)
    assert link.connected and link.drops == 0, link.last_error
    assert all(i.refused is None for i in impostors)   # they are in, but as themselves
    for i in impostors:
        i.close()
    link.close(t)
