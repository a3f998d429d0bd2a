# Supervision (issue 4): ライフ監視, the 36-hour communication check, 断線監視, power, stuck
# sensors, セット忘れ点検, the monthly self-check, the sample secrets, and what survives a reboot.
# (Tamper is a zone type, tested with the alarm core in test_arming.py.)
# Virtual time: every call gets a ticks_ms value; many tests start just below the 2**30 wrap.
RUNS_ON_MICROPYTHON = True

import sys

from check import raises
from mimamori.compat import ticks_add
from mimamori.core import events as ev
from mimamori.core.supervision import Supervisor, avoid_path, SELF_CHECK_STEPS
from mimamori.store.config import ConfigError, default_timers, validate_config

try:
    from micropython import heap_lock, heap_unlock
except ImportError:     # CPython: no heap to lock
    def heap_lock():
        pass

    def heap_unlock():
        pass

S = 1000
MIN = 60 * S
H = 60 * MIN
DAY = 24 * H
WRAP = 1 << 30
NEAR_WRAP = WRAP - 5000
ON_MICROPYTHON = sys.implementation.name == "micropython"
# The Supervisor reads validated config only: a house with the line and battery sensed, at the
# validator's default thresholds (3 V line cut, battery low 11.5 V / ok 12.2 V).
SUPERVISION = {"line_voltage": {"gpio": 36, "cut_below_mv": 3000},
               "battery": {"gpio": 39, "low_mv": 11500, "ok_mv": 12200}, "ac_sense_gpio": None}


class Rig:
    """A supervisor with a virtual clock and transports that answer its test reports."""

    def __init__(self, start=NEAR_WRAP, paths=("mqtt", "line"), timers=None, mode="disarmed",
                 supervision=None):
        self.t = start
        self.events = []
        self.sent = []          # (path, Event) handed to send_test
        self.pending = []
        self.up = {}            # path -> delivers?
        for p in paths:
            self.up[p] = True
        self.timers = default_timers(**(timers or {}))
        self.sup = Supervisor(self.timers, paths, self.events.append, self._send_test, start,
                              SUPERVISION if supervision is None else supervision, mode)

    def _send_test(self, path, event):
        self.sent.append((path, event))
        self.pending.append(path)

    def answer(self):
        while self.pending:
            path = self.pending.pop(0)
            self.sup.test_result(path, self.up[path], self.t)

    def run(self, ms, step=S):
        """Tick every `step` ms for `ms` ms; test reports are answered one step after sending."""
        while ms > 0:
            d = step if step < ms else ms
            ms -= d
            self.t = ticks_add(self.t, d)
            self.sup.tick(self.t)
            self.answer()

    def of(self, cid, kind=None):
        return [e for e in self.events if e.cid == cid and (kind is None or e.kind == kind)]

    def tests(self, path, cid=ev.CID_PERIODIC_TEST):
        return [e for p, e in self.sent if p == path and e.cid == cid]


# ---- ライフ監視 --------------------------------------------------------------------------------

def test_life_alarm_exactly_at_twelve_hours_and_only_once():
    r = Rig()
    r.sup.activity(r.t)
    r.run(12 * H - S, step=MIN)
    assert r.of(ev.CID_LIFE) == []
    r.run(S)
    life = r.of(ev.CID_LIFE)
    assert len(life) == 1
    assert life[0].kind == ev.ALARM and life[0].qualifier == ev.Q_NEW
    assert life[0].service == "H" and life[0].urgent
    r.run(3 * DAY, step=10 * MIN)     # nothing changes: no repeat
    assert len(r.of(ev.CID_LIFE)) == 1
    assert any(c == ev.CID_LIFE for c, _z, _t in r.sup.troubles())


def test_life_restore_on_next_activity_then_timer_restarts():
    r = Rig()
    r.run(12 * H, step=MIN)
    assert len(r.of(ev.CID_LIFE, ev.ALARM)) == 1
    r.run(2 * H, step=MIN)
    r.sup.activity(r.t)
    restores = r.of(ev.CID_LIFE, ev.RESTORE)
    assert len(restores) == 1 and restores[0].qualifier == ev.Q_RESTORE
    assert restores[0].label == "ライフ監視 復旧"
    r.sup.activity(ticks_add(r.t, 5))     # a second activity: no second restore
    assert len(r.of(ev.CID_LIFE, ev.RESTORE)) == 1
    r.run(12 * H - 10 * S, step=MIN)
    assert len(r.of(ev.CID_LIFE, ev.ALARM)) == 1
    r.run(20 * S)
    assert len(r.of(ev.CID_LIFE, ev.ALARM)) == 2


def test_life_activity_restarts_the_timer():
    r = Rig()
    for _ in range(5):
        r.run(11 * H, step=MIN)
        r.sup.activity(r.t)
    assert r.of(ev.CID_LIFE) == []


def test_life_suspended_while_away_restarted_on_disarm():
    r = Rig()
    r.run(6 * H, step=MIN)
    r.sup.set_mode("away", r.t)
    r.run(3 * DAY, step=10 * MIN)      # a holiday: nobody moves, nothing is reported
    assert r.of(ev.CID_LIFE) == []
    r.sup.set_mode("disarmed", r.t)
    r.run(12 * H - S, step=MIN)        # the disarm restarted the full 12 hours
    assert r.of(ev.CID_LIFE) == []
    r.run(S)
    assert len(r.of(ev.CID_LIFE, ev.ALARM)) == 1


def test_life_runs_while_armed_stay_and_hours_come_from_config():
    r = Rig(timers={"life_monitor_h": 24}, mode="stay")
    r.run(24 * H - S, step=MIN)
    assert r.of(ev.CID_LIFE) == []
    r.run(S)
    alarms = r.of(ev.CID_LIFE, ev.ALARM)
    assert len(alarms) == 1 and alarms[0].mode == "stay"


# ---- communication check ----------------------------------------------------------------------

def test_first_test_after_boot_then_within_every_36_hours_on_each_path():
    r = Rig(start=0)
    r.run(10 * MIN - S)
    assert r.sent == []
    r.run(S)
    assert [p for p, _e in r.sent] == ["mqtt", "line"]
    e = r.tests("mqtt")[0]
    assert e.kind == ev.TEST and e.zone_name == "mqtt" and e.zone == 0   # a path, not zone 1
    assert r.tests("line")[0].zone == 0 and r.tests("line")[0].zone_name == "line"
    # The next one leaves 10 minutes before the 36 hours are up, so that it is acknowledged
    # inside the window the centre supervises even if the transport needs its whole deadline.
    r.run(36 * H - 10 * MIN - 2 * S, step=MIN)
    assert len(r.tests("mqtt")) == 1 and len(r.tests("line")) == 1
    r.run(5 * S)
    assert len(r.tests("mqtt")) == 2 and len(r.tests("line")) == 2
    for _ in range(10):                        # and so on, never more than 36 h apart
        r.run(36 * H, step=10 * MIN)
    assert len(r.tests("mqtt")) == 12
    assert [e for e in r.events if e.cid != ev.CID_LIFE] == []


def test_any_delivered_report_restarts_that_paths_timer():
    r = Rig()
    r.run(10 * MIN + S)                # boot tests went out and were delivered
    r.run(30 * H, step=MIN)
    r.sup.report_delivered("mqtt", r.t)   # e.g. an opening report
    r.run(10 * H, step=MIN)
    assert len(r.tests("mqtt")) == 1   # 40 h after the boot test, but 10 h after a delivery
    assert len(r.tests("line")) == 2
    r.run(26 * H, step=MIN)
    assert len(r.tests("mqtt")) == 2


def test_comm_check_never_longer_than_36_hours():
    # seed 5.: the validator refuses a longer period, so the supervisor never sees one ...
    raised = False
    try:
        validate_config({"version": 1, "site_id": "s", "zones": [],
                         "timers": {"comm_check_h": 72}}, {"board": "esp32"})
    except ConfigError as e:
        raised = "timers.comm_check_h" in str(e)
    assert raised
    # ... and at the longest it allows, a test goes out every 36 hours.
    r = Rig(timers={"comm_check_h": 36})
    r.run(10 * MIN + 36 * H, step=MIN)
    assert len(r.tests("mqtt")) == 2


def test_mqtt_unreachable_for_40_hours():
    r = Rig()
    r.up["mqtt"] = False
    r.run(10 * MIN + 2 * S)
    troubles = r.of(ev.CID_COMM_TROUBLE, ev.TROUBLE)
    assert len(troubles) == 1                    # at the first failed test
    t = troubles[0]
    assert avoid_path(t) == "mqtt"               # the app sends it on the line
    assert t.zone == 0 and t.zone_name == "mqtt" and not t.urgent
    assert any(c == ev.CID_COMM_TROUBLE for c, _z, _x in r.sup.troubles())
    r.run(40 * H - 10 * MIN, step=MIN)
    assert len(r.of(ev.CID_COMM_TROUBLE, ev.TROUBLE)) == 1   # never repeated
    fails = r.of(ev.CID_FAIL_TO_COMM, ev.TROUBLE)
    assert len(fails) == 1 and avoid_path(fails[0]) == "mqtt"   # 36 h without a delivery
    attempts = len(r.tests("mqtt"))
    assert 5 < attempts <= 45, attempts          # retried on a backoff, not every tick
    assert r.of(ev.CID_TELCO_FAULT) == []        # the line is fine
    r.up["mqtt"] = True
    r.run(61 * MIN, step=MIN)                    # the next retry (at most an hour) gets through
    assert len(r.of(ev.CID_COMM_TROUBLE, ev.RESTORE)) == 1
    assert len(r.of(ev.CID_FAIL_TO_COMM, ev.RESTORE)) == 1
    assert avoid_path(r.of(ev.CID_COMM_TROUBLE, ev.RESTORE)[0]) is None
    assert [c for c, _z, _x in r.sup.troubles() if c != ev.CID_LIFE] == []
    before = len(r.tests("mqtt"))
    r.run(35 * H, step=10 * MIN)                 # back to the 36-hour rhythm
    assert len(r.tests("mqtt")) == before


def test_a_transport_may_answer_from_inside_send_test():
    # The MQTT link is down: the app knows at once and answers before send_test returns.
    events = []
    sent = []
    box = []

    def send_test(path, event):
        sent.append(path)
        box[0].test_result(path, path != "mqtt", event.ticks)

    sup = Supervisor(default_timers(), ("mqtt", "line"), events.append, send_test, NEAR_WRAP)
    box.append(sup)
    t = NEAR_WRAP
    for _ in range(3 * 60):
        t = ticks_add(t, MIN)
        sup.tick(t)
    assert [(e.cid, e.kind) for e in events] == [(ev.CID_COMM_TROUBLE, ev.TROUBLE)]
    assert sent.count("line") == 1 and 3 <= sent.count("mqtt") <= 6


def test_a_delivered_report_ends_a_path_trouble():
    r = Rig()
    r.up["mqtt"] = False
    r.run(10 * MIN + 2 * S)
    assert len(r.of(ev.CID_COMM_TROUBLE, ev.TROUBLE)) == 1
    r.sup.report_delivered("mqtt", r.t)
    assert len(r.of(ev.CID_COMM_TROUBLE, ev.RESTORE)) == 1


def test_a_path_that_is_not_configured_is_refused():
    r = Rig()
    with raises(ValueError, "unknown path"):
        r.sup.test_result("carrier-pigeon", True, r.t)
    with raises(ValueError, "unknown path"):
        r.sup.report_delivered("carrier-pigeon", r.t)


def test_line_test_failure_is_351_to_be_sent_over_mqtt():
    r = Rig()
    r.up["line"] = False
    r.run(10 * MIN + 2 * S)
    faults = r.of(ev.CID_TELCO_FAULT, ev.TROUBLE)
    assert len(faults) == 1 and avoid_path(faults[0]) == "line" and faults[0].zone == 0
    assert r.of(ev.CID_COMM_TROUBLE) == []
    r.up["line"] = True
    r.run(H, step=MIN)
    assert len(r.of(ev.CID_TELCO_FAULT, ev.RESTORE)) == 1


# ---- 断線監視 ----------------------------------------------------------------------------------

def line_feed(r, mv, seconds):
    for _ in range(seconds):
        r.t = ticks_add(r.t, S)
        r.sup.line_voltage(mv, r.t)
        r.sup.tick(r.t)


def test_line_glitch_of_one_second_is_not_a_cut():
    r = Rig()
    line_feed(r, 48000, 5)
    for _ in range(20):
        line_feed(r, 0, 1)
        line_feed(r, 48000, 5)
    assert r.of(ev.CID_TELCO_FAULT) == []


def test_line_cut_reported_and_restored():
    r = Rig()
    line_feed(r, 48000, 5)
    line_feed(r, 0, 10)
    assert r.of(ev.CID_TELCO_FAULT) == []      # not yet longer than 10 s
    line_feed(r, 0, 1)
    cut = r.of(ev.CID_TELCO_FAULT, ev.TROUBLE)
    assert len(cut) == 1 and avoid_path(cut[0]) == "line" and cut[0].service == "F"
    texts = [x for c, _z, x in r.sup.troubles() if c == ev.CID_TELCO_FAULT]
    assert texts and "断線" in texts[0]
    line_feed(r, 0, 600)
    assert len(r.of(ev.CID_TELCO_FAULT)) == 1
    line_feed(r, 9000, 3)                      # off-hook voltage: a call, not a cut
    line_feed(r, 0, 3)
    line_feed(r, 48000, 10)
    assert r.of(ev.CID_TELCO_FAULT, ev.RESTORE) == []
    line_feed(r, 48000, 1)
    assert len(r.of(ev.CID_TELCO_FAULT, ev.RESTORE)) == 1


def test_line_cut_and_failed_line_test_are_one_condition():
    r = Rig()
    line_feed(r, 0, 11)
    assert len(r.of(ev.CID_TELCO_FAULT, ev.TROUBLE)) == 1
    r.up["line"] = False
    r.run(10 * MIN, step=S)                    # the boot test on the cut line fails too
    assert len(r.of(ev.CID_TELCO_FAULT, ev.TROUBLE)) == 1
    line_feed(r, 48000, 11)                    # voltage back, but the last test failed
    assert r.of(ev.CID_TELCO_FAULT, ev.RESTORE) == []
    r.up["line"] = True
    r.run(H, step=MIN)
    assert len(r.of(ev.CID_TELCO_FAULT, ev.RESTORE)) == 1


# ---- power ------------------------------------------------------------------------------------

def test_battery_hysteresis_does_not_flap():
    r = Rig()
    for i in range(3 * 60):                    # three hours, one sample a minute
        mv = 11480 if i % 2 else 11520         # wandering around battery_low_mv
        for _ in range(60):
            r.t = ticks_add(r.t, S)
            r.sup.battery(mv, r.t)
            r.sup.tick(r.t)
    low = r.of(ev.CID_LOW_BATTERY)
    assert len(low) == 1 and low[0].kind == ev.TROUBLE and not low[0].urgent
    for _ in range(300):                       # between the thresholds: still low
        r.t = ticks_add(r.t, S)
        r.sup.battery(12000, r.t)
    assert len(r.of(ev.CID_LOW_BATTERY)) == 1
    for _ in range(61):                        # charged above battery_ok_mv for a minute
        r.t = ticks_add(r.t, S)
        r.sup.battery(12600, r.t)
    assert len(r.of(ev.CID_LOW_BATTERY, ev.RESTORE)) == 1


def test_thresholds_come_from_the_supervision_config():
    cfg = {"line_voltage": {"gpio": 36, "cut_below_mv": 20000},
           "battery": {"gpio": 39, "low_mv": 3400, "ok_mv": 3700}, "ac_sense_gpio": None}
    r = Rig(paths=("mqtt", "landline"), supervision=cfg)
    line_feed(r, 15000, 11)                    # above the default 3 V, below this installer's
    cut = r.of(ev.CID_TELCO_FAULT, ev.TROUBLE)
    assert len(cut) == 1 and avoid_path(cut[0]) == "landline" and cut[0].zone == 0
    for mv in (3600, 3300):                    # a 1-cell lithium battery
        for _ in range(61):
            r.t = ticks_add(r.t, S)
            r.sup.battery(mv, r.t)
    assert [e.kind for e in r.of(ev.CID_LOW_BATTERY)] == [ev.TROUBLE]


def test_battery_sag_under_siren_load_is_not_low():
    r = Rig()
    for _ in range(30):
        r.t = ticks_add(r.t, S)
        r.sup.battery(11000, r.t)
    for _ in range(120):
        r.t = ticks_add(r.t, S)
        r.sup.battery(12800, r.t)
    assert r.of(ev.CID_LOW_BATTERY) == []


def test_ac_loss_after_debounce_flicker_ignored():
    r = Rig()
    for _ in range(10):                        # flickers of 5 s
        for present, secs in ((False, 5), (True, 30)):
            for _ in range(secs):
                r.t = ticks_add(r.t, S)
                r.sup.ac_power(present, r.t)
    assert r.of(ev.CID_AC_LOSS) == []
    r.sup.ac_power(False, r.t)
    r.run(60 * S - 1)
    assert r.of(ev.CID_AC_LOSS) == []
    r.run(1)
    loss = r.of(ev.CID_AC_LOSS)
    assert len(loss) == 1 and loss[0].kind == ev.TROUBLE and loss[0].label == "停電"
    assert not loss[0].urgent
    r.run(2 * H, step=MIN)
    r.sup.ac_power(True, r.t)
    r.run(10 * S)
    assert len(r.of(ev.CID_AC_LOSS, ev.RESTORE)) == 1


# ---- stuck-open sensors -----------------------------------------------------------------------

def test_zone_left_open_while_disarmed_is_a_sensor_trouble():
    r = Rig()
    r.sup.zone_fault(3, "浴室窓", True, r.t)
    r.sup.zone_fault(4, "玄関", True, r.t)
    r.run(2 * MIN)
    r.sup.zone_fault(4, "玄関", False, r.t)   # closed again: fine
    r.run(24 * H - 2 * MIN - S, step=MIN)
    assert r.of(ev.CID_SENSOR_TROUBLE) == []
    r.run(S)
    st = r.of(ev.CID_SENSOR_TROUBLE, ev.TROUBLE)
    assert len(st) == 1 and st[0].zone == 3 and st[0].zone_name == "浴室窓"
    assert "浴室窓" in [x for c, _z, x in r.sup.troubles() if c == ev.CID_SENSOR_TROUBLE][0]
    r.run(DAY, step=10 * MIN)
    assert len(r.of(ev.CID_SENSOR_TROUBLE)) == 1
    r.sup.zone_fault(3, "浴室窓", False, r.t)
    rs = r.of(ev.CID_SENSOR_TROUBLE, ev.RESTORE)
    assert len(rs) == 1 and rs[0].zone == 3


def test_zone_open_time_counts_only_while_disarmed():
    r = Rig()
    r.sup.zone_fault(5, "勝手口", True, r.t)
    r.run(20 * H, step=MIN)
    r.sup.set_mode("stay", r.t)               # armed with the zone open (bypassed)
    r.run(2 * DAY, step=10 * MIN)
    assert r.of(ev.CID_SENSOR_TROUBLE) == []
    r.sup.set_mode("disarmed", r.t)
    r.run(24 * H - S, step=MIN)
    assert r.of(ev.CID_SENSOR_TROUBLE) == []
    r.run(S)
    assert len(r.of(ev.CID_SENSOR_TROUBLE, ev.TROUBLE)) == 1


def test_stuck_zone_after_a_week_when_configured_beyond_the_ticks_range():
    r = Rig(timers={"fault_trouble_h": 168})
    r.sup.zone_fault(9, "物置", True, r.t)
    r.run(168 * H - S, step=10 * MIN)          # 7 days: more than a ticks_diff can span
    assert r.of(ev.CID_SENSOR_TROUBLE) == []
    r.run(S)
    assert len(r.of(ev.CID_SENSOR_TROUBLE, ev.TROUBLE)) == 1


# ---- セット忘れ点検 -----------------------------------------------------------------------------

def test_forgot_to_arm_reminds_and_notifies_the_centre():
    r = Rig()
    r.sup.set_departure(2 * 3600, r.t)        # leaving in two hours (15 min grace)
    r.run(2 * H + 15 * MIN - S)
    assert not r.sup.reminding and r.of(ev.CID_FAIL_TO_CLOSE) == []
    r.run(S)
    assert r.sup.reminding
    ftc = r.of(ev.CID_FAIL_TO_CLOSE)
    assert len(ftc) == 1 and ftc[0].kind == ev.TROUBLE and ftc[0].label == "セット忘れ"
    assert any(c == ev.CID_FAIL_TO_CLOSE for c, _z, _x in r.sup.troubles())
    r.run(2 * H, step=MIN)
    assert len(r.of(ev.CID_FAIL_TO_CLOSE)) == 1   # one-shot
    r.sup.set_mode("away", r.t)
    assert not r.sup.reminding
    r.sup.set_mode("disarmed", r.t)
    r.run(DAY, step=10 * MIN)
    assert not r.sup.reminding and len(r.of(ev.CID_FAIL_TO_CLOSE)) == 1


def test_no_reminder_when_armed_away_in_time():
    r = Rig()
    r.sup.set_departure(3 * DAY, r.t)          # a trip announced days ahead (beyond ticks range)
    r.run(3 * DAY + 10 * MIN, step=MIN)
    r.sup.set_mode("away", r.t)                # 10 minutes late, within the grace
    r.run(2 * H, step=MIN)
    assert not r.sup.reminding and r.of(ev.CID_FAIL_TO_CLOSE) == []


def test_stay_arming_does_not_count_and_a_departure_can_be_cancelled():
    r = Rig()
    r.sup.set_departure(0, r.t)
    r.sup.set_mode("stay", r.t)
    r.run(16 * MIN)
    assert r.sup.reminding
    r.sup.clear_departure(r.t)
    assert not r.sup.reminding


# ---- monthly self-check -----------------------------------------------------------------------

def test_monthly_prompt_after_30_days_across_wraps_and_a_reboot():
    r = Rig()
    r.run(10 * MIN + S)
    r.run(17 * DAY, step=MIN)                  # one wrap of the ticks already
    assert not r.sup.self_check_due
    saved = r.sup.snapshot()
    # Reboot: ticks restart anywhere; a new supervisor picks up the snapshot.
    r2 = Rig(start=WRAP - 77777)
    r2.sup.restore(saved, r2.t)
    r2.run(13 * DAY - H, step=MIN)             # 30 days minus the hour a reboot may lose
    assert not r2.sup.self_check_due and r2.sup.notices() == []
    r2.run(2 * H, step=MIN)
    assert r2.sup.self_check_due
    assert r2.sup.notices() == ["月1回の点検の時期です(点検を開始してください)"]


def test_self_check_tests_every_path_sounds_outputs_and_rearms_the_prompt():
    r = Rig(start=0)
    r.run(30 * DAY + H, step=10 * MIN)
    assert r.sup.self_check_due
    r.up["line"] = False
    r.sup.start_self_check(r.t)
    assert r.sup.self_check_running
    seen = []
    for _ in range(200):
        r.run(100)
        out = r.sup.self_check_output
        if out is not None and (not seen or seen[-1] != out):
            seen.append(out)
    assert tuple(seen) == SELF_CHECK_STEPS
    assert r.tests("mqtt", ev.CID_MANUAL_TEST) and r.tests("line", ev.CID_MANUAL_TEST)
    assert not r.sup.self_check_running and not r.sup.self_check_due
    assert r.sup.self_check_results() == [("mqtt", True), ("line", False)]
    assert r.sup.notices() == ["点検結果 mqtt:正常 line:異常"]
    r.sup.activity(r.t)                        # the resident has read it
    assert r.sup.notices() == []
    assert len(r.of(ev.CID_TELCO_FAULT, ev.TROUBLE)) == 1    # the failed path is a trouble
    r.run(30 * DAY - 2 * H, step=10 * MIN)
    assert not r.sup.self_check_due
    r.run(3 * H, step=10 * MIN)
    assert r.sup.self_check_due


# ---- persistence and the steady-state loop -----------------------------------------------------

def test_reboot_keeps_reported_troubles_and_sends_restores_after():
    r = Rig()
    r.sup.sample_secrets(True, r.t)
    r.sup.ac_power(False, r.t)
    r.run(61 * S)
    r.up["mqtt"] = False
    r.run(10 * MIN, step=S)
    assert len(r.events) == 3
    saved = r.sup.snapshot()
    r2 = Rig(start=123)
    r2.sup.restore(saved, r2.t)
    codes = sorted(c for c, _z, _x in r2.sup.troubles())
    assert codes == [ev.CID_SYSTEM_TROUBLE, ev.CID_AC_LOSS, ev.CID_COMM_TROUBLE]
    r2.sup.sample_secrets(True, r2.t)          # still the samples at boot: no duplicate
    r2.sup.ac_power(True, r2.t)                # mains came back while we were off
    r2.run(11 * MIN, step=S)                   # first test after boot gets through
    assert [(e.cid, e.kind) for e in r2.events] == [(ev.CID_AC_LOSS, ev.RESTORE),
                                                     (ev.CID_COMM_TROUBLE, ev.RESTORE)]


def test_a_damaged_snapshot_is_ignored_not_fatal():
    r = Rig()
    good = r.sup.snapshot()
    for bad in ({}, {"v": 2}, {"v": 1, "hour": "x"}, {"v": 1, "hour": 3}, "junk"):
        r2 = Rig()
        assert r2.sup.restore(bad, r2.t) is False
        assert r2.sup.snapshot() == good
    r3 = Rig()
    assert r3.sup.restore(good, r3.t) is True


# A state file written by the firmware before the supervisor was split into watchers (issue
# 11.4), with the keys of the tamper inputs that moved to the zones (`case`, `tamper`).
SAVED_BEFORE_WATCHERS = {
    "v": 1, "hour": 30, "life_h": 0, "life_alarm": True, "check_h": 0, "dep_s": -1,
    "reminding": True, "case": False, "sample": True, "ac": True, "battery": False,
    "line_cut": False, "paths": {"mqtt": [True, False], "line": [False, False]}, "tamper": [],
    "zones": [[3, "浴室窓", 0, True]],
}


def test_a_state_saved_by_the_previous_firmware_still_restores():
    r = Rig(start=77)
    assert r.sup.restore(SAVED_BEFORE_WATCHERS, r.t) is True
    # the same panel lines, in the same order, as before the reboot (the display shows the first)
    assert r.sup.troubles() == [
        (ev.CID_SYSTEM_TROUBLE, 0, "初期設定の鍵・暗証番号のままです(変更してください)"),
        (ev.CID_LIFE, 0, "ライフ監視 異常(12時間 動きがありません)"),
        (ev.CID_AC_LOSS, 0, "停電中(バッテリーで動作中)"),
        (ev.CID_COMM_TROUBLE, 0, "通信異常(mqtt): 試験通報が届きません"),
        (ev.CID_SENSOR_TROUBLE, 3, "センサー故障 ゾーン3 浴室窓(24時間以上 開いたまま)"),
        (ev.CID_FAIL_TO_CLOSE, 0, "セット忘れ: 外出セットしてください"),
    ]
    assert r.sup.reminding
    # nothing is reported again at boot; each ends with its restore
    r.sup.sample_secrets(True, r.t)
    r.sup.zone_fault(3, "浴室窓", True, r.t)
    r.sup.ac_power(True, r.t)
    r.run(11 * MIN, step=S)
    r.sup.activity(r.t)
    r.sup.zone_fault(3, "浴室窓", False, r.t)
    assert sorted((e.cid, e.kind) for e in r.events) == [
        (ev.CID_AC_LOSS, ev.RESTORE), (ev.CID_COMM_TROUBLE, ev.RESTORE),
        (ev.CID_SENSOR_TROUBLE, ev.RESTORE), (ev.CID_LIFE, ev.RESTORE)]
    assert [c for c, _z, _x in r.sup.troubles()] == [ev.CID_SYSTEM_TROUBLE, ev.CID_FAIL_TO_CLOSE]


def test_life_timer_survives_a_reboot_never_early():
    r = Rig()
    r.sup.activity(r.t)
    r.run(8 * H, step=MIN)
    saved = r.sup.snapshot()
    r2 = Rig(start=42)
    r2.sup.restore(saved, r2.t)
    r2.run(3 * H, step=MIN)                    # 11 h since the activity
    assert r2.of(ev.CID_LIFE) == []
    r2.run(2 * H, step=MIN)                    # by 13 h (at most an hour late)
    assert len(r2.of(ev.CID_LIFE, ev.ALARM)) == 1


def test_tick_allocates_nothing_in_steady_state():
    r = Rig()
    r.sup.zone_fault(2, "窓", True, r.t)
    r.sup.set_departure(5 * 86400, r.t)
    r.run(10 * MIN + S)                        # boot tests done
    if ON_MICROPYTHON:                         # the check itself must be able to fail
        expect = raises(MemoryError)
        heap_lock()
        try:
            with expect:
                bytearray(16)
        finally:
            heap_unlock()
    sup = r.sup
    t = r.t
    heap_lock()
    try:
        for _ in range(5000):                  # crosses the ticks wrap and an hour boundary
            t = ticks_add(t, 997)
            sup.tick(t)
    finally:
        heap_unlock()
    assert r.events == []


def test_tick_allocates_nothing_while_troubles_stand():
    # Every watcher with something to show: its tick still only compares numbers.
    r = Rig()
    r.sup.zone_fault(2, "窓", True, r.t)
    r.sup.set_departure(0, r.t)
    r.sup.ac_power(False, r.t)
    r.sup.sample_secrets(True, r.t)
    for _ in range(70):
        r.t = ticks_add(r.t, S)
        r.sup.line_voltage(0, r.t)
        r.sup.battery(10000, r.t)
    r.run(25 * H, step=MIN)                    # life, stuck zone, reminder: all raised
    codes = [c for c, _z, _x in r.sup.troubles()]
    assert codes == [ev.CID_SYSTEM_TROUBLE, ev.CID_LIFE, ev.CID_AC_LOSS, ev.CID_LOW_BATTERY,
                     ev.CID_TELCO_FAULT, ev.CID_SENSOR_TROUBLE, ev.CID_FAIL_TO_CLOSE], codes
    n = len(r.events)
    sup = r.sup
    t = r.t
    rev = sup.revision
    heap_lock()
    try:
        for _ in range(5000):                  # crosses an hour boundary (a revision bump)
            t = ticks_add(t, 997)
            sup.tick(t)
        moved = sup.revision != rev
    finally:
        heap_unlock()
    assert moved and len(r.events) == n


def test_an_idle_day_changes_the_snapshot_rarely():
    r = Rig()
    r.sup.zone_fault(1, "玄関", False, r.t)
    last = r.sup.snapshot()
    rev = r.sup.revision
    writes = 0
    for _ in range(24 * 60):                   # tick once a second, look once a minute
        r.run(MIN, step=S)
        snap = r.sup.snapshot()
        if r.sup.revision != rev:
            writes += 1
            rev = r.sup.revision
        else:
            assert snap == last                # no change without a revision bump
        last = snap
    assert 20 <= writes <= 50, writes


def test_panel_texts_are_japanese():
    r = Rig()
    r.sup.ac_power(False, r.t)
    r.run(12 * H, step=10 * MIN)
    texts = [x for _c, _z, x in r.sup.troubles()]
    assert "停電中(バッテリーで動作中)" in texts
    assert "ライフ監視 異常(12時間 動きがありません)" in texts
