"""Scripted runs of the virtual house: `make sim SCENARIO=<name>`.

A scenario is a small function registered with @scenario: it drives the site (sensors, the
resident's operations, time) and may check what the resident sees on the panel. Its decorator
says which reports the centre must have stored at the end (in that order, among others) and which
it must not have. The runner prints a timeline as it happens, waits for the centre, prints what
the centre's database holds, and returns 0 only if every expectation and check held.

Scenarios run on the virtual clock: minutes of board time cost nothing and hours are skipped;
real time passes only while the runner waits for the broker and the centre.
"""
import time

from simlib.centre import KIND_JA
from simlib.site import Site
from simlib.text import clock, fit

SCENARIOS = {}
CONNECT_S = 10      # real seconds for the controller and the centre to reach the broker
SETTLE_S = 20       # real seconds for every report to reach the centre at the end
HOUR = 3600000


class Want:
    """A report pattern: kind, label, zone name; None matches anything."""

    def __init__(self, kind=None, label=None, zone_name=None):
        self.kind, self.label, self.zone_name = kind, label, zone_name

    def matches(self, r):
        return all(w is None or w == r[k] for w, k in ((self.kind, "kind"), (self.label, "label"),
                                                          (self.zone_name, "zone_name")))

    def __str__(self):
        return " ".join(x for x in (KIND_JA.get(self.kind, self.kind), self.label,
                                    self.zone_name) if x) or "any report"


class Scenario:
    def __init__(self, name, title, fn, expect, forbid, landline=False):
        self.name, self.title, self.fn = name, title, fn
        self.landline = landline        # the house has the fixed line as its second path
        self.expect, self.forbid = list(expect), list(forbid)

    def missing(self, reports):
        """Expected reports not found, matching in order (an alarm after the arming)."""
        i = 0
        for n, want in enumerate(self.expect):
            while i < len(reports) and not want.matches(reports[i]):
                i += 1
            if i == len(reports):
                return self.expect[n:]
            i += 1
        return []

    def verify(self, reports):
        problems = ["the centre did not receive: %s" % w for w in self.missing(reports)]
        for want in self.forbid:
            for r in reports:
                if want.matches(r):
                    problems.append("the centre must not receive %s, got seq %d %s %s" % (
                        want, r["seq"], r["label"], r["zone_name"] or ""))
        return problems


def scenario(name, title, expect=(), forbid=(), landline=False):
    def register(fn):
        SCENARIOS[name] = Scenario(name, title, fn, expect, forbid, landline)
        return fn
    return register


# ---- the scenarios ---------------------------------------------------------------------------

@scenario("intrusion", "外出セット中にリビング窓が開く: 侵入(外周) の異常がセンターへ",
          expect=[Want("closing", "外出セット/解除"), Want("alarm", "侵入(外周)", "リビング窓")])
def intrusion(s, check):
    check(s.operate("arm", mode="away") == "セットしました", "the panel accepts 外出セット")
    s.run(61 * 1000)                      # the 60 s exit delay runs out
    check(not s.app.rendered.arming, "exit delay over: the 外出 LED stops blinking")
    s.actuate(s.zone_id("リビング窓"))
    s.run(1000)
    r = s.app.rendered
    check(r.siren and r.flash and r.buzzer == "alarm", "siren, flash light and alarm buzzer on")
    check("リビング窓" in s.app.display(s.board.now()), "the display names リビング窓")


@scenario("fire", "解除中に台所の熱感知器が作動: 火災(熱) の異常がセンターへ",
          expect=[Want("alarm", "火災(熱)", "台所 熱感知器"), Want("cancel", "キャンセル")])
def fire(s, check):
    check(s.app.core.mode == "disarmed", "the house is disarmed (在宅)")
    heat = s.zone_id("台所 熱感知器")
    s.actuate(heat)
    s.run(2000)                           # past the detector's 500 ms debounce
    r = s.app.rendered
    check(r.siren and r.buzzer == "fire", "siren on, buzzer in the fire pattern (temporal-3)")
    s.operate("disarm")                   # the resident silences it: 406 tells the centre
    s.run(1000)
    check(not s.app.rendered.siren and s.app.rendered.alarm_memory,
          "silenced by the resident; the alarm memory stays")
    s.actuate(heat)                       # the heat is gone
    s.run(2000)


@scenario("cancel", "在宅セット中に窓を開けてしまい、キャンセル時間内にキャンセル: 異常は送られない",
          expect=[Want("closing", "在宅セット")], forbid=[Want("alarm")])
def cancel(s, check):
    window = s.zone_id("リビング窓")
    check(s.operate("arm", mode="stay") == "セットしました", "the panel accepts 在宅セット")
    s.run(1000)
    s.actuate(window)                     # opened by mistake
    s.run(5000)
    check(s.app.display(s.board.now()).startswith("キャンセルしてください") and
          s.app.rendered.buzzer == "entry", "the panel asks for a cancel, fast beeps")
    s.actuate(s.zone_id("キャンセルボタン"))
    s.run(31 * 1000)                      # well past the 30 s cancel window
    check(not s.app.rendered.siren and s.app.rendered.buzzer == "off",
          "cancelled: no siren, buzzer quiet")
    s.actuate(window)                     # closed again
    s.run(1000)


def quiet_hour(s):
    """An hour in which nothing happens, then real time for the network: a gap this long drops
    the MQTT session (no keepalive was sent), and the reconnect and any due report (the
    periodic test) go through before the next hour, as on a healthy site."""
    s.skip(HOUR)
    s.settle(lambda: s.ready() and s.app.journal.pending_count() == 0, SETTLE_S)


@scenario("life", "解除のまま 12 時間 だれも動かない: ライフ監視 の異常がセンターへ",
          expect=[Want("alarm", "ライフ監視")], forbid=[Want("trouble")])
def life(s, check):
    for _ in range(11):
        quiet_hour(s)
    check("ライフ監視" not in s.app.display(s.board.now()), "no ライフ監視 after 11 h")
    quiet_hour(s)
    check("ライフ監視" in s.app.display(s.board.now()) and s.app.rendered.trouble,
          "after 12 h the display shows ライフ監視, trouble LED on")


@scenario("outage", "ブローカー停止中に非常ボタン: 通報は本体で待ち、復旧後にセンターへ届く",
          expect=[Want("alarm", "非常", "非常ボタン")])
def outage(s, check):
    s.set_path("mqtt", False)
    s.actuate(s.zone_id("非常ボタン"))
    s.settle(timeout_s=1.5)               # real time: nothing can get through
    waiting = s.app.journal.pending_count()
    check(waiting > 0 and not [r for r in s.reports() if r["kind"] == "alarm"],
          "the 非常 report waits in the controller's journal (%d pending), the centre has "
          "nothing" % waiting)
    back = time.time()
    s.set_path("mqtt", True)
    s.settle(lambda: any(r["kind"] == "alarm" for r in s.reports()), SETTLE_S)
    late = [r for r in s.reports() if r["kind"] == "alarm" and r["received"] < back]
    check(not late, "every alarm reached the centre after the broker was back")


def run_until(s, cond, ms):
    """Board time passes (virtual clock: no real time) until cond() or ms are over."""
    for _ in range(ms // 10):
        s.step()
        if cond():
            return True
    return cond()


@scenario("landline", "ブローカー停止中に非常ボタン: MQTT の期限後に電話回線 (Contact ID) でセンターへ、"
          "MQTT 復旧後に届く同じ通報は一度だけ表示", expect=[Want("alarm", "非常", "非常ボタン")],
          landline=True)
def landline(s, check):
    line = s.path("landline")
    s.set_path("mqtt", False)
    s.actuate(s.zone_id("非常ボタン"))
    s.run(15000)
    check(line.line.calls == [], "within MQTT's 20 s deadline the controller does not dial")

    def by_line():
        return [r for r in s.seen() if r[0] == "1120" and "landline" in r[3]]
    run_until(s, by_line, 120000)
    check(by_line() and by_line()[0][3] == ("landline",) and line.line.calls,
          "the centre received the 非常 by line (spandsp kissed it off) while the broker was "
          "down: called %s" % ", ".join(line.line.calls))
    s.set_path("mqtt", True)
    s.settle(lambda: any(r["kind"] == "alarm" for r in s.reports()), SETTLE_S)
    s.settle(lambda: s.app.journal.pending_count() == 0, SETTLE_S)
    s.drain()
    alarms = [e for e in s.timeline if e[1] == "centre" and e[2].startswith("!!")]
    check(by_line() and by_line()[0][3] == ("mqtt", "landline") and len(alarms) == 1 and
          "経路 電話回線" in alarms[0][2],
          "MQTT's copy arrived later and was paired with the line's: the operator saw the "
          "非常 once, marked with both paths")


# ---- running them ----------------------------------------------------------------------------

def entry_line(entry):
    t, source, text = entry
    return "%s  %s %s" % (clock(t), fit(source, 8), text)


def cid_text(cid):
    """The stored qualifier+code ("1131") as Contact ID writes it: E131 new event / opening,
    R401 restore / closing."""
    cid = str(cid or "")
    if len(cid) == 4 and cid[0] in "13":
        return ("E" if cid[0] == "1" else "R") + cid[1:]
    return cid


def summary(site, reports):
    lines = ["センターが受信した通報 (%s, %d 件):" % (site.site_id, len(reports)),
             "  seq  " + fit("種別", 8) + fit("kind", 9) + "CID  " + fit("ラベル", 22) + "ゾーン"]
    for r in reports:
        lines.append("  %-4d %s%s%-4s %s%s" % (
            r["seq"], fit(KIND_JA.get(r["kind"], r["kind"]), 8), fit(r["kind"], 9),
            cid_text(r["cid"]), fit(r["label"] or "", 22), r["zone_name"] or ""))
    return "\n".join(lines)


def seen_summary(site):
    lines = ["オペレーターの表示 (通報ごとに一行、届いた経路):",
             "  seq  CID  ゾーン/ユーザー  経路"]
    for cid, ccc, seq, paths in site.seen():
        lines.append("  %-4s %-4s %-15s %s" % (seq if seq is not None else "-", cid_text(cid),
                                               ccc, "+".join(paths)))
    return "\n".join(lines)


def run(name, broker=None, out=print):
    """Run one scenario headless; print its timeline and the centre's summary. 0 = as expected."""
    sc = SCENARIOS[name]
    out("scenario %s: %s" % (sc.name, sc.title))
    problems = []

    def check(ok, what):
        site.drain()          # centre lines that arrived so far come first on the timeline
        out(entry_line((site.elapsed_ms(), "check", ("OK  " if ok else "NG  ") + what)))
        if not ok:
            problems.append(what)

    site = Site(clock="virtual", broker=broker, out=lambda e: out(entry_line(e)),
                landline=sc.landline)
    try:
        out("broker: %s" % site.path("mqtt").describe())
        if not site.settle(site.ready, CONNECT_S):
            problems.append("the controller or the centre did not connect to the broker")
        else:
            sc.fn(site, check)
            # Every report the controller decided must be acknowledged by the centre: then the
            # centre's database is the whole story (nothing is still on its way).
            site.settle(lambda: not sc.missing(site.reports()) and
                        site.app.journal.pending_count() == 0, SETTLE_S)
            pending = site.app.journal.pending_count()
            if pending:
                problems.append("%d report(s) still waiting in the controller's journal" % pending)
        reports = site.reports()
        out("")
        out(summary(site, reports))
        if site.landline:
            out("")
            out(seen_summary(site))
        problems += sc.verify(reports)
    finally:
        site.close()
    out("")
    if problems:
        out("FAIL %s:" % name)
        for p in problems:
            out("  - " + p)
        return 1
    out("PASS %s: the centre received what the scenario expects (%s)" % (
        name, "; ".join(str(w) for w in sc.expect)))
    return 0


def listing():
    return "\n".join("%-10s %s" % (sc.name, sc.title) for sc in SCENARIOS.values())
