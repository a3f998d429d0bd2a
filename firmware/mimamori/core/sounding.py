# What the alarm core shows locally: the alarm sound (a more urgent one never downgraded), the
# siren cut-off and the fire / gas warning that outlives it, the alarm memory, and the desired
# OutputState built from them. A part of AlarmCore (core/arming.py), kept apart because it is its
# own concern: AlarmCore decides *that* a zone alarms, this decides how it sounds.
from mimamori.core import events as ev
from mimamori.core import outputs as out
from mimamori.core.vocab import MODE_DISARMED, SILENT_TYPES, WARNING_TYPES
from mimamori.core.arming_state import DELAY_NONE


class Sounding:
    def _remember(self, z, e):
        """One alarm-memory line per zone: a repeat counts and moves it to the end (the panel
        shows the latest)."""
        mem = self.memory
        for m in mem:
            if m.zone == z.id:
                m.count += 1
                m.cid = e.cid
                m.last = e.wall
                if m is not mem[-1]:
                    mem.remove(m)
                    mem.append(m)
                return
        mem.append(ev.MemoryEntry(z.id, z.name, e.cid, e.wall))

    def _cut_off(self):
        """The siren cut-off (neighbours, bylaws): intrusion falls quiet. A fire or gas detector
        still detecting keeps warning (buzzer; the siren too if its sounder says so) until a
        resident silences it or it clears."""
        self._siren_start = None
        self._warning = True
        self._warn()
        self._touch()
        self._update_outputs()

    def _warn(self):
        """Sound for the fire / gas zones still detecting after the cut-off; quiet when none."""
        fire = gas = siren = False
        for z in self.zones:
            if z.in_alarm and z.open and z.type in WARNING_TYPES:
                if z.type == "fire":
                    fire = True
                else:
                    gas = True
                if z.sounder == "siren":
                    siren = True
        if fire or gas:
            self._sound = out.BUZ_FIRE if fire else out.BUZ_ALARM
            self._warn_siren = siren
        else:
            self._silence()

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
        self._warning = False
        self._warn_siren = False

    def _update_outputs(self):
        o = self.outputs
        o.mode = self.mode
        o.arming = self._exit_start is not None
        o.siren = ((self._siren_start is not None and self._sound_has_siren)
                   or (self._warning and self._warn_siren))
        o.alarm_memory = len(self.memory) > 0
        if self._sound != out.BUZ_OFF:
            o.buzzer = self._sound
        elif self._delay != DELAY_NONE:
            o.buzzer = out.BUZ_ENTRY
        elif self._exit_start is not None:
            o.buzzer = out.BUZ_EXIT
        else:
            o.buzzer = out.BUZ_OFF
