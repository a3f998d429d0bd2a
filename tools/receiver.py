#!/usr/bin/env python3
"""mimamori monitoring-centre receiver (host side, CPython, paho-mqtt).

    mimamori-centre --db centre.db add-site site-001 [--period-h 36]   # key: $MIMAMORI_SITE_KEY
    mimamori-centre --db centre.db run [--host H --port P --user U]     # $MIMAMORI_MQTT_PASSWORD
    mimamori-centre --db centre.db send-cmd --site site-001 arm away    # code: $MIMAMORI_CODE
    mimamori-centre --db centre.db sites | history [--site S --since 36h --kind alarm] | silent
    mimamori-centre --db centre.db ha-token --site site-001
    mimamori-centre --db centre.db line-in < contact-id-reports.txt
(`python tools/receiver.py ...` is the same from a checkout; the command line is
mimamori_host/centre_cli.py, the history views mimamori_host/history.py.)

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
import argparse
import hashlib
import hmac
import json
import os
import sqlite3
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

PREFIX = "mimamori/v1"
DEFAULT_PERIOD_S = 36 * 3600
HOLD_S = 10.0   # longest a routine out-of-order report waits for the reports before it
MAX_FRAME = 4096        # bytes: a real event frame is about 500; anything larger is refused
REJECTS_MAX = 1000      # refused frames kept (the newest); identical ones counted, kept once
REJECT_KEEP = 256       # bytes of a refused frame kept for the operator

SCHEMA = """
CREATE TABLE IF NOT EXISTS sites (site TEXT PRIMARY KEY, key TEXT NOT NULL,
    period_s INTEGER NOT NULL DEFAULT %d, last_seen REAL, silent INTEGER NOT NULL DEFAULT 0,
    ctr INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS reports (id INTEGER PRIMARY KEY, site TEXT NOT NULL,
    epoch TEXT NOT NULL DEFAULT '', seq INTEGER NOT NULL, ref TEXT NOT NULL,
    received REAL NOT NULL, receiver TEXT, ts TEXT, kind TEXT, cid TEXT, service TEXT,
    label TEXT, zone INTEGER, zone_name TEXT, user INTEGER, mode TEXT, urgent INTEGER,
    shown INTEGER NOT NULL DEFAULT 0, note TEXT, frame TEXT NOT NULL, UNIQUE (site, ref));
CREATE INDEX IF NOT EXISTS reports_seq ON reports (site, epoch, seq);
CREATE INDEX IF NOT EXISTS reports_unshown ON reports (shown) WHERE shown = 0;
CREATE TABLE IF NOT EXISTS rejects (id INTEGER PRIMARY KEY, received REAL, topic TEXT,
    reason TEXT, digest TEXT UNIQUE, count INTEGER NOT NULL DEFAULT 1, last REAL,
    size INTEGER, payload BLOB);
CREATE TABLE IF NOT EXISTS results (received REAL, site TEXT, ctr INTEGER, cmd TEXT,
    ok INTEGER, reason TEXT);
CREATE TABLE IF NOT EXISTS line_reports (id INTEGER PRIMARY KEY, site TEXT NOT NULL,
    account TEXT NOT NULL, received REAL NOT NULL, digits TEXT NOT NULL, q TEXT NOT NULL,
    code TEXT NOT NULL, gg TEXT NOT NULL, ccc INTEGER NOT NULL, report_id INTEGER,
    repeat_of INTEGER, shown INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS line_reports_site ON line_reports (site, received);
""" % DEFAULT_PERIOD_S

# Contact ID reports (the landline path) carry no seq and no signature: a report heard on the
# line and the same report arriving by MQTT are matched on site (by the account number) +
# qualifier + event code + zone/user, received within LINE_MATCH_S of each other, each report
# of one path paired with at most one of the other (the oldest unpaired candidate). See README
# "Landline (Contact ID)" for the rule's limits.
LINE_MATCH_S = 15 * 60
# The same message heard again on the line within LINE_REPEAT_S is the controller repeating it
# (its kissoff was lost: up to 4 attempts a call, further calls within the dialer's 300 s
# budget): stored, not shown again, not paired again.
LINE_REPEAT_S = 300
PATH_JA = {"mqtt": "MQTT", "landline": "電話回線"}

NOTE_REGRESSION = "seq_regression"   # the same (site, epoch, seq) with a different report
NOTE_NEW_EPOCH = "new_epoch"         # the site's controller started a new epoch


def _v2_sites_added(db, now):
    """v1 -> v2: sites.added, when the site was added, so a site never heard from is flagged
    once its period has passed since then. A site from before is counted from the upgrade."""
    db.execute("ALTER TABLE sites ADD COLUMN added REAL")
    db.execute("UPDATE sites SET added=?", (now,))
    db.execute("PRAGMA user_version=2")     # in the step's transaction: all or nothing


# MIGRATIONS[n - 1] takes a version-n database to n + 1, in the same transaction as its
# user_version. SCHEMA stays the v1 script: a fresh database is made by v1 + every step.
MIGRATIONS = (_v2_sites_added,)
SCHEMA_VERSION = 1 + len(MIGRATIONS)


class SchemaTooNew(Exception):
    """The database was made by a newer receiver."""


class Refused(Exception):
    """A frame the centre will not store as a report; str(e) is the reason."""


def _text(d, name, most, none_ok=False):
    v = d.get(name)
    if (v is None and none_ok) or (isinstance(v, str) and len(v) <= most):
        return v
    raise Refused("bad_field:" + name)


def _int(d, name, lo, hi, missing_ok=False):
    if name not in d and missing_ok:
        return None
    v = d.get(name)
    if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi:
        return v
    raise Refused("bad_field:" + name)


def _hex(v, n):
    return isinstance(v, str) and len(v) == n and all(c in "0123456789abcdef" for c in v)


EVENT_FIELDS = ("v", "site", "epoch", "seq", "ts", "up", "kind", "service", "label", "cid",
                "zone", "zone_name", "user", "mode", "urgent", "base", "path", "mac")


def check_report(d):
    """Every field of a verified event frame has its type and a sane size (a validly signed
    frame can still be odd: any resident can read the site key from the panel's flash).
    Raises Refused('bad_field:<name>')."""
    for k in d:
        if k not in EVENT_FIELDS:
            raise Refused("bad_field:" + (k if len(k) <= 32 else k[:32]))
    seq = _int(d, "seq", 1, 2 ** 32 - 1)
    if "epoch" in d and not _hex(d["epoch"], 8):
        raise Refused("bad_field:epoch")
    _int(d, "base", 1, seq, missing_ok=True)
    _text(d, "ts", 40, none_ok=True)
    _int(d, "up", 0, 2 ** 40)
    _text(d, "kind", 16)
    svc = d.get("service")
    if not isinstance(svc, dict) or sorted(svc) != ["code", "label"]:
        raise Refused("bad_field:service")
    _text(svc, "code", 4)
    _text(svc, "label", 32)
    _text(d, "label", 64)
    cid = _text(d, "cid", 4)
    if len(cid) != 4 or not cid.isdigit() or not cid.isascii():
        raise Refused("bad_field:cid")
    _int(d, "zone", 0, 9999)
    _text(d, "zone_name", 64)
    _int(d, "user", 0, 9999)
    _text(d, "mode", 16)
    if not isinstance(d.get("urgent"), bool):
        raise Refused("bad_field:urgent")
    if "path" in d:                 # a report path's test or trouble (frame.PATH_CIDS)
        _text(d, "path", 16)


class Store:
    """SQLite, safe to share between the paho thread, the CLI and other receiver processes."""

    def __init__(self, path):
        self.db = sqlite3.connect(path, timeout=30, check_same_thread=False,
                                  isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        # The write-ahead log is folded into the database every ~1 MB and cut back to 1 MB: a
        # burst of frames cannot leave a large file behind.
        self.db.execute("PRAGMA wal_autocheckpoint=256")
        self.db.execute("PRAGMA journal_size_limit=1048576")
        self.lock = threading.Lock()
        with self.lock:
            self._upgrade(time.time())

    def _upgrade(self, now):
        """Bring the database to SCHEMA_VERSION (PRAGMA user_version): a fresh one and an old
        one take the same path. Version 0 is everything before versions existed (the
        pre-ref tables are moved aside first, _migrate); SCHEMA (v1, all CREATE IF NOT EXISTS)
        runs on every open, so an added table needs no version; a changed column is one more
        function in MIGRATIONS. A database from a newer receiver is refused, not guessed at."""
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SchemaTooNew("the database is schema version %d; this receiver knows up to %d:"
                               " update the receiver" % (version, SCHEMA_VERSION))
        if version == 0:
            self._migrate()
        self.db.executescript(SCHEMA)
        if version == 0:
            if "account" not in [r[1] for r in self.db.execute("PRAGMA table_info(sites)")]:
                self.db.execute("ALTER TABLE sites ADD COLUMN account TEXT")
            self.db.execute("CREATE UNIQUE INDEX IF NOT EXISTS sites_account ON sites (account)"
                            " WHERE account IS NOT NULL")
            self.db.execute("PRAGMA user_version=1")
        while True:     # one step a transaction, re-read inside it: receivers may start together
            self.db.execute("BEGIN IMMEDIATE")
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version < SCHEMA_VERSION:
                MIGRATIONS[version - 1](self.db, now)
            self.db.execute("COMMIT")
            if version >= SCHEMA_VERSION:
                return

    def _migrate(self):
        """A database from before reports were keyed by their ref: the old tables are kept
        aside as *_v0, and the old reports are copied into the new table (as shown, with their
        ref), so a resend of one of them is still a duplicate."""
        old = {}
        for table, column in (("reports", "ref"), ("rejects", "digest")):
            cols = [r[1] for r in self.db.execute("PRAGMA table_info(%s)" % table)]
            if cols and column not in cols:
                self.db.execute("ALTER TABLE %s RENAME TO %s_v0" % (table, table))
                old[table] = True
        if not old.get("reports"):
            return
        self.db.executescript(SCHEMA)
        rows = self.db.execute("SELECT site, seq, received, receiver, ts, kind, cid, service, "
                               "label, zone, zone_name, user, mode, urgent, frame FROM reports_v0"
                               ).fetchall()
        self.db.execute("BEGIN IMMEDIATE")
        for r in rows:
            try:
                d = F.parse(r[-1].encode())
                ref = F.report_ref(d)
            except (F.FrameError, ValueError):
                continue
            self.db.execute(
                "INSERT OR IGNORE INTO reports (site, epoch, seq, ref, received, receiver, ts, "
                "kind, cid, service, label, zone, zone_name, user, mode, urgent, shown, frame) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?)",
                (r[0], d.get("epoch", "") if isinstance(d.get("epoch"), str) else "", r[1], ref)
                + tuple(r[2:]))
        self.db.execute("COMMIT")

    def _tx(self, fn, *args):
        """fn(*args) in one write transaction, always closed: committed, or rolled back on any
        error (an exception never leaves the database locked for the next frame)."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                out = fn(*args)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
            return out

    def add_site(self, site, key_hex, period_s=DEFAULT_PERIOD_S, account=None):
        """account: the site's Contact ID account number (comms.landline.account), which
        names the site on the landline; unique per centre."""
        F.site_key(key_hex)
        if account is not None:
            account = str(account).upper()
            try:
                CID.account_digits(account)
            except ValueError as e:
                raise ValueError("account: %s" % e) from None
        with self.lock:
            try:
                self.db.execute("INSERT INTO sites (site, key, period_s, account, added) "
                                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(site) DO UPDATE SET "
                                "key=excluded.key, period_s=excluded.period_s, "
                                "account=COALESCE(excluded.account, account)",
                                (site, key_hex, period_s, account, time.time()))
            except sqlite3.IntegrityError:
                raise ValueError("account %s is already another site's" % account) from None

    def heard(self, site):
        """True once the site has reported (by any path)."""
        with self.lock:
            row = self.db.execute("SELECT last_seen FROM sites WHERE site=?", (site,)).fetchone()
        return bool(row and row[0] is not None)

    def site_of_account(self, account):
        with self.lock:
            row = self.db.execute("SELECT site FROM sites WHERE account=?",
                                  (account,)).fetchone()
        return row[0] if row else None

    def record_line(self, site, msg, now):
        """Store a Contact ID report heard on the line. Returns (what, seq): ("repeat", None)
        the same message heard again within LINE_REPEAT_S (not shown again); ("both", seq)
        paired with that MQTT report received already (LINE_MATCH_S: not shown again);
        ("new", None) the line brought it first: show it."""
        return self._tx(self._record_line, site, msg, now)

    def _record_line(self, site, msg, now):
        acct, _mt, q, code, gg, ccc = CID.parse(msg) if len(msg) == 16 else (
            msg[0:4], msg[4:6], msg[6], msg[7:10], msg[10:12], msg[12:15])
        ccc = int(ccc)
        self.db.execute("UPDATE sites SET last_seen=?, silent=0 WHERE site=?", (now, site))
        row = self.db.execute("SELECT COALESCE(repeat_of, id), report_id FROM line_reports "
                              "WHERE site=? AND digits=? AND received >= ? ORDER BY id DESC "
                              "LIMIT 1", (site, msg[:15], now - LINE_REPEAT_S)).fetchone()
        if row is not None:
            self.db.execute("INSERT INTO line_reports (site, account, received, digits, q, code, "
                            "gg, ccc, repeat_of, shown) VALUES (?,?,?,?,?,?,?,?,?,1)",
                            (site, acct, now, msg[:15], q, code, gg, ccc, row[0]))
            return "repeat", None
        seq = rid = None
        for r_id, r_seq, kind, cid, zone, user, frame in self.db.execute(
                "SELECT id, seq, kind, cid, zone, user, frame FROM reports r WHERE site=? AND "
                "cid=? AND received BETWEEN ? AND ? AND NOT EXISTS (SELECT 1 FROM line_reports l "
                "WHERE l.report_id=r.id) ORDER BY received, id",
                (site, q + code, now - LINE_MATCH_S, now + LINE_MATCH_S)).fetchall():
            if _report_ccc(kind, cid, zone, user) == ccc and \
                    _line_pairable(json.loads(frame).get("path")):
                seq, rid = r_seq, r_id
                break
        self.db.execute("INSERT INTO line_reports (site, account, received, digits, q, code, gg, "
                        "ccc, report_id, shown) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (site, acct, now, msg[:15], q, code, gg, ccc, rid, int(rid is not None)))
        return ("both" if rid is not None else "new"), seq

    def match_line(self, site, d, now):
        """A new MQTT report: pair it with the same report heard on the line before it
        (LINE_MATCH_S). True if it was (the operator has seen it already, by line): it is
        then marked shown."""
        return self._tx(self._match_line, site, d, now)

    def _match_line(self, site, d, now):
        if not _line_pairable(d.get("path")):
            return False
        ccc = _report_ccc(d["kind"], d["cid"], d["zone"], d["user"])
        row = self.db.execute(
            "SELECT id FROM line_reports WHERE site=? AND q || code=? AND ccc=? AND "
            "report_id IS NULL AND repeat_of IS NULL AND received BETWEEN ? AND ? ORDER BY received, id LIMIT 1",
            (site, d["cid"], ccc, now - LINE_MATCH_S, now + LINE_MATCH_S)).fetchone()
        if row is None:
            return False
        rid = self.db.execute("SELECT id FROM reports WHERE site=? AND ref=?",
                              (site, F.report_ref(d))).fetchone()[0]
        self.db.execute("UPDATE line_reports SET report_id=? WHERE id=?", (rid, row[0]))
        self.db.execute("UPDATE reports SET shown=1 WHERE id=?", (rid,))
        return True

    def seen(self, site):
        """What the operator has in front of them for a site, one row per report whatever
        the paths that brought it, in order received: (cid, zone/user, seq or None, paths) with
        paths a tuple of "mqtt" / "landline"."""
        with self.lock:
            rows = self.db.execute(
                "SELECT r.received, r.cid, r.kind, r.zone, r.user, r.seq, "
                "EXISTS (SELECT 1 FROM line_reports l WHERE l.report_id=r.id) "
                "FROM reports r WHERE r.site=?", (site,)).fetchall()
            lines = self.db.execute("SELECT received, q || code, ccc FROM line_reports WHERE "
                                    "site=? AND report_id IS NULL AND repeat_of IS NULL",
                                    (site,)).fetchall()
        out = [(rec, cid, _report_ccc(kind, cid, zone, user), seq,
                ("mqtt", "landline") if by_line else ("mqtt",))
               for rec, cid, kind, zone, user, seq, by_line in rows]
        out += [(rec, cid, ccc, None, ("landline",)) for rec, cid, ccc in lines]
        return [r[1:] for r in sorted(out, key=lambda r: r[0])]

    def key(self, site):
        with self.lock:
            row = self.db.execute("SELECT key FROM sites WHERE site=?", (site,)).fetchone()
        return F.site_key(row[0]) if row else None

    def record(self, site, d, ref, payload, receiver, now):
        """Store a verified, checked report durably (one transaction: one fsync) before it is
        acked. Returns (new, shown, note): new False for a duplicate (the same ref), shown
        whether it was shown already, note NOTE_REGRESSION / NOTE_NEW_EPOCH / None."""
        return self._tx(self._record, site, d, ref, payload, receiver, now)

    def _record(self, site, d, ref, payload, receiver, now):
        db = self.db
        db.execute("UPDATE sites SET last_seen=?, silent=0 WHERE site=?", (now, site))
        row = db.execute("SELECT shown FROM reports WHERE site=? AND ref=?",
                         (site, ref)).fetchone()
        if row is not None:
            return False, bool(row[0]), None
        epoch = d.get("epoch", "")
        note = None
        if db.execute("SELECT 1 FROM reports WHERE site=? AND epoch=? AND seq=? LIMIT 1",
                      (site, epoch, d["seq"])).fetchone():
            note = NOTE_REGRESSION
        elif db.execute("SELECT 1 FROM reports WHERE site=? LIMIT 1", (site,)).fetchone() and \
                not db.execute("SELECT 1 FROM reports WHERE site=? AND epoch=? LIMIT 1",
                               (site, epoch)).fetchone():
            note = NOTE_NEW_EPOCH
        db.execute(
            "INSERT INTO reports (site, epoch, seq, ref, received, receiver, ts, kind, cid, "
            "service, label, zone, zone_name, user, mode, urgent, note, frame) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (site, epoch, d["seq"], ref, now, receiver, d.get("ts"), d["kind"], d["cid"],
             d["service"]["code"], d["label"], d["zone"], d["zone_name"], d["user"], d["mode"],
             int(d["urgent"]), note, payload.decode()))
        return True, False, note

    def claim_shown(self, site, ref, show=None):
        """Mark a report shown; True for the one caller that did it (several receivers share
        the database: a report is shown by exactly one). show(): the display itself, done
        inside the mark's transaction, before its commit: a receiver killed between the two
        leaves the report unshown (shown after a restart), never marked shown unseen."""
        def claim():
            cur = self.db.execute("UPDATE reports SET shown=1 WHERE site=? AND ref=? AND "
                                  "shown=0", (site, ref))
            if cur.rowcount != 1:
                return False
            if show is not None:
                show()
            return True
        return self._tx(claim)

    def unshown(self, received_before=None):
        """Stored reports nobody has shown yet (a receiver died holding them), in seq order:
        (site, ref, received, frame dict)."""
        q = "SELECT site, ref, received, frame FROM reports WHERE shown=0"
        args = ()
        if received_before is not None:
            q += " AND received < ?"
            args = (received_before,)
        with self.lock:
            rows = self.db.execute(q + " ORDER BY site, epoch, seq, id", args).fetchall()
        return [(site, ref, rec, json.loads(fr)) for site, ref, rec, fr in rows]

    def unshown_one(self, site, ref):
        """When a stored report nobody has shown was received, or None (shown already)."""
        with self.lock:
            row = self.db.execute("SELECT received FROM reports WHERE site=? AND ref=? AND "
                                  "shown=0", (site, ref)).fetchone()
        return row[0] if row else None

    def reject(self, topic, reason, payload, now):
        """Keep a refused frame for the operator, bounded: an identical one is counted, not
        stored again; REJECT_KEEP bytes of it; the newest REJECTS_MAX only."""
        payload = bytes(payload)
        digest = hashlib.sha256(topic.encode("utf-8", "replace") + b"\0" + payload).hexdigest()[:32]

        def put():
            self.db.execute(
                "INSERT INTO rejects (received, topic, reason, digest, last, size, payload) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT(digest) DO UPDATE SET count=count+1, "
                "last=excluded.last", (now, topic[:200], reason[:64], digest, now, len(payload),
                                       payload[:REJECT_KEEP]))
            self.db.execute("DELETE FROM rejects WHERE id <= (SELECT MAX(id) FROM rejects) - ?",
                            (REJECTS_MAX,))
        self._tx(put)

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
        """Sites newly silent: past their period since the last report, or, never heard from,
        since they were added. Flagged once (the run loop's 通信途絶 line), returned as (site,
        seconds since the last report or since added)."""
        out = []
        with self.lock:
            rows = self.db.execute("SELECT site, period_s, COALESCE(last_seen, added) FROM sites"
                                   " WHERE silent=0").fetchall()
            for site, period, since in rows:
                if since is not None and now - since > period:
                    self.db.execute("UPDATE sites SET silent=1 WHERE site=?", (site,))
                    out.append((site, now - since))
        return out

    def silent_now(self, now):
        """Every site silent right now, however often asked: (site, seconds since its last
        report) past its period, and (site, None) for a site never heard from."""
        with self.lock:
            rows = self.db.execute("SELECT site, period_s, last_seen FROM sites ORDER BY site"
                                   ).fetchall()
        late = [(site, now - seen) for site, period, seen in rows
                if seen is not None and now - seen > period]
        return late + [(site, None) for site, _p, seen in rows if seen is None]

    def has_all(self, site, epoch, first, last):
        """True if every seq in [first, last] of the site's epoch is stored."""
        if last < first:
            return True
        with self.lock:
            n = self.db.execute("SELECT COUNT(DISTINCT seq) FROM reports WHERE site=? AND "
                                "epoch=? AND seq BETWEEN ? AND ?",
                                (site, epoch, first, last)).fetchone()[0]
        return n == last - first + 1

    def reports(self, site=None):
        with self.lock:
            q = "SELECT site, seq, kind, label, zone_name FROM reports"
            args = ()
            if site:
                q += " WHERE site=?"
                args = (site,)
            return self.db.execute(q + " ORDER BY site, seq, id", args).fetchall()


def _report_ccc(kind, cid, zone, user):
    """The Contact ID CCC of an MQTT report: its user for the open/close family, else its
    zone (proto.contactid.carries_user, the controller's own rule)."""
    if kind in CID.USER_KINDS or int(cid[1:]) in CID.USER_CODES:
        return user or 0
    return zone or 0


LINE_PATH_NAMES = ("landline", "line")     # core/watch/comm.py LINE_PATHS


def _line_pairable(path):
    """An MQTT report naming a path (its test 601/602, its trouble 350/351/354) is about that
    path: it is the same report as one heard on the line only if it names the line (the MQTT
    path's own 602 and the line's 602 are two reports, both shown)."""
    return path is None or path in LINE_PATH_NAMES


def line_show_line(site, acct, q, code, gg, ccc):
    """The operator's line for a Contact ID report heard on the line (the landline path)."""
    svc, label, _urgent = EV.CATALOGUE.get(int(code), ("", "コード%s" % code, True))
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
