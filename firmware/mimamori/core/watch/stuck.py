# Sensors stuck open: a zone left open for `fault_trouble_h` hours while disarmed is probably a
# faulty sensor (or a window forgotten for a day): 380 (TROUBLE) with the zone, restored when it
# closes. The open time counts only while disarmed (armed with the zone open means bypassed):
# paused on arming, restarted on disarm. Up to 168 h: counted on the supervision clock `sec`.
from mimamori.core.watch.base import Watcher, MODE_DISARMED, ev, tx


class StuckWatcher(Watcher):
    def __init__(self, ctx, hours):
        Watcher.__init__(self, ctx)
        self.hours = hours
        self._limit_s = hours * 3600
        self._zones = []            # [zone, name, start_s, troubled] of open zones;
                                    # start_s -1: not counting (armed)

    def zone_fault(self, zone, name, is_open):
        """Every zone's open/closed state (also at boot)."""
        ctx = self.ctx
        rec = None
        for z in self._zones:
            if z[0] == zone:
                rec = z
        # An ordinary open or close is not saved at once (a PIR would write flash all day): the
        # hourly snapshot carries how long a zone has been open, and io re-reports open zones at
        # boot. Only the end of a reported trouble is saved straight away.
        if is_open and rec is None:
            self._zones.append([zone, name, ctx.sec if ctx.mode == MODE_DISARMED else -1, False])
        elif not is_open and rec is not None:
            self._zones.remove(rec)
            if rec[3]:
                self._touch()
                ctx.event(ev.RESTORE, ev.CID_SENSOR_TROUBLE, zone, rec[1])

    def tick(self, now):
        ctx = self.ctx
        for z in self._zones:
            if z[2] >= 0 and not z[3] and ctx.sec - z[2] >= self._limit_s:
                z[3] = True
                self._touch()
                ctx.event(ev.TROUBLE, ev.CID_SENSOR_TROUBLE, z[0], z[1])

    def mode_changed(self, old, now):
        mode = self.ctx.mode
        if old == MODE_DISARMED or mode == MODE_DISARMED:
            for z in self._zones:
                z[2] = self.ctx.sec if mode == MODE_DISARMED else -1
            if self._zones:
                self._touch()

    def troubles(self, out):
        for z in self._zones:
            if z[3]:
                out.append((ev.CID_SENSOR_TROUBLE, z[0],
                            tx.TROUBLE_TEXT[ev.CID_SENSOR_TROUBLE] % (z[0], z[1], self.hours)))

    def snapshot(self, d):
        d["zones"] = [[z[0], z[1], z[2] // 3600 if z[2] >= 0 else -1, z[3]]
                      for z in self._zones]

    def parse(self, d):
        return [(int(z[0]), str(z[1]), int(z[2]), bool(z[3])) for z in d["zones"]]

    def restore(self, zones, now):
        ctx = self.ctx
        h = ctx.hour
        self._zones = []
        for zone, name, sh, troubled in zones:
            if ctx.mode != MODE_DISARMED:
                start = -1
            elif 0 <= sh < h:
                # credited only the whole hours certainly passed: (sh + 1) * 3600 <= true start
                start = (sh + 1) * 3600
            else:
                start = ctx.sec
            self._zones.append([zone, name, start, troubled])
