"""The centre's database (SQLite): sites, reports, refused frames, command results, landline
reports; the schema, versioned (PRAGMA user_version) with its migrations; pairing a report heard
on the line with the same report by MQTT. Safe to share between the network thread, the CLI and
other receiver processes (one database, several receivers). tools/receiver.py re-exports it.
"""
import hashlib
import json
import sqlite3
import threading
import time

from mimamori.proto import contactid as CID
from mimamori.proto import frame as F

DEFAULT_PERIOD_S = 36 * 3600
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
