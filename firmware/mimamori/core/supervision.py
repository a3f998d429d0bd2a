# Supervision (issue 4): the timers and watched conditions that are not the alarm state machine.
# Each condition is one small watcher in core/watch/ (base.py says their common shape):
#   life.py       ライフ監視 (seed H), 641
#   power.py      AC loss 301, low battery 302
#   comm.py       the 36-hour communication check per report path (seed 5.), 602, 350, 354
#   line.py       断線監視 of the landline (seed F) and its failed test, 351
#   stuck.py      sensors stuck open while disarmed, 380
#   departure.py  セット忘れ点検 (seed 6.(7)), 454 and the reminder buzzer
#   selfcheck.py  the monthly self-check (seed 6.(6) ①), 601 on every path
#   secrets.py    booted with the public sample secrets (core/samples.py), 300
# The Supervisor owns them, keeps the supervision clock they share (watch/base.py Context) and
# is the one API the app and io/analog.py call. Tamper is not here: the panel's case switch and
# sensor tamper switches are zones (types case_tamper 137 and tamper 144, core/zones.py).
#
# Sans-I/O like the rest of core/: every call takes `now` (ticks_ms), decisions go out as
# events.Event through `emit(event)`, test reports through `send_test(path, event)`.
#
# API (what the app calls)
#   sup = Supervisor(timers, paths, emit, send_test, now, supervision=None, mode="disarmed")
#       timers: the validated config `timers` dict (store/config.py fills the defaults and
#       bounds them: comm_check_h at most 36, seed 5.);
#       paths: configured report paths in priority order, e.g. ("mqtt", "line") ("landline"
#       is accepted as the name of the line path too);
#       supervision: the validated config `supervision` dict (line_voltage.cut_below_mv,
#       battery.low_mv / ok_mv, filled by the validator; None: no sensors wired);
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
#   sup.line_voltage(mv, now), sup.battery(mv, now), sup.ac_power(present, now)  (io/analog.py)
#   sup.test_result(path, ok, now)   outcome of the test handed to send_test(path, event).
#   sup.report_delivered(path, now)  any report acknowledged end to end on that path.
#   sup.set_departure(delay_s, now)  セット忘れ点検: departure `delay_s` seconds from now (the app
#                                    converts the resident's / centre's wall-clock time with the
#                                    RTC); sup.clear_departure(now) cancels it and its reminder.
#   sup.start_self_check(now)        the resident starts the monthly inspection.
#   sup.sample_secrets(in_use, now)  at boot: the sample site key / codes are in use (300).
#   sup.card_reader(answering, now)  each step with a ライフカード reader: its chip answers (330).
#   sup.snapshot() -> dict           persist it when sup.revision differs from the revision
#                                    last written (about once an hour when idle, never per tick).
#   sup.troubles() -> [(cid, zone, text)]   active conditions, Japanese text (panel, state topic).
#   sup.notices() -> [text]          panel lines that are not troubles: monthly inspection due,
#                                    running, and its result per path (until the next activity).
#   State the app renders: sup.reminding (セット忘れ: buzzer BUZ_REMIND), sup.self_check_due,
#   sup.self_check_running, sup.self_check_output (name of the OutputState output to drive
#   right now during the self-check, or None), sup.self_check_results() -> [(path, ok|None)].
#
# Which path carries a path trouble: a 350/351/354 TROUBLE event names the failed path in
# `zone_name` ("mqtt", "line") and has zone 0: it is about a report path, not a zone (Contact
# ID: system messages carry 000 in the zone field; the frame carries the name as `path`, see
# proto/frame.py, so the centre never shows it as ゾーン1, the front door; issue 10.10). The
# test reports 601/602 are built the same way. A path trouble must go out on any OTHER path:
# avoid_path(event) returns the path to avoid, None for every other event.
#
# Persistence. The snapshot stores times in whole hours of the supervision clock, so it changes
# about once an hour while idle (24 flash writes a day). After a reboot a timer is credited with
# the whole hours that had certainly passed (never more), so a restored timer can only fire
# later than it would have (by at most about two hours plus the time the power was off), never
# early: a false ライフ 異常 sends a guard to the house. Time with the power off is not counted.
from mimamori.core import events as ev
from mimamori.core.events import TROUBLE
from mimamori.core.vocab import MODE_DISARMED
# one import line for the package's modules: each import costs its names again in the .mpy
from mimamori.core.watch import base, life, power, comm, line, stuck, departure, selfcheck, secrets
from mimamori.core.watch import reader

SELF_CHECK_STEPS = selfcheck.SELF_CHECK_STEPS   # the outputs in the order the self-check drives

PATH_CIDS = (ev.CID_COMM_TROUBLE, ev.CID_TELCO_FAULT, ev.CID_FAIL_TO_COMM)


def avoid_path(event):
    """The path a report must NOT be sent on (the one it says has failed), else None."""
    if event.kind == TROUBLE and event.cid in PATH_CIDS:
        return event.zone_name
    return None


class Supervisor:
    def __init__(self, timers, paths, emit, send_test, now, supervision=None, mode=MODE_DISARMED):
        # Validated config only (store/config.py fills every default): no sensor wired, no
        # threshold (its watcher is never fed).
        lv = supervision["line_voltage"] if supervision else None
        bat = supervision["battery"] if supervision else None
        cut_mv = lv["cut_below_mv"] if lv else 0
        low_mv, ok_mv = (bat["low_mv"], bat["ok_mv"]) if bat else (0, 0)

        self._ctx = ctx = base.Context(emit, now, mode)
        self._samples = secrets.SampleSecretsWatcher(ctx)
        self._life = life.LifeWatcher(ctx, timers["life_monitor_h"], now)
        self._power = power.PowerWatcher(ctx, low_mv, ok_mv)
        self._comm = checks = comm.CommWatcher(
            ctx, paths, timers["comm_check_h"] * base.MS_H,
            timers["first_test_after_boot_min"] * 60000, send_test, now)
        self._line = line.LineWatcher(ctx, cut_mv, timers["line_cut_debounce_s"] * 1000,
                                      checks.line)
        checks.on_line = self._line.update
        self._stuck = stuck.StuckWatcher(ctx, timers["fault_trouble_h"])
        self._departure = departure.DepartureWatcher(
            ctx, timers["forgot_arm_grace_min"] * 60)
        self._check = selfcheck.SelfCheckWatcher(ctx, timers["self_check_days"] * 86400,
                                                 checks.paths, now)
        self._reader = reader.ReaderWatcher(ctx)   # the ライフカード reader answers (330)
        # In the order the panel lists their troubles (the display shows the first) ...
        self._all = (self._samples, self._life, self._power, self._comm, self._line,
                     self._stuck, self._departure, self._check, self._reader)
        # ... and the order they are ticked in (the order their events are journalled).
        self._ticking = (self._life, self._stuck, self._power, self._line, self._comm,
                         self._departure, self._check, self._reader)

    # ---- state the app reads ----------------------------------------------------------------
    @property
    def revision(self):
        """Differs from its last value whenever snapshot() would return something new."""
        n = self._ctx.revision
        for w in self._all:
            n += w.revision
        return n

    @property
    def reminding(self):
        return self._departure.reminding

    @property
    def self_check_due(self):
        return self._check.due

    @property
    def self_check_running(self):
        return self._check.running

    @property
    def self_check_output(self):
        return self._check.output

    def self_check_results(self):
        return self._check.results()

    # ---- the loop and the inputs -------------------------------------------------------------
    def tick(self, now):
        self._ctx.advance(now)
        for w in self._ticking:
            w.tick(now)

    def activity(self, now):
        self._ctx.advance(now)
        for w in self._all:
            w.activity(now)

    def set_mode(self, mode, now):
        ctx = self._ctx
        ctx.advance(now)
        if mode == ctx.mode:
            return
        old = ctx.mode
        ctx.mode = mode
        self.activity(now)
        for w in self._all:
            w.mode_changed(old, now)

    def zone_fault(self, zone, name, is_open, now):
        self._ctx.advance(now)
        self._stuck.zone_fault(zone, name, is_open)

    def sample_secrets(self, in_use, now):
        """At boot, after restore(): the controller runs with the sample site key, codes or
        card (300 System trouble)."""
        self._ctx.advance(now)
        self._samples.sample_secrets(in_use)

    def ac_power(self, present, now):
        self._ctx.advance(now)
        self._power.ac_power(present, now)
        self._settle(now)

    def battery(self, mv, now):
        self._ctx.advance(now)
        self._power.battery(mv, now)
        self._settle(now)

    def line_voltage(self, mv, now):
        self._ctx.advance(now)
        self._line.line_voltage(mv, now)
        self._settle(now)

    def _settle(self, now):
        # a reading confirms its debounced condition at once when it has held long enough
        self._power.tick(now)
        self._line.tick(now)

    def card_reader(self, answering, now):
        """Every loop step with a card reader: whether its chip answered (io/cardreader.py)."""
        self._reader.reader_state(answering, now)

    def test_result(self, path, ok, now):
        self._ctx.advance(now)
        self._comm.test_result(path, ok, now)
        if self._check.running:
            self._check.step(now)

    def report_delivered(self, path, now):
        self._ctx.advance(now)
        self._comm.delivered(path, now)

    def set_departure(self, delay_s, now):
        self._ctx.advance(now)
        self._departure.set(delay_s)

    def clear_departure(self, now):
        self._ctx.advance(now)
        self._departure.clear()

    def start_self_check(self, now):
        self._ctx.advance(now)
        self._check.start(now)
        self.tick(now)              # the 601 tests leave at once

    # ---- panel ------------------------------------------------------------------------------
    def troubles(self):
        out = []
        for w in self._all:
            w.troubles(out)
        return out

    def notices(self):
        out = []
        for w in self._all:
            w.notices(out)
        return out

    # ---- persistence ------------------------------------------------------------------------
    def snapshot(self):
        """What must survive a reboot, in whole hours of the supervision clock. Only changes
        when `revision` changes (about once an hour while idle)."""
        d = {"v": 1, "hour": self._ctx.hour}
        for w in self._all:
            w.snapshot(d)
        return d

    def restore(self, d, now):
        """Load a snapshot() saved before a reboot. Call right after construction. Conditions
        that were reported stay reported (no duplicate); the inputs fed after boot decide
        whether they end (then the restore is sent). Returns False, changing nothing, for a
        snapshot that is missing, of another version or damaged: then supervision starts afresh
        (a corrupt file must not stop the controller from booting). A state saved before the
        watchers (with the `case` and `tamper` keys of the tamper inputs that moved to the
        zones) restores the same: the keys nobody reads are ignored."""
        try:
            if d.get("v") != 1:
                return False
            h = int(d["hour"])
            states = [w.parse(d) for w in self._all]
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):
            return False
        if h < 0:
            return False
        self._ctx.restart(h, now)
        for w, st in zip(self._all, states):
            w.restore(st, now)          # in order: line.py reads the path comm.py restored
        return True
