# Supervision (issue 4): the timers and watched conditions that are not the alarm state machine.
#   ライフ監視 (seed H), the 36-hour communication check per report path (seed 5.), 断線監視 of the
#   landline (seed F), power (AC loss, low battery), tamper, sensors stuck open, セット忘れ点検
#   (seed 6.(7)) and the monthly self-check (seed 6.(6) ①: inspect once a month).
#
# Sans-I/O like the rest of core/: every call takes `now` (ticks_ms), decisions go out as
# events.Event through `emit(event)`, test reports through `send_test(path, event)`.
#
# API (what the app calls)
#   sup = Supervisor(timers, paths, emit, send_test, now, supervision=None, mode="disarmed")
#       timers: the validated config `timers` dict (keys below, defaults in DEFAULTS);
#       paths: configured report paths in priority order, e.g. ("mqtt", "line") ("landline"
#       is accepted as the name of the line path too);
#       supervision: the validated config `supervision` dict (line_voltage.cut_below_mv,
#       battery.low_mv / ok_mv; None or missing parts: the defaults in LEVELS);
#       mode: the arm mode the arming machine restored at boot (so a reboot is not mistaken
#       for an operation).
#       emit(event): every event to journal and report. send_test(path, event): hand this
#       test report (602 / 601) to that path's transport only, then call test_result().
#   sup.restore(saved_dict, now)     right after construction, with the last saved snapshot.
#   sup.tick(now)                    every loop. Allocation-free while nothing happens.
#   sup.activity(now)                any zone state change, panel key, card operation.
#   sup.set_mode(mode, now)          "disarmed" | "away" | "stay" | "partial" (a change is an
#                                    operation: it also counts as activity).
#   sup.zone_fault(zone, name, is_open, now)   every zone's open/closed state (also at boot).
#   sup.case_tamper(is_open, now), sup.sensor_tamper(zone, is_open, now)   (also at boot).
#   sup.line_voltage(mv, now), sup.battery(mv, now), sup.ac_power(present, now)  (io/analog.py)
#   sup.test_result(path, ok, now)   outcome of the test handed to send_test(path, event).
#   sup.report_delivered(path, now)  any report acknowledged end to end on that path.
#   sup.report_failed(path, now)     a report could not be delivered on that path (fell back).
#   sup.set_departure(delay_s, now)  セット忘れ点検: departure `delay_s` seconds from now (the app
#                                    converts the resident's / centre's wall-clock time with the
#                                    RTC); sup.clear_departure(now) cancels it and its reminder.
#   sup.start_self_check(now)        the resident starts the monthly inspection.
#   sup.sample_secrets(in_use, now)  at boot: the sample site key / codes are in use (300).
#   sup.snapshot() -> dict           persist it when sup.revision differs from the revision last
#                                    written (changes about once an hour when idle, never per tick).
#   sup.troubles() -> [(cid, zone, text)]   active conditions, Japanese text (panel, state topic).
#   sup.notices() -> [text]          panel lines that are not troubles: monthly inspection due,
#                                    running, and its result per path (until the next activity).
#   State the app renders: sup.reminding (セット忘れ: buzzer BUZ_REMIND), sup.self_check_due,
#   sup.self_check_running, sup.self_check_output (name of the OutputState output to sound
#   right now during the self-check, or None), sup.self_check_results() -> [(path, ok|None)].
#
# Which path carries a path trouble: a 350/351/354 TROUBLE event names the failed path in
# `zone_name` ("mqtt", "line") and has zone 0: it is about a report path, not a zone (Contact
# ID: system messages carry 000 in the zone field; the frame carries the name as `path`, see
# proto/frame.py, so the centre never shows it as ゾーン1, the front door; issue 10.10). The
# test reports 601/602 are built the same way. A path trouble must go out on any OTHER path:
# avoid_path(event) returns the path to avoid, None for every other event.
#
# Codes chosen (events.py catalogue):
#   641 ライフ (ALARM): DC-05 641 "Senior watch trouble" is exactly seed H (nobody has moved for
#       the set time, someone may be unwell); 654 "System inactivity" means the *panel* was not
#       used/armed for a period (a shop left unarmed), which is not what the centre must act on.
#   350 (TROUBLE, MQTT): the first periodic test on the MQTT path that is not delivered.
#   354 (TROUBLE, MQTT): "failure to communicate": nothing at all was delivered on the path for a
#       whole comm_check_h period, so the centre's own 36-hour supervision of that path has
#       lapsed. Raised once; both 350 and 354 are restored by the first delivery on the path.
#   351 (TROUBLE, line): the landline is faulty: its voltage is cut (断線監視) or its test failed.
#       One condition for the centre: restored when both causes are gone.
#   301/302 (TROUBLE, low urgency), 137/144 (ALARM, 24-hour), 380 (TROUBLE, zone),
#   454 (TROUBLE: セット忘れ; arming 外出 afterwards sends the normal 401 closing, no 454 restore),
#   300 (TROUBLE: System trouble: booted with the public sample secrets, core/samples.py),
#   602 periodic test, 601 self-check test (TEST, via send_test, zone 0, the path in zone_name).
#
# Time. ticks_ms wrap at 2**30 ms and a ticks_diff is only valid within +-2**29 ms (6.2 days), so:
#   - timers of at most 72 h (life, comm check, retries, debounces, self-check outputs) are
#     ticks + ticks_diff from their start, which is exact to the millisecond;
#   - long periods (stuck zone up to 168 h, monthly self-check, a departure days ahead) use the
#     supervision clock `_sec`: seconds accumulated from the differences between consecutive
#     calls (exact to the second), which never wraps in practice (2**30 s = 34 years) and stays
#     a small int (no allocation on MicroPython).
#   The snapshot stores times in whole hours of that clock, so it changes about once an hour
#   while idle (24 flash writes a day). After a reboot a timer is credited with the whole hours
#   that had certainly passed (never more), so a restored timer can only fire later than it
#   would have (by at most about two hours plus the time the power was off), never early: a
#   false ライフ 異常 sends a guard to the house. Time with the power off is not counted.
from mimamori.compat import const, ticks_diff, ticks_add
from mimamori.core import events as ev
from mimamori.core.events import Event, ALARM, TROUBLE, RESTORE, TEST, Q_NEW, Q_RESTORE
from mimamori.core.commcheck import PathCheck, FAILED, RECOVERED, HEARD
from mimamori.core import troubles as tx
from mimamori.core.troubles import Debounce

DISARMED = "disarmed"
AWAY = "away"

DEFAULTS = {
    "life_monitor_h": 12,
    "comm_check_h": 36,
    "first_test_after_boot_min": 10,
    "fault_trouble_h": 24,
    "line_cut_debounce_s": 10,
    "forgot_arm_grace_min": 15,
    "self_check_days": 30,
}
COMM_CHECK_MAX_H = const(36)    # seed 5.: the communication state is checked every 36 hours
LINE_PATHS = ("line", "landline")

# Thresholds in mV of the real voltage (io/analog.py undoes the divider). The installer's values
# come from config `supervision`; these are the defaults (same as store/config.py).
LEVELS = {
    # A Japanese analogue line rests at about 48 V on-hook and 6-12 V off-hook (a call in
    # progress); a cut line reads ~0 V. Below 3 V is a cut, whatever the handset is doing.
    "line_cut_mv": 3000,
    # 12 V sealed lead-acid standby battery (usual for alarm panels): low at 11.5 V under the
    # panel's load, restored only above 12.2 V (charging/healthy), so a voltage wandering around
    # one threshold gives one trouble and one restore, not a flapping pair every minute.
    "battery_low_mv": 11500,
    "battery_ok_mv": 12200,
}
# AC loss is reported after the mains has been absent for 60 s: a flicker or a breaker being
# reset is not a power cut worth a report; it is restored after 10 s of mains back.
AC_LOSS_MS = const(60000)
AC_BACK_MS = const(10000)
# Battery voltage sags while the siren draws current: the low state must hold 60 s.
BATTERY_MS = const(60000)

# The self-check sounds each output briefly, in this order (names of core.outputs.OutputState
# fields; the app renders "buzzer" as a continuous tone, "siren" as a short chirp).
SELF_CHECK_STEPS = ("buzzer", "flash", "trouble", "siren")
SELF_CHECK_MS = (1500, 3000, 1500, 500)

PATH_CIDS = (ev.CID_COMM_TROUBLE, ev.CID_TELCO_FAULT, ev.CID_FAIL_TO_COMM)

_MS_H = const(3600000)


def avoid_path(event):
    """The path a report must NOT be sent on (the one it says has failed), else None."""
    if event.kind == TROUBLE and event.cid in PATH_CIDS:
        return event.zone_name
    return None


def _hours(timers, key, lo, hi):
    v = int(timers.get(key, DEFAULTS[key]))
    return lo if v < lo else hi if v > hi else v


class Supervisor:
    def __init__(self, timers, paths, emit, send_test, now, supervision=None, mode=DISARMED):
        self._emit = emit
        self._send_test = send_test
        self.mode = mode
        self.revision = 0               # bumped whenever snapshot() would return something new
        self._line_cut_mv = LEVELS["line_cut_mv"]
        self._batt_low_mv = LEVELS["battery_low_mv"]
        self._batt_ok_mv = LEVELS["battery_ok_mv"]
        lv = supervision.get("line_voltage") if supervision else None
        if lv:
            self._line_cut_mv = lv.get("cut_below_mv", self._line_cut_mv)
        bat = supervision.get("battery") if supervision else None
        if bat:
            self._batt_low_mv = bat.get("low_mv", self._batt_low_mv)
            self._batt_ok_mv = bat.get("ok_mv", self._batt_ok_mv)

        self._life_hours = _hours(timers, "life_monitor_h", 1, 72)
        self._life_ms = self._life_hours * _MS_H
        comm_ms = _hours(timers, "comm_check_h", 1, COMM_CHECK_MAX_H) * _MS_H
        first_ms = int(timers.get("first_test_after_boot_min",
                                  DEFAULTS["first_test_after_boot_min"])) * 60000
        self._fault_hours = _hours(timers, "fault_trouble_h", 1, 168)
        self._fault_s = self._fault_hours * 3600
        cut_ms = int(timers.get("line_cut_debounce_s", DEFAULTS["line_cut_debounce_s"])) * 1000
        self._grace_s = int(timers.get("forgot_arm_grace_min",
                                       DEFAULTS["forgot_arm_grace_min"])) * 60
        self._check_period_s = int(timers.get("self_check_days",
                                              DEFAULTS["self_check_days"])) * 86400

        # Supervision clock: whole seconds since first boot (carried across reboots by the
        # snapshot, in hours) plus the milliseconds not yet making a second.
        self._now = now
        self._sec = 0
        self._sub = 0
        self._hour = 0
        self._next_hour_s = 3600

        # ライフ監視
        self._life_on = False
        self._life_t0 = now
        self._life_h = -1               # supervision hour the timer (re)started, -1 = suspended
        self._life_alarm = False
        if mode != AWAY:
            self._life_on = True
            self._life_h = 0

        # Report paths
        self._paths = []
        self._line = None
        n = 0
        for name in paths:
            n += 1
            p = PathCheck(name, n, comm_ms, first_ms, now)
            self._paths.append(p)
            if name in LINE_PATHS:
                self._line = p
        self._line_reported = False     # 351 reported (cut or test failed)

        # Conditions
        self._cut = Debounce(cut_ms, cut_ms)
        self._ac = Debounce(AC_LOSS_MS, AC_BACK_MS)
        self._batt = Debounce(BATTERY_MS, BATTERY_MS)
        self._case = False
        self._tamper = []               # zones whose tamper is open
        self._zones = []                # [zone, name, start_s, troubled] of open zones;
                                        # start_s -1: not counting (armed)

        # Booted with the public sample secrets (core/samples.py; reported once, see sample_secrets)
        self._sample = False

        # セット忘れ点検
        self._dep_s = -1                # departure + grace on the supervision clock, -1 = none
        self.reminding = False

        # Monthly self-check
        self._check_s = 0
        self.self_check_due = False
        self.self_check_running = False
        self.self_check_output = None
        self._sc_t0 = now
        self._sc_show = False           # show the results until the next panel operation

    # ---- time -------------------------------------------------------------------------------
    def _advance(self, now):
        d = ticks_diff(now, self._now)
        if d <= 0:
            return          # an older timestamp (an edge latched before the last tick)
        self._now = now
        sub = self._sub + d
        if sub >= 1000:
            q = sub // 1000
            self._sec += q
            sub -= q * 1000
            if self._sec >= self._next_hour_s:
                self._hour = self._sec // 3600
                self._next_hour_s = (self._hour + 1) * 3600
                self._touch()
        self._sub = sub

    def _touch(self):
        self.revision += 1

    def _ago(self, hours, cap_ms):
        """ticks of a start `hours` whole hours before now, capped (restore of a timer)."""
        ms = hours * _MS_H if hours > 0 else 0
        if ms > cap_ms:
            ms = cap_ms
        return ticks_add(self._now, -ms)

    def _event(self, kind, cid, zone=0, zone_name=""):
        q = Q_RESTORE if kind == RESTORE else Q_NEW
        self._emit(Event(self._now, kind, cid, q, zone, 0, zone_name, self.mode))

    # ---- the loop ---------------------------------------------------------------------------
    def tick(self, now):
        self._advance(now)
        if self._life_on and not self._life_alarm and ticks_diff(now, self._life_t0) >= self._life_ms:
            self._life_alarm = True
            self._touch()
            self._event(ALARM, ev.CID_LIFE)
        for z in self._zones:
            if z[2] >= 0 and not z[3] and self._sec - z[2] >= self._fault_s:
                z[3] = True
                self._touch()
                self._event(TROUBLE, ev.CID_SENSOR_TROUBLE, z[0], z[1])
        self._settle(now)
        for p in self._paths:
            if p.timed_out(now):
                self._path_change(p, p.result(False, now))
            if p.in_flight == 0:
                if p.manual_pending:
                    p.manual_pending = False
                    self._test(p, ev.CID_MANUAL_TEST, now)
                elif p.due(now):
                    self._test(p, ev.CID_PERIODIC_TEST, now)
            if p is not self._line and p.silent_too_long(now):
                self._touch()
                self._event(TROUBLE, ev.CID_FAIL_TO_COMM, 0, p.name)
        if self._dep_s >= 0 and self._sec >= self._dep_s:
            self._dep_s = -1            # one-shot
            self._touch()
            if self.mode != AWAY:
                self.reminding = True
                self._event(TROUBLE, ev.CID_FAIL_TO_CLOSE)
        if not self.self_check_due and self._sec - self._check_s >= self._check_period_s:
            self.self_check_due = True
        if self.self_check_running:
            self._self_check_step(now)

    def _settle(self, now):
        if self._ac.settle(now):
            self._touch()
            self._event(TROUBLE if self._ac.state else RESTORE, ev.CID_AC_LOSS)
        if self._batt.settle(now):
            self._touch()
            self._event(TROUBLE if self._batt.state else RESTORE, ev.CID_LOW_BATTERY)
        if self._cut.settle(now):
            self._touch()
            self._line_update()

    # ---- ライフ監視 ------------------------------------------------------------------------
    def activity(self, now):
        self._advance(now)
        self._sc_show = False
        if self._life_alarm:
            self._life_alarm = False
            self._touch()
            self._event(RESTORE, ev.CID_LIFE)
        if self.mode == AWAY:
            if self._life_on:
                self._life_on = False
                self._life_h = -1
                self._touch()
            return
        self._life_on = True
        self._life_t0 = now
        if self._life_h != self._hour:
            self._life_h = self._hour
            self._touch()

    def set_mode(self, mode, now):
        self._advance(now)
        if mode == self.mode:
            return
        old = self.mode
        self.mode = mode
        self.activity(now)
        if mode == AWAY and (self._dep_s >= 0 or self.reminding):
            self._dep_s = -1            # armed 外出 in time (or late: the reminder stops)
            self.reminding = False
            self._touch()
        if old == DISARMED or mode == DISARMED:
            # Stuck-open zones count only while disarmed: pause on arming, restart on disarm.
            for z in self._zones:
                z[2] = self._sec if mode == DISARMED else -1
            if self._zones:
                self._touch()

    # ---- zones and tamper -----------------------------------------------------------------
    def zone_fault(self, zone, name, is_open, now):
        self._advance(now)
        rec = None
        for z in self._zones:
            if z[0] == zone:
                rec = z
        # An ordinary open or close is not saved at once (a PIR would write flash all day): the
        # hourly snapshot carries how long a zone has been open, and io re-reports open zones at
        # boot. Only the end of a reported trouble is saved straight away.
        if is_open and rec is None:
            self._zones.append([zone, name, self._sec if self.mode == DISARMED else -1, False])
        elif not is_open and rec is not None:
            self._zones.remove(rec)
            if rec[3]:
                self._touch()
                self._event(RESTORE, ev.CID_SENSOR_TROUBLE, zone, rec[1])

    def case_tamper(self, is_open, now):
        self._advance(now)
        if is_open != self._case:
            self._case = is_open
            self._touch()
            self._event(ALARM if is_open else RESTORE, ev.CID_TAMPER)

    def sensor_tamper(self, zone, is_open, now):
        self._advance(now)
        if is_open and zone not in self._tamper:
            self._tamper.append(zone)
        elif not is_open and zone in self._tamper:
            self._tamper.remove(zone)
        else:
            return
        self._touch()
        self._event(ALARM if is_open else RESTORE, ev.CID_EXPANSION_TAMPER, zone)

    def sample_secrets(self, in_use, now):
        """At boot, after restore(): the controller runs with the sample site key, codes or
        card (300 System trouble). Reported when it starts, restored when a boot finds own
        secrets; a reboot that changes nothing sends nothing."""
        self._advance(now)
        if in_use != self._sample:
            self._sample = in_use
            self._touch()
            self._event(TROUBLE if in_use else RESTORE, ev.CID_SYSTEM_TROUBLE)

    # ---- power and line -------------------------------------------------------------------
    def ac_power(self, present, now):
        self._advance(now)
        self._ac.feed(not present, now)
        self._settle(now)

    def battery(self, mv, now):
        self._advance(now)
        if mv < self._batt_low_mv:
            self._batt.feed(True, now)
        elif mv > self._batt_ok_mv:
            self._batt.feed(False, now)
        # in between: hysteresis band, the input keeps its last value
        self._settle(now)

    def line_voltage(self, mv, now):
        self._advance(now)
        self._cut.feed(mv < self._line_cut_mv, now)
        self._settle(now)

    def _line_update(self):
        fault = self._cut.state or (self._line is not None and self._line.failed)
        if fault != self._line_reported:
            self._line_reported = fault
            self._touch()
            self._event(TROUBLE if fault else RESTORE, ev.CID_TELCO_FAULT, 0,
                        self._line.name if self._line is not None else "line")

    # ---- communication check --------------------------------------------------------------
    def _path(self, name):
        for p in self._paths:
            if p.name == name:
                return p
        raise ValueError("unknown path " + str(name))

    def _test(self, p, cid, now):
        p.sent(cid, now)
        self._send_test(p.name, Event(now, TEST, cid, Q_NEW, 0, 0, p.name, self.mode))

    def _path_change(self, p, change):
        if change == 0:
            return
        self._touch()
        if p is self._line:
            self._line_update()
        elif change & FAILED:
            self._event(TROUBLE, ev.CID_COMM_TROUBLE, 0, p.name)
        elif change & RECOVERED:
            self._event(RESTORE, ev.CID_COMM_TROUBLE, 0, p.name)
        if change & HEARD:
            self._event(RESTORE, ev.CID_FAIL_TO_COMM, 0, p.name)

    def test_result(self, path, ok, now):
        self._advance(now)
        p = self._path(path)
        self._path_change(p, p.result(ok, now))
        if self.self_check_running:
            self._self_check_step(now)

    def report_delivered(self, path, now):
        self._advance(now)
        p = self._path(path)
        self._path_change(p, p.delivered(now))

    def report_failed(self, path, now):
        self._advance(now)
        p = self._path(path)
        if p.in_flight:
            return          # the test in flight will tell
        self._path_change(p, p.result(False, now))

    # ---- セット忘れ点検 ----------------------------------------------------------------------
    def set_departure(self, delay_s, now):
        self._advance(now)
        self._dep_s = self._sec + int(delay_s) + self._grace_s
        self.reminding = False
        self._touch()

    def clear_departure(self, now):
        self._advance(now)
        if self._dep_s >= 0 or self.reminding:
            self._dep_s = -1
            self.reminding = False
            self._touch()

    # ---- monthly self-check ---------------------------------------------------------------
    def start_self_check(self, now):
        self._advance(now)
        self.self_check_running = True
        self._sc_t0 = now
        self.self_check_output = SELF_CHECK_STEPS[0]
        for p in self._paths:
            p.manual_pending = True
            p.manual_result = None
        self.tick(now)

    def _self_check_step(self, now):
        e = ticks_diff(now, self._sc_t0)
        end = 0
        i = 0
        out = None
        for ms in SELF_CHECK_MS:
            end += ms
            if e < end:
                out = SELF_CHECK_STEPS[i]
                break
            i += 1
        self.self_check_output = out
        if out is not None:
            return
        for p in self._paths:
            if p.manual_pending or p.manual_result is None:
                return
        self.self_check_running = False
        self.self_check_due = False
        self._sc_show = True
        self._check_s = self._sec
        self._touch()

    def self_check_results(self):
        return [(p.name, p.manual_result) for p in self._paths]

    # ---- panel ------------------------------------------------------------------------------
    def troubles(self):
        out = []
        if self._sample:
            out.append((ev.CID_SYSTEM_TROUBLE, 0, tx.TEXT[ev.CID_SYSTEM_TROUBLE]))
        if self._case:
            out.append((ev.CID_TAMPER, 0, tx.TEXT[ev.CID_TAMPER]))
        for z in self._tamper:
            out.append((ev.CID_EXPANSION_TAMPER, z, tx.TEXT[ev.CID_EXPANSION_TAMPER] % z))
        if self._life_alarm:
            out.append((ev.CID_LIFE, 0, tx.TEXT[ev.CID_LIFE] % self._life_hours))
        if self._ac.state:
            out.append((ev.CID_AC_LOSS, 0, tx.TEXT[ev.CID_AC_LOSS]))
        if self._batt.state:
            out.append((ev.CID_LOW_BATTERY, 0, tx.TEXT[ev.CID_LOW_BATTERY]))
        for p in self._paths:
            if p is self._line:
                continue
            if p.failed:
                out.append((ev.CID_COMM_TROUBLE, 0, tx.TEXT[ev.CID_COMM_TROUBLE] % p.name))
            if p.silent:
                out.append((ev.CID_FAIL_TO_COMM, 0,
                            tx.TEXT[ev.CID_FAIL_TO_COMM] % (p.name, p.period_ms // _MS_H)))
        if self._line_reported:
            why = []
            if self._cut.state:
                why.append(tx.LINE_CUT_TEXT)
            if self._line is not None and self._line.failed:
                why.append(tx.LINE_TEST_TEXT)
            out.append((ev.CID_TELCO_FAULT, 0,
                        tx.TEXT[ev.CID_TELCO_FAULT] % "・".join(why)))
        for z in self._zones:
            if z[3]:
                out.append((ev.CID_SENSOR_TROUBLE, z[0],
                            tx.TEXT[ev.CID_SENSOR_TROUBLE] % (z[0], z[1], self._fault_hours)))
        if self.reminding:
            out.append((ev.CID_FAIL_TO_CLOSE, 0, tx.TEXT[ev.CID_FAIL_TO_CLOSE]))
        return out

    def notices(self):
        out = []
        if self.self_check_running:
            out.append(tx.SELF_CHECK_RUNNING_TEXT)
        elif self.self_check_due:
            out.append(tx.SELF_CHECK_DUE_TEXT)
        elif self._sc_show:
            out.append(tx.SELF_CHECK_RESULT_TEXT + " ".join(
                [p.name + ":" + (tx.OK_TEXT if p.manual_result else tx.NG_TEXT)
                 for p in self._paths]))
        return out

    # ---- persistence ------------------------------------------------------------------------
    def snapshot(self):
        """What must survive a reboot, in whole hours of the supervision clock. Only changes
        when `revision` changes (about once an hour while idle)."""
        paths = {}
        for p in self._paths:
            paths[p.name] = [p.failed, p.silent]
        return {
            "v": 1,
            "hour": self._hour,
            "life_h": self._life_h,
            "life_alarm": self._life_alarm,
            "check_h": self._check_s // 3600,
            "dep_s": self._dep_s,
            "reminding": self.reminding,
            "case": self._case,
            "sample": self._sample,
            "ac": self._ac.state,
            "battery": self._batt.state,
            "line_cut": self._cut.state,
            "paths": paths,
            "tamper": sorted(self._tamper),
            "zones": [[z[0], z[1], z[2] // 3600 if z[2] >= 0 else -1, z[3]]
                      for z in self._zones],
        }

    def restore(self, d, now):
        """Load a snapshot() saved before a reboot. Call right after construction. Conditions
        that were reported stay reported (no duplicate); the inputs fed after boot decide
        whether they end (then the restore is sent). Returns False, changing nothing, for a
        snapshot that is missing, of another version or damaged: then supervision starts afresh
        (a corrupt file must not stop the controller from booting)."""
        try:
            if d.get("v") != 1:
                return False
            h = int(d["hour"])
            life_h = int(d["life_h"])
            life_alarm = bool(d["life_alarm"])
            check_s = int(d["check_h"]) * 3600
            dep_s = int(d["dep_s"])
            reminding = bool(d["reminding"])
            case = bool(d["case"])
            sample = bool(d.get("sample", False))
            ac = bool(d["ac"])
            batt = bool(d["battery"])
            cut = bool(d["line_cut"])
            paths = d["paths"]
            states = [paths.get(p.name) or (False, False) for p in self._paths]
            states = [(bool(st[0]), bool(st[1])) for st in states]
            tamper = [int(z) for z in d["tamper"]]
            zones = [(int(z[0]), str(z[1]), int(z[2]), bool(z[3])) for z in d["zones"]]
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):
            return False
        if h < 0:
            return False

        self._now = now
        self._sec = h * 3600
        self._sub = 0
        self._hour = h
        self._next_hour_s = (h + 1) * 3600

        self._life_alarm = life_alarm
        if self.mode != AWAY:
            self._life_on = True
            if 0 <= life_h <= h:
                self._life_h = life_h
                self._life_t0 = self._ago(h - life_h - 1, self._life_ms)
            else:                       # saved while away, booted disarmed: start afresh
                self._life_h = h
                self._life_t0 = now

        self._check_s = check_s if check_s <= self._sec else self._sec
        self._dep_s = dep_s
        self.reminding = reminding
        self._case = case
        self._sample = sample
        self._ac = Debounce(AC_LOSS_MS, AC_BACK_MS, ac)
        self._batt = Debounce(BATTERY_MS, BATTERY_MS, batt)
        self._cut = Debounce(self._cut.on_ms, self._cut.off_ms, cut)
        for p, st in zip(self._paths, states):
            p.failed = st[0]
            p.silent = st[1]
        self._line_reported = cut or (self._line is not None and self._line.failed)
        self._tamper = tamper
        self._zones = []
        for zone, name, sh, troubled in zones:
            if self.mode != DISARMED:
                start = -1
            elif 0 <= sh < h:
                # credited only the whole hours certainly passed: (sh + 1) * 3600 <= true start
                start = (sh + 1) * 3600
            else:
                start = self._sec
            self._zones.append([zone, name, start, troubled])
        return True
