# The alarm core: arm modes 解除 / 外出 / 在宅セット / 部分セット, exit and entry delays, the cancel
# window, 24-hour zones, and what the outputs should do. Sans-I/O (h11 style): it is fed zone
# changes, authorised operations and the time (ticks ms), and answers with Events through `emit`
# and with the desired OutputState. It never sleeps, never reads a clock, never touches a pin.
#
# Rules (README "Modes and timers" says the same for residents):
# - 24-hour zones (fire, gas, glass, panic, medical, tamper, and vibration marked always_armed)
#   alarm at once in every state: disarmed, exit delay, entry delay, cancel window, during an alarm.
# - 外出 (away): exit delay after arming; an entry-route zone opened while armed starts the entry
#   delay; disarming within it sends no 異常 (only the opening report); any other armed zone
#   alarms at once.
# - 在宅セット / 部分セット: an armed zone opened sounds a local warning and starts the cancel window;
#   cancel or disarm within it sends nothing; otherwise 異常.
# - Arming is refused while a zone armed in that mode is open; a force-arm bypasses those zones for
#   this arming only (reported as 570 bypass).
from mimamori.compat import ticks_diff, ticks_add
from mimamori.core import events as ev
from mimamori.core import outputs as out
from mimamori.core.zones import (MODE_DISARMED, MODE_AWAY, MODE_STAY, MODE_PARTIAL, ARM_MODES,
                                 MODE_LABELS, SILENT_TYPES, SWINGER_LIMIT, build_zones)

# Closing report per mode (Contact ID 401 O/C by user, 441 armed stay, 456 partial arm).
_CLOSING_CID = {MODE_AWAY: ev.CID_OPEN_CLOSE, MODE_STAY: ev.CID_STAY_ARM,
                MODE_PARTIAL: ev.CID_PARTIAL_ARM}

DELAY_NONE = 0
DELAY_ENTRY = 1    # 外出: entry-route zone opened, disarm before it ends
DELAY_CANCEL = 2   # 在宅セット / 部分セット: armed zone opened, cancel or disarm before it ends


class ArmResult:
    """Answer to an arm request: ok, and the names of the zones that were open (refused) or
    bypassed (force-arm)."""

    def __init__(self, ok, open_zones):
        self.ok = ok
        self.open_zones = open_zones

    def message(self):
        if not self.open_zones:
            return "セットしました" if self.ok else "セットできません"
        names = "、".join(self.open_zones)
        if self.ok:
            return "バイパスしてセット: " + names
        return "セットできません: " + names + " が開いています"


class AlarmCore:
    def __init__(self, zone_cfgs, timers, emit, now):
        self.zones = build_zones(zone_cfgs)
        self._by_id = {}
        for z in self.zones:
            self._by_id[z.id] = z
        self._emit = emit
        self.entry_ms = timers.get("entry_delay_s", 30) * 1000
        self.exit_ms = timers.get("exit_delay_s", 60) * 1000
        self.cancel_ms = timers.get("cancel_window_s", 30) * 1000
        self.siren_ms = timers.get("siren_cutoff_min", 5) * 60000
        self.mode = MODE_DISARMED
        self.outputs = out.OutputState()
        self.memory = []            # ALARM events not yet acknowledged (alarm memory)
        self.changed = False        # set on every state change worth persisting
        self._exit_start = None     # ticks when the exit delay began
        self._delay = DELAY_NONE
        self._delay_start = 0
        self._siren_start = None    # ticks when the current alarm sound began
        self._sound = out.BUZ_OFF   # buzzer pattern of the current alarm sound
        self._reported = False      # an 異常 went out during this arming (406 on a cancel)

    # ---- inputs -------------------------------------------------------------------------------

    def zone_changed(self, index, active, now):
        """A debounced zone input changed: active=True means open / triggered."""
        z = self.zones[index]
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
            elif z.entry_route:
                z.pending = True
                self.changed = True
            else:
                self._trip(z, z.cid, now)
        else:
            if self._delay == DELAY_NONE:
                self._start_delay(DELAY_CANCEL, z, now)
            else:
                z.pending = True
                self.changed = True
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
        self.changed = True
        self._update_outputs()
        return ArmResult(True, open_names)

    def disarm(self, user, now):
        """Authorised disarm: ends delays, silences the alarm, reports the opening. The flash
        light and alarm memory stay until acknowledge()."""
        if self.mode != MODE_DISARMED:
            if self._reported:
                self._event(ev.CANCEL, ev.CID_CANCEL, now, ev.Q_NEW, None, user)
            self._event(ev.OPENING, ev.CID_OPEN_CLOSE, now, ev.Q_NEW, None, user)
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
        self.changed = True
        self._update_outputs()

    def cancel(self, user, now):
        """Cancel operation (cancel button: user 0; or an authorised code/card). Within the cancel
        window it sends nothing and the opened zones are ignored until they close. An authorised
        cancel of a sounding alarm silences it and reports 406 once."""
        if self._delay == DELAY_CANCEL:
            for z in self.zones:
                if z.pending:
                    z.pending = False
                    z.cancelled = True
            self._delay = DELAY_NONE
            self.changed = True
        elif user and self._sound != out.BUZ_OFF:
            if self._reported:
                self._event(ev.CANCEL, ev.CID_CANCEL, now, ev.Q_NEW, None, user)
                self._reported = False
            self._silence()
            self.changed = True
        elif self._sound == out.BUZ_GLASS:
            self._silence()  # the local glass warning while disarmed: anyone at home may hush it
            self.changed = True
        self._update_outputs()

    def acknowledge(self, user, now):
        """Authorised reset: the flash light stops and the alarm memory is cleared."""
        if not user:
            return
        self._silence()
        self.memory = []
        for z in self.zones:
            z.trips = 0
        self.outputs.flash = False
        self.changed = True
        self._update_outputs()

    def tick(self, now):
        """Advance timers. Steady state (nothing due) allocates nothing."""
        if self._exit_start is not None and ticks_diff(now, self._exit_start) >= self.exit_ms:
            self._exit_start = None
            self._exit_ended(now)
        if self._delay != DELAY_NONE:
            limit = self.entry_ms if self._delay == DELAY_ENTRY else self.cancel_ms
            if ticks_diff(now, self._delay_start) >= limit:
                self._delay_expired(now)
        if self._siren_start is not None and ticks_diff(now, self._siren_start) >= self.siren_ms:
            self._silence()  # cut-off: the siren must not sound for ever (neighbours, bylaws)
            self.changed = True
            self._update_outputs()

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
        return {
            "mode": self.mode,
            "mode_label": MODE_LABELS[self.mode],
            "exit_delay": self._exit_start is not None,
            "entry_delay": self._delay == DELAY_ENTRY,
            "cancel_window": self._delay == DELAY_CANCEL,
            "remaining_s": max(0, self.delay_remaining_ms(now)) // 1000,
            "open_zones": [z.name for z in self.zones if z.open],
            "bypassed": [z.name for z in self.zones if z.bypassed],
            "alarm_memory": [(e.zone, e.zone_name, e.label, e.wall) for e in self.memory],
            "siren": self.outputs.siren,
            "flash": self.outputs.flash,
        }

    def display(self, now):
        """The panel's one-line display, in Japanese."""
        secs = max(0, self.delay_remaining_ms(now) + 999) // 1000
        if self._exit_start is not None:
            return "外出セット中 あと%d秒" % secs
        if self._delay == DELAY_ENTRY:
            return "解除してください あと%d秒" % secs
        if self._delay == DELAY_CANCEL:
            return "キャンセルしてください あと%d秒" % secs
        if self.memory:
            e = self.memory[-1]
            return "異常 %s %s" % (e.label, e.zone_name)
        return MODE_LABELS[self.mode]

    # ---- persistence --------------------------------------------------------------------------

    def snapshot(self, now):
        """What must survive a power cut: mode, bypasses, alarm memory and running timers (as
        elapsed ms, since ticks restart at boot). Written by the app only when `changed`."""
        def elapsed(start):
            return None if start is None else ticks_diff(now, start)
        return {
            "mode": self.mode,
            "bypassed": [z.id for z in self.zones if z.bypassed],
            "cancelled": [z.id for z in self.zones if z.cancelled],
            "pending": [z.id for z in self.zones if z.pending],
            "in_alarm": [z.id for z in self.zones if z.in_alarm],
            "trips": [[z.id, z.trips] for z in self.zones if z.trips],
            "exit": elapsed(self._exit_start),
            "delay": self._delay,
            "delay_elapsed": elapsed(self._delay_start) if self._delay else None,
            "siren": elapsed(self._siren_start),
            "sound": self._sound,
            "reported": self._reported,
            "flash": self.outputs.flash,
            "memory": [e.to_dict() for e in self.memory],
        }

    def restore(self, snap, now, since_save_ms=None):
        """Come back in the state we were in. `since_save_ms` is how long ago the snapshot was
        saved (from the RTC) when known: time that passed during the outage counts against
        running delays, so an entry delay interrupted by a power cut expires (and alarms) rather
        than being forgotten. Unknown: the delay resumes where it was saved."""
        gone = since_save_ms or 0
        self.mode = snap["mode"]
        for z in self.zones:
            z.bypassed = z.id in snap["bypassed"]
            z.cancelled = z.id in snap["cancelled"]
            z.pending = z.id in snap["pending"]
            z.in_alarm = z.id in snap["in_alarm"]
            # In alarm or pending means it was open: io reports the real level at boot, and a
            # zone still open then is not a new alarm, a closed one is a restore.
            z.open = z.in_alarm or z.pending or z.cancelled
        for zid, n in snap["trips"]:
            if zid in self._by_id:
                self._by_id[zid].trips = n

        def started(elapsed):
            return None if elapsed is None else ticks_add(now, -(elapsed + gone))
        self._exit_start = started(snap["exit"])
        self._delay = snap["delay"]
        self._delay_start = started(snap["delay_elapsed"]) or 0
        self._siren_start = started(snap["siren"])
        self._sound = snap["sound"]
        self._reported = snap["reported"]
        self.outputs.flash = snap["flash"]
        self.memory = [ev.Event.from_dict(d) for d in snap["memory"]]
        self.outputs.siren = self._siren_start is not None and self._sound_has_siren
        self._update_outputs()
        self.changed = False
        self.tick(now)  # anything that ran out during the outage fires now

    # ---- internals ----------------------------------------------------------------------------

    def _event(self, kind, cid, now, qualifier, zone, user):
        e = ev.Event(now, kind, cid, qualifier, zone.id if zone else 0, user,
                     zone.name if zone else "", self.mode)
        self._emit(e)
        return e

    def _start_delay(self, kind, zone, now):
        self._delay = kind
        self._delay_start = now
        zone.pending = True
        self.changed = True

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
        self.changed = True
        self._update_outputs()

    def _exit_ended(self, now):
        """The exit delay is over: anything armed and still open is an entry or an intrusion."""
        for z in self.zones:
            if z.open and z.armed_in(self.mode) and not z.bypassed and not z.always_armed:
                if z.entry_route:
                    if self._delay == DELAY_NONE:
                        self._start_delay(DELAY_ENTRY, z, now)
                    z.pending = True
                else:
                    self._trip(z, z.cid, now)
        self.changed = True
        self._update_outputs()

    def _zone_restored(self, z, now):
        if z.cancelled:
            z.cancelled = False
            self.changed = True
        if z.in_alarm:
            self.changed = True
            z.in_alarm = False
            self._event(ev.RESTORE, z.alarm_cid or z.cid, now, ev.Q_RESTORE, z, 0)

    def _trip(self, z, cid, now):
        if z.swinger and z.trips >= SWINGER_LIMIT:
            return
        z.trips += 1
        z.in_alarm = True
        z.alarm_cid = cid
        self.memory.append(self._event(ev.ALARM, cid, now, ev.Q_NEW, z, 0))
        self._reported = True
        self.outputs.flash = True
        self.changed = True
        self._sound_for(z, now)
        self._update_outputs()

    @property
    def _sound_has_siren(self):
        return self._sound == out.BUZ_FIRE or self._sound == out.BUZ_ALARM

    def _sound_for(self, z, now):
        """Pick the local sound for a tripped zone; a more urgent sound is never downgraded."""
        if z.type in SILENT_TYPES:
            return
        if z.type == "fire":
            pattern = out.BUZ_FIRE
        elif self.mode == MODE_DISARMED and z.type in ("glass", "tamper", "vibration"):
            pattern = out.BUZ_GLASS  # seed: glass sounds the buzzer while disarmed, no siren
        else:
            pattern = out.BUZ_ALARM
        if self._sound == out.BUZ_OFF or out.buzzer_rank(pattern) < out.buzzer_rank(self._sound):
            self._sound = pattern
        self._siren_start = now  # a new trip restarts the cut-off period

    def _silence(self):
        self._sound = out.BUZ_OFF
        self._siren_start = None

    def _update_outputs(self):
        o = self.outputs
        o.mode = self.mode
        o.arming = self._exit_start is not None
        o.siren = self._siren_start is not None and self._sound_has_siren
        o.alarm_memory = len(self.memory) > 0
        if self._sound != out.BUZ_OFF:
            o.buzzer = self._sound
        elif self._delay != DELAY_NONE:
            o.buzzer = out.BUZ_ENTRY
        elif self._exit_start is not None:
            o.buzzer = out.BUZ_EXIT
        else:
            o.buzzer = out.BUZ_OFF
