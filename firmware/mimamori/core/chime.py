# Door chime: a short ding-dong (buzzer pattern BUZ_CHIME) when a zone with `chime: true` (the
# front door) opens while the house is disarmed, so someone at home hears a door open. The
# resident switches it on and off at the panel (*2#); the setting survives a reboot (the app
# keeps it as a small checksummed value, journal.save_value("chime")).
# Sans-I/O: ticks in; `sounding` is what the panel merges into the buzzer.
from mimamori.compat import const, ticks_diff
from mimamori.core.vocab import MODE_DISARMED

CHIME_MS = const(700)   # one ding-dong of io/outputs.py CADENCE_CHIME, then quiet


class DoorChime:
    def __init__(self, on=True):
        self.on = bool(on)
        self.sounding = False
        self._start = 0

    def zone_opened(self, zone, mode, now):
        """A zone opened (debounced). Chimes for a chime zone while disarmed and switched on."""
        if self.on and zone.chime and mode == MODE_DISARMED:
            self.sounding = True
            self._start = now

    def toggle(self):
        """Switch it on / off; returns the new setting. Switching off stops a chime sounding."""
        self.on = not self.on
        if not self.on:
            self.sounding = False
        return self.on

    def tick(self, now):
        if self.sounding and ticks_diff(now, self._start) >= CHIME_MS:
            self.sounding = False
