# The centre's receiver as an operator uses it from the shell (issue 16): `silent` every time it
# is asked and never-heard sites too; one-line errors naming the argument or the broker; add-site
# and send-cmd refusing bad input before anything is stored or sent; secrets from the environment
# or a prompt, never argv; help on every option; `sites` and `history` instead of raw SQLite
# (received time beside event time, late flag, who armed/disarmed, a 406 linked to the alarm it
# cancels); a versioned schema that migrates a database made by the schema before versioning.
import os
import socket
import sqlite3
import subprocess
import sys
import time

from mqtt_broker import site_broker  # noqa: F401 (fixture)
from mimamori.core import events as E
from mimamori.proto import frame as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import receiver as R  # noqa: E402

SITE = "site-001"
KEY_HEX = "00112233445566778899aabbccddeeff" * 2
KEY = F.site_key(KEY_HEX)
HOUR = 3600.0


def cli(db, *words, env=None, stdin=""):
    e = dict(os.environ)
    for k in ("MIMAMORI_MQTT_PASSWORD", "MIMAMORI_CODE", "MIMAMORI_SITE_KEY"):
        e.pop(k, None)
    e.update(env or {})
    return subprocess.run([sys.executable, os.path.join(ROOT, "tools", "receiver.py"),
                           "--db", db] + list(words), capture_output=True, text=True,
                          timeout=60, env=e, input=stdin)


def one_line_error(p):
    """The CLI failed with exactly one line on stderr and no traceback."""
    err = p.stderr.strip()
    assert p.returncode != 0, p.stdout
    assert "Traceback" not in p.stderr and len(err.splitlines()) == 1, p.stderr
    return err


def _frame(seq, kind, cid, q=E.Q_NEW, zone=0, user=0, name="", wall=None):
    ev = E.Event(0, kind, cid, q, zone=zone, user=user, zone_name=name, mode="away")
    ev.seq = seq
    ev.wall = wall
    return F.event_frame(KEY, SITE, ev, 10)


def _iso(unix):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(unix)) + _offset()


def _offset():
    off = -time.altzone if time.localtime().tm_isdst > 0 else -time.timezone
    return "%s%02d:%02d" % ("+" if off >= 0 else "-", abs(off) // 3600, abs(off) % 3600 // 60)


def _offline(db):
    store = R.Store(db)
    store.add_site(SITE, KEY_HEX)
    rx = R.Receiver(store, out=lambda line: None)
    rx.c.publish = lambda *a, **k: None              # no broker: handle() is driven directly
    return store, rx


# ---- silent ------------------------------------------------------------------------------------

def test_silent_lists_a_silent_site_every_time_and_a_site_never_heard_from(tmp_path):
    db = str(tmp_path / "c.db")
    store, rx = _offline(db)
    store.add_site("site-002", "ab" * 32)             # added, never heard from
    t = time.time() - 40 * HOUR                      # site-001's last report: 40 h ago (> 36 h)
    rx.handle("mimamori/v1/%s/event" % SITE, _frame(1, E.TEST, E.CID_PERIODIC_TEST), t)
    assert rx.check_silent() != []                   # the run loop flagged it (once) meanwhile
    for _ in range(2):                               # every time it is asked
        p = cli(db, "silent")
        assert p.returncode == 0, p.stderr
        rows = p.stdout.splitlines()
        assert any(r.startswith("通信途絶 site-001") and "40.0 時間" in r for r in rows), p.stdout
        assert any(r.startswith("未受信 site-002") for r in rows), p.stdout


def test_the_run_loop_flags_a_site_never_heard_from_once_its_period_is_over(tmp_path):
    store, rx = _offline(str(tmp_path / "c.db"))
    store.add_site("site-002", "ab" * 32, 3600)
    added = time.time()
    assert [s for s, _ in rx.check_silent(added + 3599)] == []
    assert [s for s, _ in rx.check_silent(added + 3601)] == ["site-002"]
    assert rx.check_silent(added + 7200) == []                  # the loop flags it once


# ---- errors: one line, naming what is wrong ---------------------------------------------------

def test_add_site_refuses_wildcards_slashes_and_a_malformed_key_in_one_line(tmp_path):
    db = str(tmp_path / "c.db")
    for bad in ("site/001", "site+", "#", "site 1", ""):
        err = one_line_error(cli(db, "add-site", bad, env={"MIMAMORI_SITE_KEY": KEY_HEX}))
        assert err.startswith("add-site: site:"), err
    err = one_line_error(cli(db, "add-site", SITE, env={"MIMAMORI_SITE_KEY": "xyz"}))
    assert err.startswith("add-site: key:") and "64 hex" in err
    err = one_line_error(cli(db, "add-site", SITE, env={"MIMAMORI_SITE_KEY": "g" * 64}))
    assert err.startswith("add-site: key:")
    assert cli(db, "sites").stdout.strip().splitlines()[1:] == []     # nothing was stored
    # the key piped on stdin (not argv) is taken
    p = cli(db, "add-site", SITE, stdin=KEY_HEX + "\n")
    assert p.returncode == 0 and "site site-001 added" in p.stdout, p.stderr


def test_a_refused_connection_names_the_broker_address(tmp_path):
    db = str(tmp_path / "c.db")
    cli(db, "add-site", SITE, env={"MIMAMORI_SITE_KEY": KEY_HEX})
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                         # nothing listens there
    err = one_line_error(cli(db, "--port", str(port), "send-cmd", "--site", SITE, "status"))
    assert err == "send-cmd: cannot reach the broker at 127.0.0.1:%d: connection refused" % port


def test_run_says_once_which_broker_it_cannot_reach_and_keeps_trying(tmp_path):
    db = str(tmp_path / "c.db")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "tools", "receiver.py"), "--db", db,
                          "--port", str(port), "run"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(4)                       # paho retries every 0.1-2 s meanwhile
        assert p.poll() is None             # a centre does not give up on its broker
    finally:
        p.terminate()
        out = p.communicate(timeout=10)[0]
    said = [x for x in out.splitlines() if "cannot reach" in x]
    assert said == ["receiver: cannot reach the broker at 127.0.0.1:%d (retrying)" % port], out
    assert "Traceback" not in out


def test_send_cmd_validates_the_command_before_connecting(tmp_path):
    # no broker at all: a command that passes validation would fail on the connection instead
    db = str(tmp_path / "c.db")
    cli(db, "add-site", SITE, env={"MIMAMORI_SITE_KEY": KEY_HEX})
    for words, what in ((["explode"], "unknown command 'explode'"),
                        (["arm", "sideways"], "arm: mode"),
                        (["revoke-card", "abc"], "revoke-card: card"),
                        (["set-departure", "25:00"], "set-departure: time"),
                        (["shirasete", "x" * 65], "shirasete: message")):
        err = one_line_error(cli(db, "--port", "1", "send-cmd", "--site", SITE, *words,
                                 env={"MIMAMORI_CODE": "1234"}))
        assert err.startswith("send-cmd: " + what), err
    err = one_line_error(cli(db, "--port", "1", "send-cmd", "--site", "site-404", "status"))
    assert err == "send-cmd: site: unknown site site-404 (add-site first)"
    # a command that needs the user's code, with none in the environment and no terminal
    err = one_line_error(cli(db, "--port", "1", "send-cmd", "--site", SITE, "disarm"))
    assert err.startswith("send-cmd: disarm needs the user's code") and "MIMAMORI_CODE" in err
    err = one_line_error(cli(db, "--port", "1", "send-cmd", "--site", SITE, "disarm",
                             env={"MIMAMORI_CODE": "12ab"}))
    assert err.startswith("send-cmd: code:")


def test_an_unopenable_database_is_one_line(tmp_path):
    err = one_line_error(cli(str(tmp_path / "no" / "such" / "dir.db"), "sites"))
    assert err.startswith("receiver: cannot open the database") and "dir.db" in err


# ---- secrets: environment or prompt, never argv -----------------------------------------------

def test_secrets_are_not_taken_from_argv(tmp_path):
    db = str(tmp_path / "c.db")
    for words, says in ((["--password", "pw", "silent"], "not taken on the command line (ps "
                         "and the shell history show it): set MIMAMORI_MQTT_PASSWORD"),
                        (["add-site", SITE, KEY_HEX], "unrecognized arguments"),
                        (["send-cmd", "--site", SITE, "--code", "1234", "disarm"],
                         "set MIMAMORI_CODE")):
        err = one_line_error(cli(db, *words))
        assert says in err, err
    assert cli(db, "sites").stdout.splitlines()[1:] == []     # nothing was stored


def test_the_broker_password_comes_from_the_environment(tmp_path, site_broker):  # noqa: F811
    db = str(tmp_path / "c.db")
    cli(db, "add-site", SITE, env={"MIMAMORI_SITE_KEY": KEY_HEX})
    user, password = site_broker.login("centre")
    base = ["--port", str(site_broker.port), "--user", user, "send-cmd", "--site", SITE,
            "--wait", "0.5", "status"]
    err = one_line_error(cli(db, *base, env={"MIMAMORI_MQTT_PASSWORD": "wrong"}))
    assert err == ("send-cmd: the broker at 127.0.0.1:%d refused the login: not authorized"
                   % site_broker.port), err
    p = cli(db, *base, env={"MIMAMORI_MQTT_PASSWORD": password})
    assert p.returncode == 1 and "no result from site-001 within 0.5 s" in p.stdout, p.stderr


def test_every_option_and_verb_has_help():
    import argparse
    parser = R.build_parser()
    missing = []

    def walk(p, where):
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                helps = {c.dest: c.help for c in a._choices_actions}
                for name, sub in a.choices.items():
                    if not helps.get(name):
                        missing.append("%s %s" % (where, name))
                    walk(sub, "%s %s" % (where, name))
            elif not a.help and a.dest != "help":
                missing.append("%s %s" % (where, a.option_strings or a.dest))
    walk(parser, "receiver")
    assert missing == []


# ---- sites and history: no raw SQLite ---------------------------------------------------------

def _house_day(db):
    """site-001's day: armed by user 1, a fire alarm, cancelled (406) by user 2, disarmed by user
    2; one report (the trouble) delivered 10 minutes late."""
    store, rx = _offline(db)
    store.add_site("site-002", "ab" * 32, account="5678")
    t0 = time.time() - 2 * HOUR
    topic = "mimamori/v1/%s/event" % SITE
    for seq, (kind, cid, q, zone, user, name, dt, late) in enumerate((
            (E.CLOSING, E.CID_OPEN_CLOSE, E.Q_RESTORE, 0, 1, "", 0, 0),
            (E.ALARM, E.CID_HEAT, E.Q_NEW, 9, 0, "台所 熱感知器", 60, 0),
            (E.CANCEL, E.CID_CANCEL, E.Q_NEW, 0, 2, "", 90, 0),
            (E.TROUBLE, E.CID_AC_LOSS, E.Q_NEW, 0, 0, "", 120, 600),
            (E.OPENING, E.CID_OPEN_CLOSE, E.Q_NEW, 0, 2, "", 900, 0)), 1):
        rx.handle(topic, _frame(seq, kind, cid, q, zone, user, name, _iso(t0 + dt)),
                  t0 + dt + late + 1)
    return t0


def test_sites_lists_every_site_with_its_state(tmp_path):
    db = str(tmp_path / "c.db")
    _house_day(db)
    p = cli(db, "sites")
    assert p.returncode == 0, p.stderr
    rows = [r.split() for r in p.stdout.splitlines()]
    assert rows[0][:2] == ["site", "account"]
    one = [r for r in rows if r[0] == SITE][0]
    two = [r for r in rows if r[0] == "site-002"][0]
    assert "5" in one and "正常" in one                   # 5 reports, heard within 36 h
    assert two[1] == "5678" and "未受信" in two


def test_history_shows_received_beside_event_time_late_who_and_the_cancelled_alarm(tmp_path):
    db = str(tmp_path / "c.db")
    t0 = _house_day(db)
    p = cli(db, "history", "--site", SITE)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    head, rows = lines[0], lines[1:]
    assert "発生" in head and "受信" in head
    assert len(rows) == 5
    ev = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t0))
    rx = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t0 + 1))
    assert rows[0].startswith("%s  %s" % (ev, rx)) and "セット" in rows[0] and \
        "ユーザー1" in rows[0], rows[0]
    assert "異常" in rows[1] and "火災(熱)" in rows[1] and "台所 熱感知器" in rows[1]
    assert "取消" in rows[2] and "ユーザー2" in rows[2] and "seq 2 の異常を取消" in rows[2], rows[2]
    assert "遅延 10分" in rows[3] and all("遅延" not in r for r in rows[:3] + rows[4:])
    assert "解除" in rows[4] and "ユーザー2" in rows[4]
    # by kind, by time
    p = cli(db, "history", "--kind", "alarm")
    assert len(p.stdout.splitlines()) == 2 and "火災(熱)" in p.stdout
    p = cli(db, "history", "--site", SITE, "--since",
            time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t0 + 100)))
    assert len(p.stdout.splitlines()) == 1 + 2
    p = cli(db, "history", "--until", "1h")         # relative: up to an hour ago
    assert len(p.stdout.splitlines()) == 1 + 5
    p = cli(db, "history", "--since", "1h")
    assert len(p.stdout.splitlines()) == 1
    err = one_line_error(cli(db, "history", "--since", "yesterday-ish"))
    assert err.startswith("history: --since:")
    err = one_line_error(cli(db, "history", "--kind", "party"))
    assert err.startswith("history: --kind:") or "invalid choice" in err


# ---- the schema is versioned, with a migration path -------------------------------------------

SCHEMA_BEFORE_VERSIONS = """
CREATE TABLE sites (site TEXT PRIMARY KEY, key TEXT NOT NULL,
    period_s INTEGER NOT NULL DEFAULT 129600, last_seen REAL, silent INTEGER NOT NULL DEFAULT 0,
    ctr INTEGER NOT NULL DEFAULT 0, account TEXT);
CREATE UNIQUE INDEX sites_account ON sites (account) WHERE account IS NOT NULL;
CREATE TABLE reports (id INTEGER PRIMARY KEY, site TEXT NOT NULL,
    epoch TEXT NOT NULL DEFAULT '', seq INTEGER NOT NULL, ref TEXT NOT NULL,
    received REAL NOT NULL, receiver TEXT, ts TEXT, kind TEXT, cid TEXT, service TEXT,
    label TEXT, zone INTEGER, zone_name TEXT, user INTEGER, mode TEXT, urgent INTEGER,
    shown INTEGER NOT NULL DEFAULT 0, note TEXT, frame TEXT NOT NULL, UNIQUE (site, ref));
CREATE INDEX reports_seq ON reports (site, epoch, seq);
CREATE INDEX reports_unshown ON reports (shown) WHERE shown = 0;
CREATE TABLE rejects (id INTEGER PRIMARY KEY, received REAL, topic TEXT,
    reason TEXT, digest TEXT UNIQUE, count INTEGER NOT NULL DEFAULT 1, last REAL,
    size INTEGER, payload BLOB);
CREATE TABLE results (received REAL, site TEXT, ctr INTEGER, cmd TEXT,
    ok INTEGER, reason TEXT);
CREATE TABLE line_reports (id INTEGER PRIMARY KEY, site TEXT NOT NULL,
    account TEXT NOT NULL, received REAL NOT NULL, digits TEXT NOT NULL, q TEXT NOT NULL,
    code TEXT NOT NULL, gg TEXT NOT NULL, ccc INTEGER NOT NULL, report_id INTEGER,
    repeat_of INTEGER, shown INTEGER NOT NULL DEFAULT 0);
CREATE INDEX line_reports_site ON line_reports (site, received);
"""


def test_a_database_made_by_the_schema_before_versions_is_migrated(tmp_path):
    # what the receiver created up to issue 16 (user_version 0): a site heard from, a report
    path = str(tmp_path / "old.db")
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_BEFORE_VERSIONS)
    old = _frame(1, E.ALARM, E.CID_GAS, zone=4, name="台所", wall=_iso(time.time() - 60))
    d = F.parse(old)
    db.execute("INSERT INTO sites (site, key, last_seen, account) VALUES (?,?,?,?)",
               (SITE, KEY_HEX, time.time() - 50, "1234"))
    db.execute("INSERT INTO sites (site, key) VALUES (?,?)", ("site-002", "ab" * 32))
    db.execute("INSERT INTO reports (site, epoch, seq, ref, received, receiver, ts, kind, cid, "
               "service, label, zone, zone_name, user, mode, urgent, shown, frame) VALUES "
               "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?)",
               (SITE, "", 1, F.report_ref(d), time.time() - 50, "rx", d["ts"], "alarm", "1151",
                "E", "ガス漏れ", 4, "台所", 0, "away", 1, old.decode()))
    db.commit()
    db.close()
    store = R.Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == R.SCHEMA_VERSION
    store.db.close()
    p = cli(path, "history")
    assert len(p.stdout.splitlines()) == 2 and "ガス漏れ" in p.stdout, p.stdout + p.stderr
    p = cli(path, "sites")
    assert "1234" in p.stdout and "未受信" in p.stdout
    p = cli(path, "silent")                      # site-002: never heard from, flagged
    assert p.stdout.startswith("未受信 site-002")
    # the resend of the old report is still a duplicate; opening again changes nothing
    store, rx = R.Store(path), None
    rx = R.Receiver(store, out=lambda line: None)
    rx.c.publish = lambda *a, **k: None
    rx.handle("mimamori/v1/%s/event" % SITE, old, time.time())
    assert rx.shown == [] and len(store.reports(SITE)) == 1
    assert R.Store(path).db.execute("PRAGMA user_version").fetchone()[0] == R.SCHEMA_VERSION


def test_history_has_one_line_per_report_whatever_the_paths(tmp_path):
    # a panic by line first, then the same report by MQTT (paired: one line, both paths); a
    # disarm heard on the line only (its user from the CCC); a 406 by line cancels the panic
    from mimamori.proto import contactid as CID
    db = str(tmp_path / "c.db")
    store, rx = _offline(db)
    store.add_site(SITE, KEY_HEX, account="1234")
    t0 = time.time() - 600
    panic = E.Event(0, E.ALARM, E.CID_PANIC, E.Q_NEW, zone=12, zone_name="非常ボタン", mode="away")
    panic.seq, panic.wall = 1, _iso(t0)
    assert rx.line_report(CID.from_event(panic, "1234"), now=t0 + 30) == "shown"
    rx.handle("mimamori/v1/%s/event" % SITE, F.event_frame(KEY, SITE, panic, 10), t0 + 60)
    cancel = E.Event(0, E.CANCEL, E.CID_CANCEL, E.Q_NEW, user=3, mode="away")
    assert rx.line_report(CID.from_event(cancel, "1234"), now=t0 + 90) == "shown"
    rows = cli(db, "history").stdout.splitlines()[1:]
    assert len(rows) == 2, rows
    assert "非常" in rows[0] and "経路 MQTT+電話回線" in rows[0] and "seq 1" in rows[0]
    assert rows[1].startswith("-") and "取消" in rows[1] and "ユーザー3" in rows[1] and \
        "経路 電話回線" in rows[1] and "seq 1 の異常を取消 (非常" in rows[1], rows[1]
