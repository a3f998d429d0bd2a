# The alarm core: arm modes 解除 / 外出 / 在宅セット / 部分セット, exit and entry delays, the cancel
# window, 24-hour zones, and what the outputs should do. Sans-I/O (h11 style): it is fed zone
# changes, authorised operations and the time (ticks ms), and answers with Events through `emit`
# and with the desired OutputState. It never sleeps, never reads a clock, never touches a pin.
#
# Rules (README "Modes and timers" says the same for residents):
# - 24-hour zones (fire, gas, glass, panic, medical, tamper, and vibration marked always_armed)
#   alarm at once in every state: disarmed, exit delay, entry delay, cancel window, during an alarm.
# - 外出 (away): exit delay after arming; an entry-route zone opened while armed starts the entry
#   delay; disarming within it sends no 異常 (only the opening report). A follower zone (the hall
#   PIR) opened during the entry delay follows it: it alarms (with its own code) when the delay
#   runs out, not before. Any other armed zone, and a follower with no entry delay, alarms at once.
# - 在宅セット / 部分セット: an armed zone opened sounds a local warning and starts the cancel window;
#   cancel or disarm within it sends nothing; otherwise 異常. A cancelled zone is ignored only
#   while it stays open: once shut it guards again.
# - Silent alarms (panic, medical) reach the centre and show nothing locally.
# - Fire and gas still detecting at the siren cut-off keep warning until a resident silences them.
# - Power cuts: while a delay or the siren runs the app saves a checkpoint every few seconds
#   (checkpoint_due), and a restore without a trusted clock counts one checkpoint interval as
#   gone, so repeated cuts can shorten a delay but never stretch it.
# - Arming is refused while a zone armed in that mode is open; a force-arm bypasses those zones for
#   this arming only (reported as 570 bypass).
# How it sounds and what the outputs show: core/sounding.py; its status, panel line, snapshot and
# restore: core/arming_state.py.
from mimamori.compat import ticks_diff
from mimamori.core import events as ev
from mimamori.core import outputs as out
from mimamori.core.vocab import (MODE_DISARMED, MODE_AWAY, MODE_STAY, MODE_PARTIAL, ARM_MODES,
                                 SILENT_TYPES)
from mimamori.core.zones import (SWINGERS_RESET, SWINGERS_RUNNING, build_zones, count_trip,
                                 expire_swingers)
from mimamori.core import arming_state
from mimamori.core.arming_state import (ArmResult, DELAY_NONE, DELAY_ENTRY, DELAY_CANCEL,
                                        CHECKPOINT_DELAY_MS, CHECKPOINT_EXIT_MS,
                                        CHECKPOINT_SIREN_MS)
from mimamori.core.sounding import Sounding

# Closing report per mode (Contact ID 401 O/C by user, 441 armed stay, 456 partial arm).
_CLOSING_CID = {MODE_AWAY: ev.CID_OPEN_CLOSE, MODE_STAY: ev.CID_STAY_ARM,
                MODE_PARTIAL: ev.CID_PARTIAL_ARM}

_SWINGER_CHECK_MS = 1000   # how often running swinger periods are looked at


class AlarmCore(Sounding):
    def __init__(self, zone_cfgs, timers, emit, now):
        self.zones = build_zones(zone_cfgs)
        self._by_id = {}
        for z in self.zones:
            self._by_id[z.id] = z
        self._emit = emit
        self.entry_ms = timers["entry_delay_s"] * 1000     # validated: always there
        self.exit_ms = timers["exit_delay_s"] * 1000
        self.cancel_ms = timers["cancel_window_s"] * 1000
        self.siren_ms = timers["siren_cutoff_min"] * 60000
        self.mode = MODE_DISARMED
        self.outputs = out.OutputState()
        self.memory = []            # MemoryEntry per zone, not yet acknowledged (alarm memory)
        self.revision = 0           # bumped (_touch) on every state change worth persisting
        self._exit_start = None     # ticks when the exit delay began
        self._delay = DELAY_NONE
        self._delay_start = 0
        self._siren_start = None    # ticks when the current alarm sound began
        self._sound = out.BUZ_OFF   # buzzer pattern of the current alarm sound
        self._reported = False      # an 異常 went out during this arming (406 on a cancel)
        self._warning = False       # fire/gas still detecting after the siren cut-off
        self._warn_siren = False    # ... and a detecting zone's sounder is the siren
        self._saved_at = now        # ticks of the last snapshot (checkpoint_due)
        self._swinging = False      # some zone has a running swinger period
        self._swing_check = now
        self.walk = None            # the running walk test (core/walktest.py), or None

    # ---- inputs -------------------------------------------------------------------------------

    def zone_changed(self, index, active, now):
        """A debounced zone input changed: active=True means open / triggered."""
        z = self.zones[index]
        if self.walk is not None and self.walk.capture(z, active, now):
            return        # a walk test runs: the trip is shown, not an alarm (core/walktest.py)
        if z.open == active:
            return
        z.open = active   # not saved: io reports every zone's level again at boot
        if not active:
            self._zone_restored(z, now)
            return
        if z.type == "cancel":
            self.cancel(0, now)
            return
        if z.always_armed:
            self._trip(z, z.cid, now)
            return
        mode = self.mode
        if mode == MODE_DISARMED or not z.armed_in(mode) or z.bypassed or z.cancelled:
            return
        if self._exit_start is not None:
            return  # leaving: checked when the exit delay ends
        if mode == MODE_AWAY:
            if z.entry_route and self._delay != DELAY_ENTRY:
                self._start_delay(DELAY_ENTRY, z, now)
            elif z.entry_route or (z.follower and self._delay == DELAY_ENTRY):
                z.pending = True     # follows the running entry delay: alarms at its end
                self._touch()
            else:
                self._trip(z, z.cid, now)
        else:
            if self._delay == DELAY_NONE:
                self._start_delay(DELAY_CANCEL, z, now)
            else:
                z.pending = True
                self._touch()
        self._update_outputs()

    def arm(self, mode, user, now, force=False):
        """Arm (or change mode while armed). Refused while a zone armed in `mode` is open,
        unless force: then those zones are bypassed for this arming only."""
        if mode not in ARM_MODES:
            raise ValueError("mode must be one of away, stay, partial")
        open_names = [z.name for z in self.zones
                      if z.open and z.armed_in(mode) and not z.always_armed]
        if open_names and not force:
            return ArmResult(False, open_names)
        # A new arming: nothing of the previous one carries over.
        for z in self.zones:
            z.bypassed = False
            z.cancelled = False
            z.pending = False
            z.trips = 0
        self._reported = False
        self._delay = DELAY_NONE
        self.mode = mode
        if force:
            for z in self.zones:
                if z.open and z.armed_in(mode) and not z.always_armed:
                    z.bypassed = True
                    self._event(ev.BYPASS, ev.CID_BYPASS, now, ev.Q_NEW, z, user)
        self._event(ev.CLOSING, _CLOSING_CID[mode], now, ev.Q_RESTORE, None, user)
        self._exit_start = now if (mode == MODE_AWAY and self.exit_ms > 0) else None
        self._touch()
        self._update_outputs()
        return ArmResult(True, open_names)

    def disarm(self, user, now):
        """Authorised disarm: ends delays, silences the alarm, reports the opening. The flash
        light and alarm memory stay until acknowledge()."""
        if self.mode != MODE_DISARMED:
            self._report_cancel(user, now)
            self._event(ev.OPENING, ev.CID_OPEN_CLOSE, now, ev.Q_NEW, None, user)
        elif self._sound != out.BUZ_OFF:
            self._report_cancel(user, now)   # silencing a 24-hour alarm while disarmed
        self.mode = MODE_DISARMED
        self._exit_start = None
        self._delay = DELAY_NONE
        self._reported = False
        for z in self.zones:
            z.bypassed = False
            z.cancelled = False
            z.pending = False
            z.trips = 0       # the swinger count is per arming period
        self._silence()
        self._touch()
        self._update_outputs()

    def cancel(self, user, now):
        """Cancel operation (cancel button: user 0; or an authorised code/card). Within the cancel
        window it sends nothing and the opened zones still open are ignored until they close (one
        shut again guards at once). An authorised cancel of a sounding or reported alarm (a
        24-hour alarm while disarmed too) silences it and reports 406 once."""
        if self._delay == DELAY_CANCEL:
            for z in self.zones:
                if z.pending:
                    z.pending = False
                    z.cancelled = z.open   # shut again already: it guards again
            self._delay = DELAY_NONE
            self._touch()
        elif user and (self._sound != out.BUZ_OFF or self._reported):
            self._report_cancel(user, now)
            self._silence()
            self._touch()
        elif self._sound == out.BUZ_GLASS:
            self._silence()  # the local glass warning while disarmed: anyone at home may hush it
            self._touch()
        self._update_outputs()

    def acknowledge(self, user, now):
        """Authorised reset: the flash light stops and the alarm memory is cleared. A reported
        alarm not yet cancelled (a 24-hour alarm while disarmed) is cancelled: 406 with the user."""
        if not user:
            return
        self._report_cancel(user, now)
        self._silence()
        self.memory = []
        for z in self.zones:
            z.trips = 0
        self.outputs.flash = False
        self._touch()
        self._update_outputs()

    def key_alarm(self, cid, name, now):
        """The panel's 非常 (120) or 救急 (100) key: silent like those zones (SILENT_TYPES), zone
        0 named `name`; a later authorised disarm or cancel reports 406 as for any alarm."""
        self._emit(ev.Event(now, ev.ALARM, cid, ev.Q_NEW, 0, 0, name, self.mode))
        self._reported = True
        self._touch()

    def tick(self, now):
        """Advance timers. Steady state (nothing due) allocates nothing."""
        if self.walk is not None:
            from mimamori.core import walktest     # loaded only for a walk test (its RAM)
            walktest.tick(self, now)
        if self._exit_start is not None and ticks_diff(now, self._exit_start) >= self.exit_ms:
            self._exit_start = None
            self._exit_ended(now)
        if self._delay != DELAY_NONE:
            limit = self.entry_ms if self._delay == DELAY_ENTRY else self.cancel_ms
            if ticks_diff(now, self._delay_start) >= limit:
                self._delay_expired(now)
        if self._siren_start is not None and ticks_diff(now, self._siren_start) >= self.siren_ms:
            self._cut_off()
        if self._swinging and ticks_diff(now, self._swing_check) >= _SWINGER_CHECK_MS:
            self._expire_swingers(now)

    def checkpoint_due(self, now):
        """True when a running timer (exit or entry delay, cancel window, siren) has not been
        saved for its checkpoint interval: the app then saves a snapshot, so a power cut loses
        at most that much of its powered time. Idle: never (no flash writes)."""
        if self._delay != DELAY_NONE:
            return ticks_diff(now, self._saved_at) >= CHECKPOINT_DELAY_MS
        if self._exit_start is not None:
            return ticks_diff(now, self._saved_at) >= CHECKPOINT_EXIT_MS
        if self._siren_start is not None:
            return ticks_diff(now, self._saved_at) >= CHECKPOINT_SIREN_MS
        return False

    # ---- queries ------------------------------------------------------------------------------

    def zone_by_id(self, zone_id):
        return self._by_id.get(zone_id)

    def open_zones(self):
        return [z for z in self.zones if z.open]

    def delay_remaining_ms(self, now):
        if self._exit_start is not None:
            return self.exit_ms - ticks_diff(now, self._exit_start)
        if self._delay == DELAY_ENTRY:
            return self.entry_ms - ticks_diff(now, self._delay_start)
        if self._delay == DELAY_CANCEL:
            return self.cancel_ms - ticks_diff(now, self._delay_start)
        return 0

    def phase(self):
        """For the state topic: alarm (sounding) / exit_delay / entry_delay (or cancel window) /
        idle."""
        if self._sound != out.BUZ_OFF:
            return "alarm"
        if self._exit_start is not None:
            return "exit_delay"
        if self._delay != DELAY_NONE:
            return "entry_delay"
        return "idle"

    def status(self, now):
        """Everything a panel, the state topic or an installer wants to see (allocates)."""
        return arming_state.status(self, now)

    def display(self, now):
        """The panel's one-line display, in Japanese."""
        return arming_state.display(self, now)

    # ---- persistence --------------------------------------------------------------------------

    def snapshot(self, now):
        """What must survive a power cut (core/arming_state.py)."""
        return arming_state.snapshot(self, now)

    def restore(self, snap, now, since_save_ms=None):
        """Come back in the state we were in (core/arming_state.py)."""
        arming_state.restore(self, snap, now, since_save_ms)

    # ---- internals ----------------------------------------------------------------------------

    def _touch(self):
        """Something worth persisting changed: the app saves when `revision` moved."""
        self.revision = (self.revision + 1) & 0x3FFFFFFF    # a small int: no allocation

    def _event(self, kind, cid, now, qualifier, zone, user):
        e = ev.Event(now, kind, cid, qualifier, zone.id if zone else 0, user,
                     zone.name if zone else "", self.mode)
        self._emit(e)
        return e

    def _start_delay(self, kind, zone, now):
        self._delay = kind
        self._delay_start = now
        zone.pending = True
        self._touch()

    def _delay_expired(self, now):
        kind = self._delay
        self._delay = DELAY_NONE
        for z in self.zones:
            if z.pending:
                z.pending = False
                cid = ev.CID_ENTRY_EXIT if (kind == DELAY_ENTRY and z.entry_route) else z.cid
                self._trip(z, cid, now)
                if not z.open:
                    self._zone_restored(z, now)   # closed again before the delay ran out
        self._touch()
        self._update_outputs()

    def _exit_ended(self, now):
        """The exit delay is over: anything armed and still open is an entry or an intrusion
        (entry routes first: a follower open with them follows their entry delay)."""
        for z in self.zones:
            if z.entry_route and self._guarding_open(z):
                if self._delay == DELAY_NONE:
                    self._start_delay(DELAY_ENTRY, z, now)
                z.pending = True
        for z in self.zones:
            if not z.entry_route and self._guarding_open(z):
                if z.follower and self._delay == DELAY_ENTRY:
                    z.pending = True
                else:
                    self._trip(z, z.cid, now)
        self._touch()
        self._update_outputs()

    def _guarding_open(self, z):
        return z.open and z.armed_in(self.mode) and not z.bypassed and not z.always_armed

    def _zone_restored(self, z, now):
        if z.cancelled:
            z.cancelled = False
            self._touch()
        if z.in_alarm:
            self._touch()
            z.in_alarm = False
            self._event(ev.RESTORE, z.alarm_cid or z.cid, now, ev.Q_RESTORE, z, 0)
            if self._warning:
                self._warn()     # a detector cleared after the cut-off: warn of what is left
                self._update_outputs()

    def _trip(self, z, cid, now):
        if z.swinger:
            if not count_trip(z, now):
                return           # over its limit in this period: not reported (core/zones.py)
            self._swinging = True
        z.in_alarm = True
        z.alarm_cid = cid
        e = self._event(ev.ALARM, cid, now, ev.Q_NEW, z, 0)
        self._reported = True
        self._touch()
        if z.type in SILENT_TYPES:
            return   # silent: the centre has it; nothing local may show it (no memory, flash)
        self._remember(z, e)
        self.outputs.flash = True
        self._sound_for(z, now)
        self._update_outputs()

    def _report_cancel(self, user, now):
        """406 with the user, once per reported alarm: the centre learns a resident has it."""
        if self._reported:
            self._event(ev.CANCEL, ev.CID_CANCEL, now, ev.Q_NEW, None, user)
            self._reported = False

    def _expire_swingers(self, now):
        self._swing_check = now
        got = expire_swingers(self.zones, now)
        if got & SWINGERS_RESET:
            self._touch()
        self._swinging = bool(got & SWINGERS_RUNNING)
