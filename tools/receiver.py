#!/usr/bin/env python3
"""mimamori monitoring-centre receiver (host side, CPython, paho-mqtt).

    mimamori-centre --db centre.db add-site site-001 [--period-h 36]   # key: $MIMAMORI_SITE_KEY
    mimamori-centre --db centre.db run [--host H --port P --user U]     # $MIMAMORI_MQTT_PASSWORD
    mimamori-centre --db centre.db send-cmd --site site-001 arm away    # code: $MIMAMORI_CODE
    mimamori-centre --db centre.db sites | history [--site S --since 36h --kind alarm] | silent
    mimamori-centre --db centre.db ha-token --site site-001
    mimamori-centre --db centre.db line-in < contact-id-reports.txt
(`python tools/receiver.py ...` is the same from a checkout.) This module is the MQTT side:
Receiver (intake, ordering, display, acks, the landline intake, the HA bridge) and send_command.
By job, in tools/mimamori_host/: store.py the database (schema versions, pairing the paths),
checks.py a frame's fields, centre_cli.py the command line, history.py the operator's views.

The landline path: `line_report` (verb line-in) takes the Contact ID reports the centre's line
receiver decoded and kissed off, finds the site by its account number (add-site --account),
stores and shows each once, marked 経路 電話回線, and pairs it with the same report arriving
by MQTT (Store.record_line / match_line: site + qualifier + code + zone/user within
LINE_MATCH_S), so a report that took both paths is shown once.

`run` subscribes with the shared subscription $share/<group>/<prefix>/+/event, so several
receivers (same group, same database) split the load. Each frame's mac is checked with its
site's key and every field's type and size; a good report is stored in SQLite once per exact
report (its `ref`, frame.report_ref), shown once (異常 live, with the Japanese labels and the
zone name), and acknowledged with a signed ack naming the report (`ref`) on <prefix>/<site>/ack.
A duplicate (same ref) is acked again, since the controller evidently missed the first ack, but
not shown again. Reports are keyed by (site, epoch, seq): the same seq with a different report
(a wiped board, a damaged journal) is a NEW report, shown, stored and acked, and flagged to the
operator (通番重複); a new epoch is flagged too (新エポック). 異常 are shown at once; routine
reports are shown in seq order, held at most HOLD_S for the ones before them. What is stored
but not yet shown (a receiver killed while holding it) is shown when a receiver starts, when
the controller's resend arrives, or by a peer receiver after twice HOLD_S. A bad frame is
refused with a reason, in isolation, and kept bounded (REJECTS_MAX rows, REJECT_KEEP bytes
each). A site not heard from for longer than its communication-check period (36 h by default)
is flagged 通信途絶. Command results from the controllers (same ack topic) are stored and shown.
A command's code is sealed for the controller (core.commands.seal_code): it never crosses the
broker in clear. `run --ha-bridge` forwards Home Assistant's commands only with the site's HA
token.
"""
import hmac
import json
import os
import sys
import threading
import time

import paho.mqtt.client as paho

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_FIRMWARE = os.path.join(ROOT, "firmware")
if os.path.isdir(_FIRMWARE) and _FIRMWARE not in sys.path:
    # Run from a checkout: this checkout's firmware code signs and verifies (an installed
    # package, pyproject.toml, brings the same `mimamori` when there is no checkout around).
    sys.path.insert(0, _FIRMWARE)
from mimamori.proto import frame as F        # noqa: E402 - the same code signs on both ends
from mimamori.core import commands as C      # noqa: E402
from mimamori.comms import discovery as DS   # noqa: E402
from mimamori.core import events as EV       # noqa: E402
from mimamori.proto import contactid as CID  # noqa: E402
from mimamori_host.store import (  # noqa: E402,F401 - the database (re-exported: R.Store ...)
    DEFAULT_PERIOD_S, LINE_MATCH_S, LINE_PATH_NAMES, LINE_REPEAT_S, MIGRATIONS, NOTE_NEW_EPOCH,
    NOTE_REGRESSION, PATH_JA, REJECT_KEEP, REJECTS_MAX, SCHEMA, SCHEMA_VERSION, SchemaTooNew,
    Store, _line_pairable, _report_ccc)
from mimamori_host.checks import EVENT_FIELDS, Refused, check_report  # noqa: E402,F401

PREFIX = "mimamori/v1"
HOLD_S = 10.0   # longest a routine out-of-order report waits for the reports before it
MAX_FRAME = 4096        # bytes: a real event frame is about 500; anything larger is refused


def line_show_line(site, acct, q, code, gg, ccc):
    """The operator's line for a Contact ID report heard on the line (the landline path)."""
    svc = EV.CATALOGUE.get(int(code), ("",))[0]
    label = EV.tx.EVENT_LABELS.get(int(code), "コード%s" % code)
    c = int(code)
    user = c in CID.USER_CODES or 400 <= c < 500
    if c == EV.CID_CANCEL:
        head = "取消"
    elif user:
        head = "解除" if q == "1" else "セット"
    elif q == "3":
        head = "復旧"
    else:
        head = "異常" if c < 300 else "試験" if 600 <= c < 700 else "故障"
    where = (" ユーザー%d" if user else " ゾーン%d") % ccc if ccc else ""
    alarm = c < 300 and q == "1"
    return "%s %s [%s %s] %s%s  site=%s acct=%s cid=%s%s gg=%s (経路 電話回線)" % (
        "!!" if alarm else "  ", head, svc, EV.SERVICES.get(svc, ""), label, where, site, acct,
        q, code, gg)


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
                 group="centre", prefix=PREFIX, name=None, out=None, tls=False, ha_bridge=False,
                 clock=None):
        """clock(): the centre's time in Unix seconds (time.time; the simulator's follows its
        fast-forward, so the acks' `t` never pulls a controller's report times back)."""
        self.clock = clock or time.time
        self.store = store
        self.prefix = prefix
        self.group = group
        self.name = name or "rx-%d" % os.getpid()
        self.out = out or (lambda line: print(line, flush=True))
        self.shown = []            # (site, seq) in the order shown
        self.held = {}             # (site, ref) -> (report dict, time held): waiting for a gap
        self._showing = threading.RLock()   # held/shown: the network thread and the run loop
        self.acked = 0
        self.ha_bridge = ha_bridge
        self.connected = threading.Event()
        c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=self.name)
        if user:
            c.username_pw_set(user, password)
        if tls:
            c.tls_set()
        c.on_connect = self._on_connect
        c.on_connect_fail = self._on_connect_fail
        self._unreachable = False       # said once per outage, not at every retry
        c.on_disconnect = lambda *a: self.connected.clear()
        c.on_message = self._on_message
        c.reconnect_delay_set(0.1, 2)
        self.c = c
        self.host, self.port = host, port

    def start(self):
        self.show_unshown()      # what a receiver killed before showing it left behind
        self.c.connect_async(self.host, self.port, keepalive=30)
        self.c.loop_start()
        return self

    def wait_connected(self, timeout=10):
        return self.connected.wait(timeout)

    def stop(self):
        self.c.disconnect()
        self.c.loop_stop()

    def _on_connect_fail(self, c, userdata):
        if not self._unreachable:
            self._unreachable = True
            self.out("receiver: cannot reach the broker at %s:%d (retrying)" % (
                self.host, self.port))

    def _on_connect(self, c, userdata, flags, rc, props=None):
        if rc != 0:
            self.out("receiver: the broker at %s:%d refused the login: %s" % (
                self.host, self.port, str(rc).lower()))
            return
        self._unreachable = False
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
        now = self.clock() if now is None else now
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
        try:
            self._event(topic, site, key, payload, now)
        except Exception as e:   # noqa: BLE001 - one frame, one outcome: the next is unaffected
            self._refuse(topic, site, "error:%s" % type(e).__name__, payload, now)

    def _refuse(self, topic, site, reason, payload, now):
        self.store.reject(topic, reason, payload, now)
        self.out("receiver: %s report refused: %s" % (site[:64], reason))

    def _event(self, topic, site, key, payload, now):
        if key is None:
            self.store.reject(topic, "unknown_site", payload, now)
            self.out("receiver: report from unknown site %s dropped" % site[:64])
            return
        try:
            if len(payload) > MAX_FRAME:
                raise Refused("too_large")
            d = F.verify_event(key, payload, site)
            check_report(d)
            ref = F.report_ref(d)
        except (F.FrameError, Refused) as e:
            return self._refuse(topic, site, str(e), payload, now)
        new, shown, note = self.store.record(site, d, ref, payload, self.name, now)
        by_line = new and self.store.match_line(site, d, now)
        # Stored durably: ack now (delivery stays fast), naming the exact report; show below.
        self.c.publish("%s/%s/ack" % (self.prefix, site),
                       F.ack_frame(key, site, d["seq"], ref, int(now)), qos=1)
        self.acked += 1
        with self._showing:
            self._after_store(site, ref, d, new, shown, note, now, by_line)

    def line_report(self, msg, now=None):
        """Intake of the landline path: one Contact ID report as decoded by the centre's line
        receiver (which checked its checksum and kissed it off): the 15 Ademco digits ACCT MT
        Q XYZ GG CCC, or 16 with the check digit (checked here). The site is the one whose
        account it is (add-site --account). Stored, then shown at once, marked 経路 電話回線 -
        unless the same report came by MQTT already (Store.record_line): then it is not shown
        again, only noted as brought by both paths; the same message heard again within
        LINE_REPEAT_S (the controller repeating it) is stored, not shown. Returns "shown",
        "both", "repeat" or the refusal."""
        now = self.clock() if now is None else now
        msg = msg.upper() if isinstance(msg, str) else ""
        why = None
        if len(msg) not in (15, 16) or any(ch not in "0123456789BCDEF" for ch in msg):
            why = "bad_message"
        elif len(msg) == 16 and not CID.valid(msg):
            why = "bad_checksum"
        elif msg[4:6] != CID.MESSAGE_TYPE or msg[6] not in "136" or not msg[7:10].isdigit() \
                or not msg[12:15].isdigit():
            why = "bad_field"
        site = None if why else self.store.site_of_account(msg[0:4])
        if why is None and site is None:
            why = "unknown_account"
        if why:
            self.store.reject("landline", why, msg.encode()[:32], now)
            self.out("receiver: landline report %r refused: %s" % (msg[:20], why))
            return why
        what, seq = self.store.record_line(site, msg, now)
        with self._showing:
            if what == "new":
                self.out(line_show_line(site, msg[0:4], msg[6], msg[7:10], msg[10:12],
                                        int(msg[12:15])))
                return "shown"
            if what == "both":
                self.out("   経路追加 site=%s: 報告 seq %s を電話回線でも受信 (経路 MQTT+電話回線)"
                         % (site, seq))
        return what

    def _after_store(self, site, ref, d, new, shown, note, now, by_line=False):
        if new and by_line:
            # The line brought it first and the operator saw it then (line_report).
            self.out("   経路追加 site=%s: 電話回線で表示済みの報告 seq %s を MQTT でも受信 (経路 "
                     "電話回線+MQTT)%s" % (site, d["seq"], "  [%s]" % note if note else ""))
        elif new:
            if note == NOTE_REGRESSION:
                self.out("!! 通番重複 site=%s seq=%s: 使用済みの通番で別の通報 (本体の交換・初期化"
                         "・記録の破損): 新しい通報として表示" % (site, d["seq"]))
            elif note == NOTE_NEW_EPOCH:
                self.out("!! 新エポック site=%s epoch=%s seq %s から: 本体が通番を新しく開始 "
                         "(交換・初期化・再設置)" % (site, d.get("epoch", ""), d["seq"]))
            if d["kind"] == "alarm" or note is not None:
                self._show(site, ref, d)        # 異常 never wait for ordering
            else:
                self.held[(site, ref)] = (d, now)
        elif not shown and (site, ref) not in self.held:
            # Stored, acked, never shown: the receiver that held it died. An 異常 is shown now;
            # a routine report is held here, its wait counted from when it was stored.
            received = self.store.unshown_one(site, ref)
            if received is not None and d["kind"] == "alarm":
                self._show(site, ref, d, "  (未表示分)")
            elif received is not None:
                self.held[(site, ref)] = (d, received)
        self.show_ready(now)

    def _show(self, site, ref, d, suffix=""):
        def show():
            self.out(show_line(site, d) + suffix)
            self.shown.append((site, d["seq"]))
        self.store.claim_shown(site, ref, show)

    def show_unshown(self, received_before=None):
        """Show, in order, what is stored and was never shown (a receiver was killed between
        storing and showing): at start, everything; in `run`'s loop, what was stored more than
        twice HOLD_S ago (another receiver sharing the database died holding it)."""
        with self._showing:
            for site, ref, received, d in self.store.unshown(received_before):
                if (site, ref) not in self.held:
                    self._show(site, ref, d, "  (未表示分)")

    def show_ready(self, now=None):
        """Show held routine reports in seq order per site and epoch: a report is shown once
        every seq from its frame's `base` (the controller's oldest unacknowledged) up to it is
        stored - a broker drops what was published while the centre was not subscribed, and the
        controller's resend fills the gap. A report held longer than HOLD_S is shown anyway.
        (異常 are never held: they are shown as they arrive.)"""
        now = self.clock() if now is None else now
        with self._showing:
            self._show_ready(now)

    def _show_ready(self, now):
        order = sorted(self.held, key=lambda k: (k[0], self.held[k][0].get("epoch", ""),
                                                 self.held[k][0]["seq"]))
        for key in order:
            site, ref = key
            d, since = self.held[key]
            seq = d["seq"]
            base = d.get("base", seq)
            if now - since < HOLD_S and not self.store.has_all(site, d.get("epoch", ""), base,
                                                               seq - 1):
                continue
            del self.held[key]
            self._show(site, ref, d, "" if now - since < HOLD_S else "  (順序待ち超過)")

    def tick(self, now=None):
        """`run` calls this every second: held reports whose wait is over; and what is stored,
        never shown, and held by nobody any more (a receiver sharing the database died holding
        it: after twice HOLD_S)."""
        now = self.clock() if now is None else now
        self.show_ready(now)
        self.show_unshown(now - 2 * HOLD_S)

    def _ha(self, site, payload):
        """Home Assistant cannot sign: turn its {"action", "code", "token"} into a signed command
        with the code sealed (core.commands.seal_code). Forwarded only with the site's HA token
        (core.commands.ha_token): the trust chain is the broker's ACL (only the HA user may
        publish <prefix>/<site>/ha/cmd and read the retained discovery config that carries the
        token), then this check, so a client without either cannot make the bridge sign
        anything, and no junk counts as a wrong code towards the controller's lockout. The code
        is checked by the controller (Authenticator, lockout), never here."""
        key = self.store.key(site)
        why = _ha_refusal(key, site, payload)
        got = None if why else DS.ha_command(payload)
        if why is None and got is None:
            why = "not an HA alarm-panel command"
        if why is None and got[2] is not None and not (got[2].isdigit() and got[2].isascii()
                                                       and len(got[2]) <= C.CODE_PAD):
            why = "the code is not 1-%d digits" % C.CODE_PAD
        if why:
            self.out("receiver: HA command for %s refused: %s" % (site[:64], why))
            return
        name, args, code = got
        ctr = self.store.next_ctr(site)
        frame_ = C.command_frame(key, site, ctr, ctr // 1000, name, args, code)
        self.c.publish("%s/%s/cmd" % (self.prefix, site), frame_, qos=1)
        self.out("   HA command for %s -> %s %s" % (site, name, args))

    def check_silent(self, now=None):
        now = self.clock() if now is None else now
        flagged = self.store.silent_sites(now)
        for site, age in flagged:
            if self.store.heard(site):
                self.out("!! 通信途絶 site=%s: %.1f 時間 通報なし" % (site, age / 3600))
            else:
                self.out("!! 未受信 site=%s: 登録から %.1f 時間 一度も通報なし" % (
                    site, age / 3600))
        return flagged


HA_MAX = 512   # bytes: HA's {"action", "code", "token"} is under 150


def _ha_refusal(key, site, payload):
    """Why an HA command must not be forwarded, or None."""
    if key is None:
        return "unknown site"
    if len(payload) > HA_MAX:
        return "over %d bytes" % HA_MAX
    try:
        d = json.loads(bytes(payload).decode())
    except (ValueError, UnicodeError, RecursionError):
        return "not JSON"
    token = d.get("token") if isinstance(d, dict) else None
    if not isinstance(token, str) or not hmac.compare_digest(
            token.encode("utf-8", "replace"), C.ha_token(key, site).encode()):
        return "no valid HA token"
    return None


class BrokerError(Exception):
    """The broker cannot be reached or refused us; str(e) names its address."""


def send_command(store, host, port, site, name, args=None, code=None, user=None, password=None,
                 prefix=PREFIX, wait=5.0, tls=False):
    """Sign and publish one command; wait for the controller's result. Returns the result dict
    (or None on timeout). BrokerError when the broker cannot be reached or refuses the login."""
    key = store.key(site)
    if key is None:
        raise SystemExit("unknown site %s: add-site first" % site)
    ctr = store.next_ctr(site)     # the command's time in ms: ts = ctr // 1000
    payload = C.command_frame(key, site, ctr, ctr // 1000, name, args or {}, code)
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
    refused = []

    def on_connect(cl, u, f, rc, p=None):
        if rc.is_failure:
            refused.append(str(rc).lower())
            ready.set()
        else:
            cl.subscribe("%s/%s/ack" % (prefix, site), 1)
    c.on_connect = on_connect
    where = "the broker at %s:%d" % (host, port)
    try:
        c.connect(host, port, 30)
    except ConnectionRefusedError:
        raise BrokerError("cannot reach %s: connection refused" % where) from None
    except OSError as e:
        raise BrokerError("cannot reach %s: %s" % (where, e.strerror or e)) from None
    c.loop_start()
    try:
        if not ready.wait(5):
            raise BrokerError("%s did not answer within 5 s" % where)
        if refused:
            raise BrokerError("%s refused the login: %s" % (where, refused[0]))
        c.publish("%s/%s/cmd" % (prefix, site), payload, qos=1).wait_for_publish(5)
        if wait:
            done.wait(wait)
    finally:
        c.disconnect()
        c.loop_stop()
    if got:
        store.result(site, got, time.time())
    return got or None


def build_parser():
    """The command line (mimamori_host/centre_cli.py)."""
    from mimamori_host import centre_cli
    return centre_cli.build_parser()


def main(argv=None):
    from mimamori_host import centre_cli
    return centre_cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
