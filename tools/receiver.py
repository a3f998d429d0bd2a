#!/usr/bin/env python3
"""mimamori monitoring-centre receiver (host side, CPython, paho-mqtt).

    python tools/receiver.py --db centre.db add-site site-001 <64 hex key> [--period-h 36]
    python tools/receiver.py --db centre.db run [--host H --port P --user U --password PW]
    python tools/receiver.py --db centre.db send-cmd --site site-001 arm away --code 1234
    python tools/receiver.py --db centre.db silent

`run` subscribes with the shared subscription $share/<group>/<prefix>/+/event, so several
receivers (same group, same database) split the load. Each frame's mac is checked with its
site's key; a good report is stored in SQLite once per (site, seq), shown once (異常 live, with
the Japanese labels and the zone name), and acknowledged with a signed ack on
<prefix>/<site>/ack (a duplicate is acked again, since the controller evidently missed the first
ack, but not shown again). A site not heard from for longer than its communication-check period
(36 h by default) is flagged 通信途絶. Command results from the controllers (same ack topic) are
stored and shown.
"""
import argparse
import json
import os
import sqlite3
import sys
import threading
import time

import paho.mqtt.client as paho

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "firmware"))
sys.path.insert(0, os.path.join(ROOT, "host_tests", "fakes"))   # compat's host clock
from mimamori.proto import frame as F        # noqa: E402 - the same code signs on both ends
from mimamori.core import commands as C      # noqa: E402
from mimamori.comms import discovery as DS   # noqa: E402

PREFIX = "mimamori/v1"
DEFAULT_PERIOD_S = 36 * 3600
HOLD_S = 10.0   # longest an out-of-order report waits for the reports before it

SCHEMA = """
CREATE TABLE IF NOT EXISTS sites (site TEXT PRIMARY KEY, key TEXT NOT NULL,
    period_s INTEGER NOT NULL DEFAULT %d, last_seen REAL, silent INTEGER NOT NULL DEFAULT 0,
    ctr INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS reports (site TEXT NOT NULL, seq INTEGER NOT NULL,
    received REAL NOT NULL, receiver TEXT, ts TEXT, kind TEXT, cid TEXT, service TEXT,
    label TEXT, zone INTEGER, zone_name TEXT, user INTEGER, mode TEXT, urgent INTEGER,
    frame TEXT NOT NULL, PRIMARY KEY (site, seq));
CREATE TABLE IF NOT EXISTS rejects (received REAL, topic TEXT, reason TEXT, payload BLOB);
CREATE TABLE IF NOT EXISTS results (received REAL, site TEXT, ctr INTEGER, cmd TEXT,
    ok INTEGER, reason TEXT);
""" % DEFAULT_PERIOD_S


class Store:
    """SQLite, safe to share between the paho thread, the CLI and other receiver processes."""

    def __init__(self, path):
        self.db = sqlite3.connect(path, timeout=30, check_same_thread=False,
                                  isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.lock = threading.Lock()
        with self.lock:
            self.db.executescript(SCHEMA)

    def add_site(self, site, key_hex, period_s=DEFAULT_PERIOD_S):
        F.site_key(key_hex)
        with self.lock:
            self.db.execute("INSERT INTO sites (site, key, period_s) VALUES (?, ?, ?) "
                            "ON CONFLICT(site) DO UPDATE SET key=excluded.key, "
                            "period_s=excluded.period_s", (site, key_hex, period_s))

    def key(self, site):
        with self.lock:
            row = self.db.execute("SELECT key FROM sites WHERE site=?", (site,)).fetchone()
        return F.site_key(row[0]) if row else None

    def record(self, site, d, payload, receiver, now):
        """Store a verified report durably (one transaction: one fsync) before it is acked.
        True if new, False if (site, seq) was already there."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute("UPDATE sites SET last_seen=?, silent=0 WHERE site=?", (now, site))
                self.db.execute(
                    "INSERT INTO reports VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (site, d["seq"], now, receiver, d.get("ts"), d.get("kind"), d.get("cid"),
                     (d.get("service") or {}).get("code"), d.get("label"), d.get("zone"),
                     d.get("zone_name"), d.get("user"), d.get("mode"), int(bool(d.get("urgent"))),
                     payload.decode()))
                new = True
            except sqlite3.IntegrityError:
                new = False
            self.db.execute("COMMIT")
            return new

    def reject(self, topic, reason, payload, now):
        with self.lock:
            self.db.execute("INSERT INTO rejects VALUES (?,?,?,?)", (now, topic, reason, payload))

    def result(self, site, d, now):
        with self.lock:
            self.db.execute("INSERT INTO results VALUES (?,?,?,?,?,?)", (
                now, site, d.get("ctr"), d.get("cmd"), int(bool(d.get("ok"))), d.get("reason")))

    def next_ctr(self, site):
        """Command counter: above every earlier one, even if this database was lost (ms clock)."""
        with self.lock:
            row = self.db.execute("SELECT ctr FROM sites WHERE site=?", (site,)).fetchone()
            if row is None:
                raise KeyError(site)
            ctr = max(row[0] + 1, int(time.time() * 1000))
            self.db.execute("UPDATE sites SET ctr=? WHERE site=?", (ctr, site))
        return ctr

    def silent_sites(self, now):
        """Sites newly past their period without a report: flagged once, returned."""
        out = []
        with self.lock:
            rows = self.db.execute("SELECT site, period_s, last_seen FROM sites WHERE silent=0 "
                                   "AND last_seen IS NOT NULL").fetchall()
            for site, period, seen in rows:
                if now - seen > period:
                    self.db.execute("UPDATE sites SET silent=1 WHERE site=?", (site,))
                    out.append((site, now - seen))
        return out

    def has_all(self, site, first, last):
        """True if every seq in [first, last] of the site is stored."""
        if last < first:
            return True
        with self.lock:
            n = self.db.execute("SELECT COUNT(*) FROM reports WHERE site=? AND seq BETWEEN ? AND ?",
                                (site, first, last)).fetchone()[0]
        return n == last - first + 1

    def reports(self, site=None):
        with self.lock:
            q = "SELECT site, seq, kind, label, zone_name FROM reports"
            args = ()
            if site:
                q += " WHERE site=?"
                args = (site,)
            return self.db.execute(q + " ORDER BY site, seq", args).fetchall()


def show_line(site, d):
    svc = d.get("service") or {}
    head = "異常" if d.get("kind") == "alarm" else {
        "trouble": "故障", "restore": "復旧", "opening": "解除", "closing": "セット",
        "test": "試験", "cancel": "取消", "bypass": "バイパス", "status": "状態"}.get(d.get("kind"), d.get("kind"))
    zone = ""
    if d.get("path"):                       # a report path's test or trouble (not a zone)
        zone = " 経路 %s" % d["path"]
    elif d.get("zone"):
        zone = " ゾーン%s %s" % (d["zone"], d.get("zone_name") or "")
    return "%s %s [%s %s] %s%s  site=%s seq=%s %s" % (
        "!!" if d.get("kind") == "alarm" else "  ", head, svc.get("code"), svc.get("label"),
        d.get("label"), zone, site, d.get("seq"), d.get("ts"))


class Receiver:
    def __init__(self, store, host="127.0.0.1", port=1883, user=None, password=None,
                 group="centre", prefix=PREFIX, name=None, out=None, tls=False, ha_bridge=False):
        self.store = store
        self.prefix = prefix
        self.group = group
        self.name = name or "rx-%d" % os.getpid()
        self.out = out or (lambda line: print(line, flush=True))
        self.shown = []            # (site, seq) in the order shown
        self.held = {}             # (site, seq) -> (report dict, time held): waiting for a gap
        self.acked = 0
        self.ha_bridge = ha_bridge
        self.connected = threading.Event()
        c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=self.name)
        if user:
            c.username_pw_set(user, password)
        if tls:
            c.tls_set()
        c.on_connect = self._on_connect
        c.on_disconnect = lambda *a: self.connected.clear()
        c.on_message = self._on_message
        c.reconnect_delay_set(0.1, 2)
        self.c = c
        self.host, self.port = host, port

    def start(self):
        self.c.connect_async(self.host, self.port, keepalive=30)
        self.c.loop_start()
        return self

    def wait_connected(self, timeout=10):
        return self.connected.wait(timeout)

    def stop(self):
        self.c.disconnect()
        self.c.loop_stop()

    def _on_connect(self, c, userdata, flags, rc, props=None):
        if rc != 0:
            self.out("receiver: broker refused: %s" % rc)
            return
        subs = [("$share/%s/%s/+/event" % (self.group, self.prefix), 1),
                ("%s/+/ack" % self.prefix, 1)]
        if self.ha_bridge:
            subs.append(("$share/%s-ha/%s/+/ha/cmd" % (self.group, self.prefix), 1))
        c.subscribe(subs)
        time.sleep(0.05)
        self.connected.set()

    def _on_message(self, c, userdata, m):
        try:
            self.handle(m.topic, m.payload)
        except Exception as e:   # noqa: BLE001 - one bad frame never stops the centre
            self.out("receiver: error on %s: %r" % (m.topic, e))

    def handle(self, topic, payload, now=None):
        now = time.time() if now is None else now
        parts = topic.split("/")
        if len(parts) < 2:
            return
        site, kind = parts[-2], parts[-1]
        if self.ha_bridge and topic.endswith("/ha/cmd") and len(parts) >= 3:
            return self._ha(parts[-3], payload)
        key = self.store.key(site)
        if kind == "ack":
            try:
                d = F.parse(payload)
            except F.FrameError:
                return
            if d.get("type") == "result" and key is not None:
                try:
                    F.verify(key, d)
                except F.FrameError:
                    return
                self.store.result(site, d, now)
                self.out("   結果 site=%s cmd=%s ctr=%s %s %s" % (
                    site, d.get("cmd"), d.get("ctr"), "OK" if d.get("ok") else "拒否",
                    d.get("reason")))
            return
        if kind != "event":
            return
        if key is None:
            self.store.reject(topic, "unknown_site", payload, now)
            self.out("receiver: report from unknown site %s dropped" % site)
            return
        try:
            d = F.verify_event(key, payload, site)
        except F.FrameError as e:
            self.store.reject(topic, str(e), payload, now)
            self.out("receiver: %s report refused: %s" % (site, e))
            return
        if self.store.record(site, d, payload, self.name, now):
            self.held[(site, d["seq"])] = (d, now)
        # Stored durably: ack now (delivery stays fast), show in order (below).
        self.c.publish("%s/%s/ack" % (self.prefix, site), F.ack_frame(key, site, d["seq"], int(now)), qos=1)
        self.acked += 1
        self.show_ready(now)

    def show_ready(self, now=None):
        """Show held reports in seq order per site: a report is shown once every seq from its
        frame's `base` (the controller's oldest unacknowledged) up to it is stored - a broker
        drops what was published while the centre was not subscribed, and the controller's
        resend fills the gap. A report held longer than HOLD_S is shown anyway: an alarm is
        never kept from the operator for long."""
        now = time.time() if now is None else now
        for key in sorted(self.held):
            site, seq = key
            d, since = self.held[key]
            base = d.get("base") if isinstance(d.get("base"), int) else seq
            if now - since < HOLD_S and not self.store.has_all(site, base, seq - 1):
                continue
            del self.held[key]
            self.shown.append(key)
            self.out(show_line(site, d) + ("" if now - since < HOLD_S else "  (順序待ち超過)"))

    def _ha(self, site, payload):
        """Home Assistant cannot sign: turn its {"action", "code"} into a signed command. The
        code is checked by the controller (Authenticator, lockout), never here."""
        key = self.store.key(site)
        got = DS.ha_command(payload)
        if key is None or got is None:
            self.out("receiver: HA command for %s ignored" % site)
            return
        name, args, code = got
        frame_ = C.command_frame(key, site, self.store.next_ctr(site), int(time.time()), name,
                                 args, code)
        self.c.publish("%s/%s/cmd" % (self.prefix, site), frame_, qos=1)
        self.out("   HA %s -> %s %s" % (site, name, args))

    def check_silent(self, now=None):
        now = time.time() if now is None else now
        flagged = self.store.silent_sites(now)
        for site, age in flagged:
            self.out("!! 通信途絶 site=%s: no report for %.1f h" % (site, age / 3600))
        return flagged


def send_command(store, host, port, site, name, args=None, code=None, user=None, password=None,
                 prefix=PREFIX, wait=5.0, tls=False):
    """Sign and publish one command; wait for the controller's result. Returns the result dict
    (or None on timeout)."""
    key = store.key(site)
    if key is None:
        raise SystemExit("unknown site %s: add-site first" % site)
    ctr = store.next_ctr(site)
    payload = C.command_frame(key, site, ctr, int(time.time()), name, args or {}, code)
    got = {}
    done = threading.Event()

    def on_message(c, u, m):
        try:
            d = F.parse(m.payload)
            F.verify(key, d)
        except F.FrameError:
            return
        if d.get("type") == "result" and d.get("ctr") == ctr:
            got.update(d)
            done.set()

    ready = threading.Event()
    c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="cmd-%d-%d" % (os.getpid(), ctr))
    if user:
        c.username_pw_set(user, password)
    if tls:
        c.tls_set()
    c.on_message = on_message
    c.on_subscribe = lambda *a: ready.set()
    c.on_connect = lambda cl, u, f, rc, p=None: cl.subscribe("%s/%s/ack" % (prefix, site), 1)
    c.connect(host, port, 30)
    c.loop_start()
    try:
        ready.wait(5)
        c.publish("%s/%s/cmd" % (prefix, site), payload, qos=1).wait_for_publish(5)
        if wait:
            done.wait(wait)
    finally:
        c.disconnect()
        c.loop_stop()
    if got:
        store.result(site, got, time.time())
    return got or None


def _cmd_args(words):
    """CLI words -> (name, args): arm away | disarm | status | test | shirasete [msg] |
    set-departure HH:MM|none | revoke-card N."""
    name = words[0].replace("-", "_")
    rest = words[1:]
    if name == "arm":
        return name, {"mode": rest[0] if rest else "away"}
    if name == "set_departure":
        return name, {"time": None if not rest or rest[0] == "none" else rest[0]}
    if name == "revoke_card":
        return name, {"card": int(rest[0])}
    if name == "shirasete":
        return name, {"message": " ".join(rest)} if rest else {}
    return name, {}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--db", default="centre.db")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=1883)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--tls", action="store_true")
    p.add_argument("--prefix", default=PREFIX)
    sub = p.add_subparsers(dest="verb", required=True)
    a = sub.add_parser("add-site")
    a.add_argument("site")
    a.add_argument("key")
    a.add_argument("--period-h", type=float, default=36)
    k = sub.add_parser("import-keys", help="JSON file {site: {key, period_h}}")
    k.add_argument("file")
    r = sub.add_parser("run")
    r.add_argument("--group", default="centre")
    r.add_argument("--name")
    r.add_argument("--silent-every", type=float, default=60.0)
    r.add_argument("--ha-bridge", action="store_true",
                   help="sign Home Assistant's commands from <prefix>/<site>/ha/cmd")
    s = sub.add_parser("send-cmd")
    s.add_argument("--site", required=True)
    s.add_argument("--code")
    s.add_argument("--wait", type=float, default=5.0)
    s.add_argument("words", nargs="+")
    sub.add_parser("silent")
    o = p.parse_args(argv)
    store = Store(o.db)
    if o.verb == "add-site":
        store.add_site(o.site, o.key, int(o.period_h * 3600))
        print("site %s added" % o.site)
    elif o.verb == "import-keys":
        with open(o.file) as f:
            for site, v in json.load(f).items():
                store.add_site(site, v["key"], int(v.get("period_h", 36) * 3600))
    elif o.verb == "run":
        rx = Receiver(store, o.host, o.port, o.user, o.password, o.group, o.prefix, o.name,
                      tls=o.tls, ha_bridge=o.ha_bridge).start()
        print("receiver %s: listening on %s:%d ($share/%s/%s/+/event)" % (
            rx.name, o.host, o.port, o.group, o.prefix), flush=True)
        try:
            last = 0.0
            while True:
                time.sleep(1.0)
                rx.show_ready()          # held reports whose wait is over
                if time.time() - last >= o.silent_every:
                    last = time.time()
                    rx.check_silent()
        except KeyboardInterrupt:
            rx.stop()
    elif o.verb == "send-cmd":
        name, args = _cmd_args(o.words)
        res = send_command(store, o.host, o.port, o.site, name, args, o.code, o.user,
                           o.password, o.prefix, o.wait, o.tls)
        if res is None:
            print("no result from %s within %.0f s" % (o.site, o.wait))
            return 1
        print("%s %s ctr=%s: %s" % (o.site, name, res["ctr"],
                                   "accepted" if res["ok"] else "rejected: " + res["reason"]))
        return 0 if res["ok"] else 2
    elif o.verb == "silent":
        for site, age in store.silent_sites(time.time()):
            print("通信途絶 %s: %.1f h" % (site, age / 3600))
    return 0


if __name__ == "__main__":
    sys.exit(main())
