"""What the operator asks the centre's database, so nobody needs raw SQLite: the sites and their
state, and the history of reports by site, time and kind. Each report shows when it happened
(the controller's `ts`) beside when the centre received it, flagged 遅延 when it arrived more
than LATE_S after it happened (an outage, a landline fallback); who armed, disarmed or
cancelled (the user number the controller reported); and a cancel (Contact ID 406) names the
alarm it cancels: the site's latest alarm before it.

Times are the centre's local time. --since / --until select on the received time (the centre's
own clock; a controller's clock may be unset), as a date, a date and time, or "36h" / "7d" ago.
"""
import bisect
import datetime
import re
import time

from mimamori.core import events as EV
from mimamori.proto import contactid as CID

LATE_S = 60            # received this long after it happened: flagged 遅延
KINDS = ("alarm", "trouble", "restore", "opening", "closing", "test", "cancel", "bypass",
         "status")
KIND_JA = {"alarm": "異常", "trouble": "故障", "restore": "復旧", "opening": "解除",
           "closing": "セット", "test": "試験", "cancel": "取消", "bypass": "バイパス",
           "status": "状態"}
WHO_KINDS = ("opening", "closing", "cancel")      # the report names the user who did it
STAMP_W = 19                                      # "2026-12-01 10:00:05"


class BadTime(ValueError):
    pass


def parse_when(text, now=None):
    """'2026-12-01', '2026-12-01T10:00[:05]' (local time) or '90m' / '36h' / '7d' ago -> Unix
    seconds. BadTime says what is accepted."""
    now = time.time() if now is None else now
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", text.strip())
    if m:
        return now - float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    try:
        return datetime.datetime.fromisoformat(text.strip().replace(" ", "T")).timestamp()
    except ValueError:
        raise BadTime("%r is not a time: use 2026-12-01, 2026-12-01T10:00 or 36h / 7d (ago)"
                      % text) from None


def stamp(unix):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(unix))


def event_unix(ts):
    """The controller's ISO 8601 time with offset -> Unix seconds; None if unset or odd."""
    if not isinstance(ts, str):
        return None
    try:
        t = datetime.datetime.fromisoformat(ts)
    except ValueError:
        return None
    return t.timestamp() if t.tzinfo is not None else None


def site_state(now, period, last_seen):
    if last_seen is None:
        return "未受信"
    return "通信途絶" if now - last_seen > period else "正常"


def sites(store, now=None):
    """Every site: (site, account, period h, state, last report time or None, reports)."""
    now = time.time() if now is None else now
    with store.lock:
        rows = store.db.execute(
            "SELECT s.site, s.account, s.period_s, s.last_seen, (SELECT COUNT(*) FROM reports r "
            "WHERE r.site=s.site) + (SELECT COUNT(*) FROM line_reports l WHERE l.site=s.site AND "
            "l.report_id IS NULL AND l.repeat_of IS NULL) FROM sites s ORDER BY s.site"
        ).fetchall()
    return [(site, acct, period / 3600, site_state(now, period, seen), seen, n)
            for site, acct, period, seen, n in rows]


def sites_table(rows):
    out = ["%-24s %-8s %8s  %-8s %-19s %7s" % ("site", "account", "period_h", "state",
                                                "last_report", "reports")]
    for site, acct, period_h, state, seen, n in rows:
        out.append("%-24s %-8s %8g  %s %-19s %7d" % (
            site, acct or "-", period_h, state + " " * (8 - 2 * len(state)),
            stamp(seen) if seen else "-", n))
    return out


def _line_kind(q, code):
    """A landline report's kind, from its qualifier and event code (as line_show_line)."""
    c = int(code)
    if c == EV.CID_CANCEL:
        return "cancel"
    if c in CID.USER_CODES or 400 <= c < 500:
        return "opening" if q == "1" else "closing"
    if q == "3":
        return "restore"
    return "alarm" if c < 300 else "test" if 600 <= c < 700 else "trouble"


def history(store, site=None, since=None, until=None, kinds=None, limit=None):
    """Reports in the order received (MQTT, and line-only ones: a report both paths brought is
    one row), as dicts: received, event (Unix or None), site, seq, epoch, kind, cid, service,
    label, zone, zone_name, user, path, cancels (for a 406: the row it cancels) ."""
    where, args = [], []
    if site is not None:
        where.append("site=?")
        args.append(site)
    if since is not None:
        where.append("received >= ?")
        args.append(since)
    if until is not None:
        where.append("received <= ?")
        args.append(until)
    cond = (" WHERE " + " AND ".join(where)) if where else ""
    with store.lock:
        mq = store.db.execute(
            "SELECT r.received, r.ts, r.site, r.seq, r.epoch, r.kind, r.cid, r.service, r.label, "
            "r.zone, r.zone_name, r.user, EXISTS (SELECT 1 FROM line_reports l WHERE "
            "l.report_id=r.id) FROM reports r" + cond.replace("site=", "r.site=")
            .replace("received", "r.received"), args).fetchall()
        line = store.db.execute(
            "SELECT received, site, q, code, ccc FROM line_reports" + cond +
            (" AND" if cond else " WHERE") + " report_id IS NULL AND repeat_of IS NULL",
            args).fetchall()
    rows = []
    for rec, ts, s, seq, epoch, kind, cid, svc, label, zone, zname, user, both in mq:
        rows.append({"received": rec, "event": event_unix(ts), "site": s, "seq": seq,
                     "epoch": epoch, "kind": kind, "cid": cid, "service": svc, "label": label,
                     "zone": zone, "zone_name": zname, "user": user,
                     "path": "MQTT+電話回線" if both else "MQTT"})
    for rec, s, q, code, ccc in line:
        kind = _line_kind(q, code)
        svc = EV.CATALOGUE.get(int(code), ("",))[0]
        label = EV.tx.EVENT_LABELS.get(int(code), "コード%s" % code)
        user = kind in WHO_KINDS
        rows.append({"received": rec, "event": None, "site": s, "seq": None, "epoch": None,
                     "kind": kind, "cid": q + code, "service": svc, "label": label,
                     "zone": 0 if user else ccc, "zone_name": "", "user": ccc if user else 0,
                     "path": "電話回線"})
    rows.sort(key=lambda r: r["received"])
    _link_cancels(rows)
    if kinds:
        rows = [r for r in rows if r["kind"] in kinds]
    return rows[-limit:] if limit else rows


def _link_cancels(rows):
    """Each 406 names the alarm it cancels: the site's latest alarm before it - by seq in the
    same epoch for an MQTT report (the controller's own order), by time received for one heard
    on the line only (it has no seq)."""
    by_seq, by_time = {}, {}
    for r in rows:
        if r["kind"] == "alarm":
            if r["seq"] is not None:
                by_seq.setdefault((r["site"], r["epoch"]), []).append((r["seq"], r["received"], r))
            by_time.setdefault(r["site"], []).append((r["received"], r["seq"] or 0, r))
    for v in list(by_seq.values()) + list(by_time.values()):
        v.sort(key=lambda t: t[:2])
    for r in rows:
        if r["kind"] != "cancel":
            continue
        if r["seq"] is not None:
            cands = by_seq.get((r["site"], r["epoch"]), [])
            i = bisect.bisect_left([c[0] for c in cands], r["seq"])
        else:
            cands = by_time.get(r["site"], [])
            i = bisect.bisect_left([c[0] for c in cands], r["received"])
        r["cancels"] = cands[i - 1][2] if i else None


def describe(r, late_s=LATE_S):
    """One history row: event time, received time, site, seq, what, where or who, flags."""
    ev = stamp(r["event"]) if r["event"] is not None else "-".ljust(STAMP_W)
    head = KIND_JA.get(r["kind"], r["kind"])
    what = "%s [%s %s] %s" % (head, r["service"] or "", EV.SERVICES.get(r["service"], ""),
                              r["label"] or "")
    if r["kind"] in WHO_KINDS:
        what += " ユーザー%d" % r["user"] if r["user"] else " (ユーザー番号なし)"
    elif r["zone"]:
        what += " ゾーン%d %s" % (r["zone"], r["zone_name"] or "")
    flags = []
    if r["kind"] == "cancel":
        c = r.get("cancels")
        flags.append("-> seq %s の異常を取消 (%s%s)" % (
            c["seq"] if c["seq"] is not None else "-", c["label"],
            " " + c["zone_name"] if c["zone_name"] else "") if c else "-> 取消対象の異常なし")
    if r["event"] is not None and r["received"] - r["event"] > late_s:
        delay = r["received"] - r["event"]
        flags.append("遅延 %s" % ("%d分" % (delay // 60) if delay < 3600 else
                                  "%.1f時間" % (delay / 3600)))
    return "%s  %s  %s seq %s  %s  経路 %s%s" % (
        ev, stamp(r["received"]), r["site"], r["seq"] if r["seq"] is not None else "-",
        what.rstrip(), r["path"], "".join("  " + f for f in flags))


def history_table(rows, late_s=LATE_S):
    head = "%s  %s  site seq  内容  経路  (遅延: 発生から %d 秒を超えて受信)" % (
        "発生".ljust(STAMP_W - 2), "受信".ljust(STAMP_W - 2), late_s)
    return [head] + [describe(r, late_s) for r in rows]

