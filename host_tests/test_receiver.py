# The monitoring-centre receiver (tools/receiver.py) with a real broker: shared subscription
# splitting the load, signed acks, duplicates shown once, forged and unknown reports refused,
# silent sites flagged, and signed commands from its CLI reaching the controller's verifier
# (accepted, wrong code, replayed, stale) with the reasons coming back on the ack topic.
import os
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as paho

from mqtt_broker import broker  # noqa: F401 (fixture)
from mimamori.comms import delivery as D
from mimamori.comms import mqtt as M
from mimamori.core import auth as A
from mimamori.core import commands as C
from mimamori.core import events as E
from mimamori.proto import frame as F
from mimamori.store.journal import Journal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import receiver as R  # noqa: E402

SITE = "site-001"
KEY_HEX = "00112233445566778899aabbccddeeff" * 2
KEY = F.site_key(KEY_HEX)


def now_ms():
    return int(time.monotonic() * 1000) & ((1 << 30) - 1)


def _event(seq, kind=E.ALARM, cid=E.CID_GAS, zone=4, name="台所"):
    ev = E.Event(0, kind, cid, E.Q_NEW, zone=zone, zone_name=name, mode="stay")
    ev.seq = seq
    ev.wall = "2026-11-22T12:00:00+09:00"
    return F.event_frame(KEY, SITE, ev, 10)


class Pub:
    def __init__(self, b, topics=()):
        self.msgs = []
        self.c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="pub-%d" % id(self))
        self.c.on_message = lambda c, u, m: self.msgs.append((m.topic, m.payload))
        self.c.connect(b.host, b.port)
        for t in topics:
            self.c.subscribe(t, 1)
        self.c.loop_start()
        time.sleep(0.3)

    def send(self, topic, payload):
        self.c.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def wait(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end and not cond():
        time.sleep(0.01)
    return cond()


def test_shared_subscription_splits_the_load_and_each_seq_shows_once(broker):
    db = os.path.join(tempfile.mkdtemp(), "centre.db")
    stores = [R.Store(db), R.Store(db)]
    stores[0].add_site(SITE, KEY_HEX)
    lines = [[], []]
    rxs = [R.Receiver(stores[i], broker.host, broker.port, name="rx%d" % i,
                      out=lines[i].append).start() for i in range(2)]
    assert all(rx.wait_connected() for rx in rxs)
    p = Pub(broker, ["mimamori/v1/site-001/ack"])
    for seq in range(1, 41):
        p.send("mimamori/v1/site-001/event", _event(seq))
    p.send("mimamori/v1/site-001/event", _event(7))        # a resend the centre already has
    assert wait(lambda: sum(rx.acked for rx in rxs) == 41)
    assert rxs[0].acked > 0 and rxs[1].acked > 0           # both took a share
    shown = sorted(rxs[0].shown + rxs[1].shown)
    assert shown == [(SITE, s) for s in range(1, 41)]      # each seq shown once in all
    assert wait(lambda: len([1 for t, _ in p.msgs if t.endswith("/ack")]) == 41)
    acks = [F.verify_ack(KEY, SITE, m) for t, m in p.msgs if t.endswith("/ack")]
    assert sorted(set(acks)) == list(range(1, 41)) and acks.count(7) == 2   # re-acked, signed
    assert any(line.startswith("!! 異常 [E ガス漏れ] ガス漏れ ゾーン4 台所") for line in lines[0] + lines[1])
    for rx in rxs:
        rx.stop()
    p.close()


def test_forged_and_unknown_reports_are_refused_not_acked(broker):
    store = R.Store(os.path.join(tempfile.mkdtemp(), "centre.db"))
    store.add_site(SITE, KEY_HEX)
    out = []
    rx = R.Receiver(store, broker.host, broker.port, out=out.append).start()
    assert rx.wait_connected()
    p = Pub(broker)
    p.send("mimamori/v1/site-001/event", _event(1).replace(b'"zone":4', b'"zone":5'))
    p.send("mimamori/v1/site-001/event", b"garbage")
    p.send("mimamori/v1/site-009/event", _event(1))
    p.send("mimamori/v1/site-002/event", _event(1))
    assert wait(lambda: len(out) == 4)
    assert rx.shown == [] and rx.acked == 0
    reasons = [r[0] for r in store.db.execute("SELECT reason FROM rejects ORDER BY rowid")]
    assert reasons == ["bad_mac", "malformed", "unknown_site", "unknown_site"]
    rx.stop()
    p.close()


def test_silent_site_is_flagged_once_after_its_period():
    store = R.Store(os.path.join(tempfile.mkdtemp(), "centre.db"))
    store.add_site(SITE, KEY_HEX)                    # 36 h by default
    store.add_site("site-002", "ab" * 32, 3600)      # a 1-hour site
    out = []
    rx = R.Receiver(store, out=out.append)
    rx.c.publish = lambda *a, **k: None              # no broker needed for this one
    t = 1_800_000_000
    rx.handle("mimamori/v1/site-001/event", _event(1, E.TEST, E.CID_PERIODIC_TEST, 0), t)
    assert rx.check_silent(t + 36 * 3600 - 1) == []
    flagged = rx.check_silent(t + 36 * 3600 + 1)
    assert [s for s, _ in flagged] == [SITE] and "通信途絶 site=site-001" in out[-1]
    assert rx.check_silent(t + 40 * 3600) == []      # flagged once
    rx.handle("mimamori/v1/site-001/event", _event(2, E.TEST, E.CID_PERIODIC_TEST, 0), t + 41 * 3600)
    assert rx.check_silent(t + 41 * 3600 + 10) == []
    assert [s for s, _ in rx.check_silent(t + 78 * 3600)] == [SITE]


class Panel:
    """The controller's command path: link + delivery + CommandVerifier + Authenticator."""

    def __init__(self, b):
        self.j = Journal(tempfile.mkdtemp())
        secrets = {"users": [{"id": 1, "name": "父", "role": "admin",
                              "code": A.make_entry("code", "1234", b"salt-one", 3)}]}
        self.auth = A.Authenticator(secrets, now_ms())
        # A panel in service: its last command 5 minutes ago (a lost counter would hold remote
        # commands for 2 minutes after the boot: test_commands.py).
        self.j.save_value("cmd_ctr", int(time.time() * 1000) - 300000)
        self.v = C.CommandVerifier(KEY, SITE, self.auth, self.j.load_value("cmd_ctr", 0),
                                   lambda n: self.j.save_value("cmd_ctr", n),
                                   now_unix=int(time.time()), now_ms=now_ms())
        self.applied = []
        self.link = M.MqttLink(SITE, b.host, b.port, keepalive_s=30)
        self.d = D.Delivery(self.j, self.link, KEY, SITE, on_command=self.on_command)
        self.stop = False

    def on_command(self, payload):
        cmd, reply = self.v.handle(payload, int(time.time()), now_ms())
        if cmd:
            self.applied.append(cmd)
        return reply

    def run(self):
        while not self.stop:
            self.d.poll(now_ms())
            time.sleep(0.001)


def _cli(b, db, *words):
    return subprocess.run([sys.executable, os.path.join(ROOT, "tools", "receiver.py"), "--db", db,
                           "--port", str(b.port), "send-cmd", "--site", SITE] + list(words),
                          capture_output=True, text=True, timeout=30)


def test_send_cmd_from_the_cli_and_rejections_with_reasons(broker):
    db = os.path.join(tempfile.mkdtemp(), "centre.db")
    store = R.Store(db)
    store.add_site(SITE, KEY_HEX)
    panel = Panel(broker)
    th = threading.Thread(target=panel.run, daemon=True)
    th.start()
    assert wait(lambda: panel.link.connected)
    spy = Pub(broker, ["mimamori/v1/site-001/cmd"])
    try:
        r = _cli(broker, db, "arm", "away", "--code", "1234")
        assert r.returncode == 0 and "accepted" in r.stdout, r.stdout + r.stderr
        assert [c.name for c in panel.applied] == ["arm"] and panel.applied[0].args == {"mode": "away"}
        assert panel.applied[0].user["name"] == "父"
        r = _cli(broker, db, "disarm", "--code", "9999")
        assert r.returncode == 2 and "rejected: wrong_code" in r.stdout
        assert panel.auth.failures == 1
        r = _cli(broker, db, "shirasete", "お薬の時間です")
        assert r.returncode == 0 and panel.applied[-1].args == {"message": "お薬の時間です"}
        # replay a captured frame, and send a stale one: both refused, reasons on the ack topic
        assert wait(lambda: len(spy.msgs) == 3)
        # the codes 1234 and 9999 never crossed the broker in clear
        assert not [m for t, m in spy.msgs if b"1234" in m or b"9999" in m or b'"code"' in m]
        watcher = Pub(broker, ["mimamori/v1/site-001/ack"])
        spy.send("mimamori/v1/site-001/cmd", spy.msgs[0][1])
        ctr = store.next_ctr(SITE) - 600000
        stale = C.command_frame(KEY, SITE, ctr, ctr // 1000, "status")
        spy.send("mimamori/v1/site-001/cmd", stale)
        spy.send("mimamori/v1/site-001/cmd", b"{{{")
        results = lambda: [F.parse(m) for t, m in watcher.msgs if b'"result"' in m]  # noqa: E731
        assert wait(lambda: len(results()) == 3)
        assert [(d["ok"], d["reason"]) for d in results()] == [
            (False, "replay"), (False, "stale"), (False, "malformed")]
        for d in results():
            F.verify(KEY, d)                        # the controller signs its replies
        assert len(panel.applied) == 2 and panel.j.load_value("cmd_ctr") > 0
        watcher.close()
    finally:
        panel.stop = True
        th.join(2)
        spy.close()


def test_home_assistant_command_goes_through_the_bridge_and_the_code_check(broker):
    db = os.path.join(tempfile.mkdtemp(), "centre.db")
    store = R.Store(db)
    store.add_site(SITE, KEY_HEX)
    lines = []
    rx = R.Receiver(store, broker.host, broker.port, out=lines.append, ha_bridge=True).start()
    assert rx.wait_connected()
    panel = Panel(broker)
    th = threading.Thread(target=panel.run, daemon=True)
    th.start()
    ha = Pub(broker, ["mimamori/v1/site-001/ack", "mimamori/v1/site-001/cmd"])
    token = C.ha_token(KEY, SITE)       # what the controller's discovery config gives HA
    try:
        assert wait(lambda: panel.link.connected)
        time.sleep(0.2)
        # A client without the site's HA token cannot make the bridge send anything: six wrong
        # codes (a lockout's worth), a wrong token, junk: none reaches the controller.
        for _ in range(6):
            ha.send("mimamori/v1/site-001/ha/cmd", b'{"action": "DISARM", "code": "0000"}')
        ha.send("mimamori/v1/site-001/ha/cmd",
                b'{"action": "DISARM", "code": "0000", "token": "%s"}' % (b"0" * 32))
        ha.send("mimamori/v1/site-001/ha/cmd", b'{"action": "DISARM", "code": "0000", "token": 1}')
        ha.send("mimamori/v1/site-001/ha/cmd", b"\xff" * 5000)
        ha.send("mimamori/v1/site-001/ha/cmd", b'{"action": "DISARM", "code": "x' + b"9" * 40
                + b'", "token": "%s"}' % token.encode())
        assert wait(lambda: len([x for x in lines if "HA command" in x]) == 10)
        assert [x for x in lines if "refused" in x][0].startswith("receiver: HA command for site-001")
        # HA with the token: forwarded, the code sealed, checked by the controller
        ha.send("mimamori/v1/site-001/ha/cmd",
                b'{"action": "ARM_HOME", "code": "1234", "token": "%s"}' % token.encode())
        ha.send("mimamori/v1/site-001/ha/cmd",
                b'{"action": "DISARM", "code": "1111", "token": "%s"}' % token.encode())
        # an unsigned command straight onto the controller's topic is refused
        ha.send("mimamori/v1/site-001/cmd", b'{"v":1,"site":"site-001","ctr":99999999999999,'
                b'"ts":1,"cmd":"disarm","args":{}}')
        res = lambda: [F.parse(m) for t, m in ha.msgs if b'"result"' in m]  # noqa: E731
        assert wait(lambda: len(res()) == 3)
        got = sorted((d["ok"], d["reason"]) for d in res())
        assert got == [(False, "missing_mac"), (False, "wrong_code"), (True, "accepted")]
        assert [(c.name, c.args) for c in panel.applied] == [("arm", {"mode": "stay"})]
        assert panel.auth.failures == 1            # only HA's own wrong code counted
        forwarded = [m for t, m in ha.msgs if t.endswith("/cmd") and b'"mac"' in m]
        assert len(forwarded) == 2
        assert not [m for m in forwarded if b"1234" in m or b"1111" in m or b'"code"' in m]
    finally:
        panel.stop = True
        th.join(2)
        ha.close()
        rx.stop()


def _framed(seq, base):
    ev = E.Event(0, E.ALARM, E.CID_GAS, E.Q_NEW, zone=4, zone_name="台所", mode="stay")
    ev.seq = seq
    ev.wall = "2026-11-22T12:00:00+09:00"
    return F.event_frame(KEY, SITE, ev, 10, base)


def test_reports_are_shown_in_seq_order_when_the_broker_dropped_the_first(tmp_path):
    # The centre subscribed between the controller's publishes of seq 1 and seq 2 (a broker
    # keeps nothing for a subscriber that did not exist yet): 2 arrives, then the resend of 1.
    store = R.Store(str(tmp_path / "c.db"))
    store.add_site(SITE, KEY_HEX)
    lines = []
    rx = R.Receiver(store, out=lines.append)     # not connected: handle() is driven directly
    topic = "mimamori/v1/%s/event" % SITE
    rx.handle(topic, _framed(2, 1), now=100.0)
    assert rx.shown == [] and rx.acked == 1       # stored and acked, held from the console
    rx.handle(topic, _framed(1, 1), now=100.5)
    rx.handle(topic, _framed(2, 1), now=100.6)    # the resend of 2: a duplicate, shown once
    assert [s for _, s in rx.shown] == [1, 2]
    assert len(lines) == 2 and "seq=1" in lines[0] and "seq=2" in lines[1]


def test_a_report_waits_for_a_gap_at_most_hold_s(tmp_path):
    store = R.Store(str(tmp_path / "c.db"))
    store.add_site(SITE, KEY_HEX)
    lines = []
    rx = R.Receiver(store, out=lines.append)
    rx.handle("mimamori/v1/%s/event" % SITE, _framed(7, 5), now=100.0)
    rx.show_ready(now=100.0 + R.HOLD_S - 0.1)
    assert rx.shown == []
    rx.show_ready(now=100.0 + R.HOLD_S)
    assert [s for _, s in rx.shown] == [7] and "順序待ち超過" in lines[0]
