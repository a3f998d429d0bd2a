#!/usr/bin/env python3
"""The centre's SIA DC-09 intake: pysiaalarm's TCP or UDP server (the library Home Assistant's SIA
integration runs) receives the controllers' ADM-CID reports and hands each to the centre's
Receiver (tools/receiver.py), which stores it and shows it once - paired, like a landline
report, with the same report arriving by MQTT (same site, qualifier + code, zone/user, within
LINE_MATCH_S), so a report that took both paths is shown once.

    python tools/receiver.py --db centre.db dc09 add-account 00C0FFEE site-001 [--key K]
    python tools/receiver.py --db centre.db dc09 listen --port 12128 [--udp]

(also `python tools/receiver_dc09.py --db centre.db ...`). The key is given as the controller's
comms.dc09.key in its key_format "text" form: pysiaalarm takes the characters as the AES key.
pysiaalarm checks the CRC, decrypts, checks the timestamp (NAK when outside -40/+20 s) and
answers; only a report it ACKs reaches the centre. The NULL link tests count as the site heard.
"""
import argparse
import sqlite3
import sys
import time

from pysiaalarm import CommunicationsProtocol, SIAAccount, SIAClient

import receiver as R

SCHEMA = ("CREATE TABLE IF NOT EXISTS dc09_accounts (account TEXT PRIMARY KEY, "
          "site TEXT NOT NULL, key TEXT)")


def add_account(store, account, site, key=None):
    """Name `site` (added with add-site) by its DC-09 account (3-16 hex), with its key (16, 24
    or 32 characters, Home Assistant's form) or none (reports in the clear)."""
    account = account.upper()
    SIAAccount.validate_account(account, key)      # the same rules as Home Assistant's
    if store.key(site) is None:
        raise ValueError("unknown site %s: add-site first" % site)
    with store.lock:
        store.db.execute(SCHEMA)
        store.db.execute("INSERT OR REPLACE INTO dc09_accounts (account, site, key) "
                         "VALUES (?, ?, ?)", (account, site, key))


def accounts(store):
    with store.lock:
        store.db.execute(SCHEMA)
        return {a: (s, k) for a, s, k in
                store.db.execute("SELECT account, site, key FROM dc09_accounts")}


class Intake:
    """pysiaalarm's server feeding `rx` (a receiver.Receiver)."""

    def __init__(self, rx, host="0.0.0.0", port=0, udp=False):
        self.rx = rx
        self.sites = accounts(rx.store)
        self.client = SIAClient(
            host, port, [SIAAccount(a, k) for a, (_s, k) in self.sites.items()], self.event,
            CommunicationsProtocol.UDP if udp else CommunicationsProtocol.TCP)
        self.port = self.client.sia_server.server_address[1]
        self.results = []

    def start(self):
        self.client.start()
        return self

    def stop(self):
        self.client.stop()

    def event(self, ev, now=None):
        """One report pysiaalarm accepted (its ACK is on the way back to the controller)."""
        self.results.append(self.report(ev, now))

    def report(self, ev, now=None):
        now = time.time() if now is None else now
        site = self.sites.get((ev.account or "").upper(), (None, None))[0]
        if site is None:
            return "unknown_account"
        if ev.message_type is not None and ev.message_type.value == "NULL":
            with self.rx.store.lock:
                self.rx.store.db.execute("UPDATE sites SET last_seen=?, silent=0 WHERE site=?",
                                         (now, site))
            return "link_test"
        q, code = ev.event_qualifier or "", ev.event_type or ""
        gg, ccc = ev.partition or "00", ev.ri or ""
        if q not in ("1", "3", "6") or len(code) != 3 or not code.isdigit() or \
                not ccc.isdigit() or len(gg) != 2:
            self.rx.store.reject("dc09", "bad_field", (ev.full_message or "").encode()[:32], now)
            return "bad_field"
        # the centre's Contact ID row (line_reports): ACCT 18 Q XYZ GG CCC, the account field
        # holding the DC-09 account's last 4 characters (the site is known already)
        acct = ev.account.upper()
        msg = acct[-4:].rjust(4, "0") + "18" + q + code + gg + "%03d" % int(ccc)
        what, seq = self.rx.store.record_line(site, msg, now)
        with self.rx._showing:
            if what == "new":
                self.rx.out(R.line_show_line(site, acct, q, code, gg, int(ccc)).replace(
                    "(経路 電話回線)", "(経路 DC-09)"))
                return "shown"
            if what == "both":
                self.rx.out("   経路追加 site=%s: 報告 seq %s を DC-09 でも受信 (経路 MQTT+DC-09)"
                            % (site, seq))
        return what


def main(argv=None, store=None):
    p = argparse.ArgumentParser(prog="receiver.py dc09", description=__doc__.split("\n")[0])
    if store is None:
        p.add_argument("--db", default="centre.db")
    sub = p.add_subparsers(dest="verb", required=True)
    a = sub.add_parser("add-account")
    a.add_argument("account")
    a.add_argument("site")
    a.add_argument("--key")
    ls = sub.add_parser("listen")
    ls.add_argument("--host", default="0.0.0.0")
    ls.add_argument("--port", type=int, default=12128)
    ls.add_argument("--udp", action="store_true")
    ls.add_argument("--name")
    o = p.parse_args(argv)
    store = store or R.Store(o.db)
    if o.verb == "add-account":
        try:
            add_account(store, o.account, o.site, o.key)
        except (ValueError, sqlite3.Error, Exception) as e:   # pysiaalarm's errors too
            raise SystemExit("dc09 add-account: %s" % (e or type(e).__name__))
        print("DC-09 account %s names site %s" % (o.account.upper(), o.site))
        return 0
    intake = Intake(R.Receiver(store, name=o.name), o.host, o.port, o.udp).start()
    print("receiver: DC-09 (%s) on %s:%d for %d account(s)" % (
        "UDP" if o.udp else "TCP", o.host, intake.port, len(intake.sites)), flush=True)
    try:
        while True:
            time.sleep(1.0)
    except KeyboardInterrupt:
        intake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
