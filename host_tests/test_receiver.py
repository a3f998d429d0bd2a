# The monitoring-centre receiver (tools/receiver.py) with a real broker: shared subscription
# splitting the load, signed acks, duplicates shown once, forged and unknown reports refused,
# silent sites flagged, and signed commands from its CLI reaching the controller's verifier
# (accepted, wrong code, replayed, stale) with the reasons coming back on the ack topic.
import json
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
    # site-002 never reported: flagged too, once its hour since it was added is over (issue 16)
    assert [s for s, _ in rx.check_silent(t + 36 * 3600 - 1)] == ["site-002"]
    assert "未受信 site=site-002" in out[-1]
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
                              "code": A.make_entry("code", "1234", b"salt-one", 3)}],
                   "cards": []}
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

    def on_command(self, payload, now):
        cmd, reply = self.v.handle(payload, int(time.time()), now)
        if cmd:
            self.applied.append(cmd)
        return reply

    def run(self):
        while not self.stop:
            self.d.poll(now_ms())
            time.sleep(0.001)


def _code_in_clear(payload, codes):
    """A command frame carries a code in clear: a "code" field, or a code anywhere but in the
    fields that are numbers or hex by nature (ctr and ts are the clock, mac and sealed_code
    random-looking hex: "1234" turns up in them by chance, about once in 500 frames)."""
    d = F.parse(payload)
    rest = json.dumps({k: v for k, v in d.items() if k not in ("ctr", "ts", "mac", "sealed_code")},
                      ensure_ascii=False)
    return "code" in d or any(c in rest for c in codes)


def _cli(b, db, *words, code=None):
    env = dict(os.environ)          # the user's code from the environment, never argv
    env.pop("MIMAMORI_CODE", None)
    if code is not None:
        env["MIMAMORI_CODE"] = code
    return subprocess.run([sys.executable, os.path.join(ROOT, "tools", "receiver.py"), "--db", db,
                           "--port", str(b.port), "send-cmd", "--site", SITE] + list(words),
                          capture_output=True, text=True, timeout=30, env=env)


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
        r = _cli(broker, db, "arm", "away", code="1234")
        assert r.returncode == 0 and "accepted" in r.stdout, r.stdout + r.stderr
        assert [c.name for c in panel.applied] == ["arm"] and panel.applied[0].args == {"mode": "away"}
        assert panel.applied[0].user["name"] == "父"
        r = _cli(broker, db, "disarm", code="9999")
        assert r.returncode == 2 and "rejected: wrong_code" in r.stdout
        assert panel.auth.failures == 1
        r = _cli(broker, db, "shirasete", "お薬の時間です")
        assert r.returncode == 0 and panel.applied[-1].args == {"message": "お薬の時間です"}
        # replay a captured frame, and send a stale one: both refused, reasons on the ack topic
        assert wait(lambda: len(spy.msgs) == 3)
        # the codes 1234 and 9999 never crossed the broker in clear
        assert not [m for t, m in spy.msgs if _code_in_clear(m, ("1234", "9999"))]
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
        assert not [m for m in forwarded if _code_in_clear(m, ("1234", "1111"))]
    finally:
        panel.stop = True
        th.join(2)
        ha.close()
        rx.stop()


def _framed(seq, base):
    # routine reports (a closing): the centre orders those; an 異常 is never held back
    ev = E.Event(0, E.CLOSING, E.CID_OPEN_CLOSE, E.Q_RESTORE, user=1, mode="stay")
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


# --- issue 9: the centre never swallows a new report, never hides one, never jams -------------

def _frame_dict(seq, kind=E.ALARM, cid=E.CID_GAS, zone=4, name="台所", base=None, epoch=None,
                wall="2026-11-22T12:00:00+09:00"):
    ev = E.Event(0, kind, cid, E.Q_NEW, zone=zone, zone_name=name, mode="stay")
    ev.seq = seq
    ev.wall = wall
    d = F.event_dict(SITE, ev, 10, base)
    if epoch is not None:
        d["epoch"] = epoch
    return d


def _signed(d):
    return F.sign(KEY, dict(d))


class _Msg:
    def __init__(self, topic, payload):
        self.topic, self.payload = topic, payload


class _Offline:
    """A Receiver driven frame by frame as paho's thread would (its exception guard included),
    its acks captured instead of published."""

    def __init__(self, path, name="rx"):
        self.store = R.Store(path)
        self.store.add_site(SITE, KEY_HEX)
        self.lines = []
        self.acks = []
        self.rx = R.Receiver(self.store, out=self.lines.append, name=name)
        self.rx.c.publish = lambda topic, payload, qos=0: self.acks.append(payload)

    def send(self, payload, now=None, topic="mimamori/v1/%s/event" % SITE):
        if now is not None:
            self.rx.handle(topic, payload, now)
        else:
            self.rx._on_message(None, None, _Msg(topic, payload))

    def acked_seqs(self):
        return [F.parse(a)["seq"] for a in self.acks]


def test_a_new_alarm_reusing_a_seq_is_shown_stored_acked_and_flagged(tmp_path):
    # A wiped or replaced board (same site) starts again at seq 1; or one damaged journal record
    # rolled the controller's seq back. The centre sees seq 1 again, with a different report.
    c = _Offline(str(tmp_path / "c.db"))
    first = _signed(_frame_dict(1, cid=E.CID_GAS, name="台所"))
    c.send(first, now=100.0)
    again = _signed(_frame_dict(1, cid=E.CID_FIRE, zone=2, name="寝室",
                                wall="2026-11-23T03:10:00+09:00"))
    c.send(again, now=200.0)
    assert [s for _, s in c.rx.shown] == [1, 1]                  # the new alarm is shown
    assert any("寝室" in line and line.startswith("!! 異常") for line in c.lines)
    assert any("通番重複" in line and "site=site-001" in line for line in c.lines)
    assert len(c.store.reports(SITE)) == 2                        # both stored
    assert c.acked_seqs() == [1, 1]
    a1, a2 = [F.parse(a) for a in c.acks]
    assert a1["ref"] != a2["ref"]             # each ack names the exact report it confirms
    assert a2["ref"] == F.report_ref(F.parse(again))
    # a true duplicate (the controller's resend of the second one): acked again, not shown again
    c.send(again, now=201.0)
    assert len(c.rx.shown) == 2 and len(c.acks) == 3 and F.parse(c.acks[2])["ref"] == a2["ref"]


def test_a_new_epoch_is_a_new_sequence_and_is_flagged(tmp_path):
    c = _Offline(str(tmp_path / "c.db"))
    c.send(_signed(_frame_dict(1, epoch="0000abcd", base=1)), now=100.0)
    c.send(_signed(_frame_dict(2, epoch="0000abcd", base=1, kind=E.CLOSING,
                               cid=E.CID_OPEN_CLOSE, zone=0)), now=100.1)
    # the board was replaced: a new epoch, seq from 1 again (the same content, even)
    c.send(_signed(_frame_dict(1, epoch="9f00e1d2", base=1)), now=300.0)
    assert [s for _, s in c.rx.shown] == [1, 2, 1]
    assert any("新エポック" in line and "9f00e1d2" in line for line in c.lines)
    assert not any("通番重複" in line for line in c.lines)
    # (site, epoch, seq) orders the new epoch by itself: its seq 2 is not "already there"
    c.send(_signed(_frame_dict(2, epoch="9f00e1d2", base=1, kind=E.CLOSING,
                               cid=E.CID_OPEN_CLOSE, zone=0)), now=300.1)
    assert [s for _, s in c.rx.shown] == [1, 2, 1, 2] and len(c.store.reports(SITE)) == 4


def test_an_alarm_is_shown_at_once_never_held_for_ordering(tmp_path):
    # 12 routine reports queued ahead of a panic: the controller sends the panic first (base=1,
    # seqs 1..12 still on their way). The operator sees the panic at once.
    c = _Offline(str(tmp_path / "c.db"))
    panic = _frame_dict(13, cid=E.CID_PANIC, zone=9, name="非常ボタン", base=1)
    c.send(_signed(panic), now=100.0)
    assert [s for _, s in c.rx.shown] == [13] and "非常" in c.lines[0]
    for seq in range(1, 13):        # the routine ones follow, shown in order
        c.send(_signed(_frame_dict(seq, E.CLOSING, E.CID_OPEN_CLOSE, 0, "", base=seq)),
               now=100.0 + seq / 100)
    assert [s for _, s in c.rx.shown] == [13] + list(range(1, 13))


def test_one_oddly_typed_signed_frame_does_not_jam_the_centre(tmp_path):
    c = _Offline(str(tmp_path / "c.db"))
    bad = _frame_dict(1)
    bad["zone"] = [1, 2, 3]
    c.send(_signed(bad))
    c.send(_signed(_frame_dict(2, cid=E.CID_FIRE, name="寝室")))
    assert [s for _, s in c.rx.shown] == [2] and c.acked_seqs() == [2]
    assert any("寝室" in line for line in c.lines)
    assert c.store.db.execute("SELECT reason FROM rejects").fetchall() == [("bad_field:zone",)]


def _hostile(rnd, i):
    """A validly signed frame with something wrong in it: wrong types in any field, huge or
    negative numbers, bools for ints, nested junk, missing or extra fields, oversized text."""
    junk = [None, True, False, 0, -1, 2 ** 31, 2 ** 64, 10 ** 40, "", "x" * rnd.randint(1, 5000),
            "\u0000\ud800", [], [1, [2, [3]]], {}, {"a": {"b": {"c": [None]}}}, "13",
            {"code": 1, "label": []}, [{"x": "y"}] * 50]
    d = _frame_dict(1000 + i, kind=rnd.choice([E.ALARM, E.TEST, E.CLOSING]),
                    cid=rnd.choice([E.CID_GAS, E.CID_PERIODIC_TEST, E.CID_OPEN_CLOSE]),
                    base=rnd.choice([None, 1, 1000 + i]))
    n = rnd.randint(1, 3)
    for _ in range(n):
        f = rnd.choice(sorted(d) + ["extra", "service.code", "service.label", "deep"])
        if f == "deep":
            v = []
            for _ in range(rnd.randint(50, 400)):
                v = [v]
            d[rnd.choice(["label", "zone_name", "extra"])] = v
        elif f.startswith("service."):
            if isinstance(d.get("service"), dict):
                d["service"][f[8:]] = rnd.choice(junk)
        elif rnd.random() < 0.15:
            d.pop(f, None)
        else:
            d[f] = rnd.choice(junk)
    if rnd.random() < 0.05:
        d["site"] = SITE        # sometimes only the padding changes: still refused if odd
    try:
        return F.sign(KEY, d)
    except (F.FrameError, RecursionError, UnicodeError):
        return json.dumps(d).encode()


def test_fuzz_thousands_of_hostile_signed_frames_then_an_alarm_is_shown_and_acked(tmp_path):
    import random
    path = str(tmp_path / "c.db")
    c = _Offline(path)
    c.send(_signed(_frame_dict(1, E.TEST, E.CID_PERIODIC_TEST, 0, "")), now=100.0)
    size0 = _db_bytes(path)
    rnd = random.Random(9)
    n = 3000
    sizes = 0
    for i in range(n):
        p = _hostile(rnd, i)
        sizes += len(p)
        c.send(p)
    # and each of them once more (an attacker repeating himself): stored once
    for i in range(200):
        c.send(_hostile(random.Random(9), 0))
    c.send(_signed(_frame_dict(2, cid=E.CID_PANIC, zone=9, name="非常ボタン")))
    assert (SITE, 2) in c.rx.shown and 2 in c.acked_seqs()
    assert any("非常ボタン" in line and line.startswith("!! 異常") for line in c.lines)
    grown = _db_bytes(path) - size0
    # refused frames are kept bounded: capped count, truncated payloads
    n_rej = c.store.db.execute("SELECT COUNT(*) FROM rejects").fetchone()[0]
    assert n_rej <= R.REJECTS_MAX
    assert grown < 2_000_000, "the centre's database grew %d bytes from %d junk bytes" % (
        grown, sizes)
    print("fuzz: %d hostile frames (%d bytes), %d refused rows kept, database +%d bytes" % (
        n, sizes, n_rej, grown))


def _db_bytes(path):
    return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))


def test_a_crashed_receiver_shows_what_it_stored_but_had_not_shown(broker, tmp_path):
    # A real receiver process takes a routine report it must hold for ordering (the report
    # before it is missing), stores and acks it, and is killed with SIGKILL before it shows it.
    # Its replacement shows it, once - also when the controller's resend arrives (a duplicate).
    import signal
    db = str(tmp_path / "centre.db")
    R.Store(db).add_site(SITE, KEY_HEX)
    p = Pub(broker, ["mimamori/v1/site-001/ack"])
    try:
        a = _RxProcess(broker, db, "rxA")
        held = _signed(_frame_dict(2, E.CLOSING, E.CID_OPEN_CLOSE, 0, "", base=1))
        end = time.monotonic() + 10
        while not _acked(p, 2) and time.monotonic() < end:   # until rxA has subscribed
            p.send("mimamori/v1/site-001/event", held)
            wait(lambda: _acked(p, 2), 0.5)
        assert _acked(p, 2)                                     # stored durably, acked
        time.sleep(0.2)
        assert not [line for line in a.lines if "seq=2" in line]     # held, not yet shown
        a.p.send_signal(signal.SIGKILL)
        a.p.wait()
        n_acks = len(p.msgs)
        b = _RxProcess(broker, db, "rxB")
        assert wait(lambda: any("seq=2" in line for line in b.lines), 5), b.lines
        end = time.monotonic() + 10
        while len(p.msgs) == n_acks and time.monotonic() < end:   # the controller's resend
            p.send("mimamori/v1/site-001/event", held)              # (once rxB subscribed)
            wait(lambda: len(p.msgs) > n_acks, 0.5)
        assert len(p.msgs) > n_acks                                 # acked again ...
        time.sleep(0.3)
        assert len([line for line in b.lines if "seq=2" in line]) == 1   # ... not shown again
        b.stop()
    finally:
        p.close()


def _acked(p, seq):
    return any(t.endswith("/ack") and F.parse(m).get("seq") == seq for t, m in p.msgs)


class _RxProcess:
    def __init__(self, b, db, name):
        self.lines = []
        self.p = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tools", "receiver.py"), "--db", db, "--port",
             str(b.port), "run", "--name", name], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self):
        self.p.terminate()
        self.p.wait(5)


def test_a_centre_database_from_before_refs_keeps_its_reports(tmp_path):
    # The schema before issue 9: reports keyed by (site, seq). Its reports stay duplicates.
    import sqlite3
    path = str(tmp_path / "old.db")
    db = sqlite3.connect(path)
    db.executescript("""
CREATE TABLE sites (site TEXT PRIMARY KEY, key TEXT NOT NULL, period_s INTEGER NOT NULL DEFAULT
    129600, last_seen REAL, silent INTEGER NOT NULL DEFAULT 0, ctr INTEGER NOT NULL DEFAULT 0);
CREATE TABLE reports (site TEXT NOT NULL, seq INTEGER NOT NULL, received REAL NOT NULL,
    receiver TEXT, ts TEXT, kind TEXT, cid TEXT, service TEXT, label TEXT, zone INTEGER,
    zone_name TEXT, user INTEGER, mode TEXT, urgent INTEGER, frame TEXT NOT NULL,
    PRIMARY KEY (site, seq));
CREATE TABLE rejects (received REAL, topic TEXT, reason TEXT, payload BLOB);
""")
    old = _event(1)
    db.execute("INSERT INTO sites (site, key) VALUES (?, ?)", (SITE, KEY_HEX))
    db.execute("INSERT INTO reports VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
               (SITE, 1, 50.0, "rx", "2026-11-22T12:00:00+09:00", "alarm", "1151", "E",
                "ガス漏れ", 4, "台所", 0, "stay", 1, old.decode()))
    db.commit()
    db.close()
    c = _Offline(path)
    c.send(old, now=100.0)                 # the controller's resend of a report stored before
    assert c.rx.shown == [] and c.acked_seqs() == [1]
    c.send(_event(2), now=101.0)
    assert [s for _, s in c.rx.shown] == [2] and len(c.store.reports(SITE)) == 2


def _framed_alarm(seq, base):
    return _signed(_frame_dict(seq, base=base))


def test_an_alarm_stored_but_never_shown_is_shown_at_once_when_its_resend_arrives(tmp_path):
    # A receiver stored and acked an 異常 and died before the line reached the console; the
    # receiver that takes the controller's resend (a duplicate) shows it at once, once.
    path = str(tmp_path / "c.db")
    dead = _Offline(path, "rx-dead")
    alarm = _framed_alarm(5, base=1)       # 1..4 still on their way: an alarm does not wait
    d = F.verify_event(KEY, alarm, SITE)
    dead.store.record(SITE, d, F.report_ref(d), alarm, "rx-dead", 100.0)   # stored, not shown
    live = _Offline(path, "rx-live")
    live.send(alarm, now=101.0)
    assert live.rx.shown == [(SITE, 5)] and "未表示分" in live.lines[0]
    assert live.lines[0].startswith("!! 異常")
    live.send(alarm, now=102.0)
    assert live.rx.shown == [(SITE, 5)] and len(live.acks) == 2


def test_hostile_signed_frames_over_the_broker_then_an_alarm_of_another_site_is_acked(broker):
    # The receiver's network thread takes the junk from one site (whose key a resident read
    # from the panel's flash); another site's alarm still gets through: no site is jammed.
    import random
    store = R.Store(os.path.join(tempfile.mkdtemp(), "centre.db"))
    store.add_site(SITE, KEY_HEX)
    store.add_site("site-002", "ab" * 32)
    out = []
    rx = R.Receiver(store, broker.host, broker.port, out=out.append).start()
    assert rx.wait_connected()
    p = Pub(broker, ["mimamori/v1/site-002/ack"])
    rnd = random.Random(3)
    for i in range(300):
        p.c.publish("mimamori/v1/site-001/event", _hostile(rnd, i), qos=1)
    key2 = F.site_key("ab" * 32)
    ev = E.Event(0, E.ALARM, E.CID_FIRE, E.Q_NEW, zone=1, zone_name="居間", mode="away")
    ev.seq = 1
    ev.wall = "2026-11-22T12:00:00+09:00"
    alarm = F.event_frame(key2, "site-002", ev, 10, 1, "00c0ffee")
    p.send("mimamori/v1/site-002/event", alarm)
    assert wait(lambda: p.msgs, 15)
    seq, ref, t = F.verify_ack_ref(key2, "site-002", p.msgs[0][1])
    assert (seq, ref) == (1, F.report_ref(F.parse(alarm)))
    assert ("site-002", 1) in rx.shown and any("居間" in line for line in out)
    rx.stop()
    p.close()


def test_a_peer_receiver_shows_what_a_dead_one_held_once_its_wait_is_long_over(tmp_path):
    # Two receivers share the database (shared subscription). rx-a stores and acks a routine
    # report it holds for ordering, then dies; no resend comes (it was acked). rx-b, still
    # running, shows it from its loop once it has waited twice HOLD_S - and only once.
    path = str(tmp_path / "c.db")
    a = _Offline(path, "rx-a")
    b = _Offline(path, "rx-b")
    a.send(_signed(_frame_dict(4, E.CLOSING, E.CID_OPEN_CLOSE, 0, "", base=2)), now=100.0)
    assert a.rx.shown == [] and a.acked_seqs() == [4]
    del a                                            # killed while holding it
    loop = b.rx.tick                                 # what `run` does every second
    loop(100.0 + R.HOLD_S)
    assert b.rx.shown == []                          # maybe still held by a live peer: wait
    loop(100.0 + 2 * R.HOLD_S + 1)
    assert b.rx.shown == [(SITE, 4)] and "未表示分" in b.lines[0]
    loop(200.0)
    assert b.rx.shown == [(SITE, 4)]
