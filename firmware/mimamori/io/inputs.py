# Zone inputs: GPIO edges -> debounced zone states for the core.
#
#   zones = ZoneInputs(config["zones"])          # configures the pins, reads the initial levels
#   every loop: zones.poll(ticks_ms(), sink)     # sink(zone_index, active, edge_ticks)
#
# The IRQ handler only latches (zone index, pin level, ticks_ms) into preallocated ring buffers
# (MicroPython docs, "Writing interrupt handlers"): no allocation, no decisions. One small closure
# per zone is made here at start-up, never in the handler. On the ESP32 port pin IRQs are soft
# (scheduled), so the level is read when the handler runs, a moment after the edge.
#
# poll() drains the ring and debounces in the loop, by the edges' own timestamps: a level is
# accepted once it has been stable for the zone's debounce_ms counted from its edge, so a poll
# that comes late (the loop was busy on the network) reports what a prompt poll would have, in
# the same order, with the same edge_ticks; a pulse shorter than the debounce is never reported.
# Nothing is lost when edges are: a full ring sets a flag (counted in `overflows`), and every poll
# also compares each pin with the last level it knows - which catches IRQs the port's scheduler
# dropped (its queue holds 8) and resyncs after an overflow; such a change is timed from the poll
# that saw it. Steady state (no edges) allocates nothing.
#
# Wiring (see README "Wiring"): the contact switches the pin to the opposite rail of its pull.
# pull "up" (or "none" = external pull-up): contact closed reads 0. pull "down": closed reads 1.
# NC (normally closed, the default): the zone is active when the contact opens.
# NO (normally open: smoke/heat/gas outputs, buttons): active when the contact closes.
#
# The zones come validated (store/config*.py): wiring, pull and debounce_ms are always there, and
# a pull is never asked of a pin the board's pins.json lists in no_pull. Board rules live in
# pins.json and the validator only, so the same driver serves the ESP32 and the ESP32-S3.
from array import array

from mimamori.compat import const, ticks_diff, ticks_ms

RING_SIZE = const(64)           # edges held between polls; a power of two


class ZoneInputs:
    def __init__(self, zone_configs, machine_module=None, ring_size=RING_SIZE):
        if machine_module is None:
            import machine as machine_module
        Pin = machine_module.Pin
        n = len(zone_configs)
        if n > 255:
            raise ValueError("at most 255 zones")
        if ring_size & (ring_size - 1):
            raise ValueError("ring_size must be a power of two")
        self.n = n
        self.ids = [z["id"] for z in zone_configs]
        self._pins = []
        self._db = array("H", [0] * n)            # debounce_ms per zone
        self._act = bytearray(n)                  # pin level that means "active"
        self._stable = bytearray(n)               # accepted (debounced) level
        self._raw = bytearray(n)                  # last level seen (may still be settling)
        self._edge = array("I", [0] * n)          # ticks of the edge that started _raw
        self._unsettled = 0                       # zones with _raw != _stable
        # The ring: written only by the IRQ handlers (_w), read only by poll (_r). Indices run
        # modulo 2 * size so that a full ring and an empty one look different.
        self._size = ring_size
        self._mask = ring_size - 1
        self._wrap = 2 * ring_size - 1
        self._rz = bytearray(ring_size)
        self._rl = bytearray(ring_size)
        self._rt = array("I", [0] * ring_size)
        self._w = 0
        self._r = 0
        self._overflow = False
        self.overflows = 0
        now = ticks_ms()
        for i, z in enumerate(zone_configs):
            pull = z["pull"]
            p = Pin.PULL_UP if pull == "up" else Pin.PULL_DOWN if pull == "down" else None
            closed = 1 if pull == "down" else 0   # the level a closed contact gives
            self._act[i] = (1 - closed) if z["wiring"] == "NC" else closed
            self._db[i] = z["debounce_ms"]
            pin = Pin(z["gpio"], Pin.IN, p)
            self._pins.append(pin)
            level = pin.value()
            self._stable[i] = level
            self._raw[i] = level
            self._edge[i] = now
        self._pins = tuple(self._pins)
        self._handlers = tuple(self._make_handler(i) for i in range(n))
        trigger = Pin.IRQ_RISING | Pin.IRQ_FALLING
        for i in range(n):
            self._pins[i].irq(handler=self._handlers[i], trigger=trigger)

    def _make_handler(self, i):
        record = self._record

        def handler(pin):
            record(i, pin.value())
        return handler

    def _record(self, i, level):
        """IRQ side: latch one edge. Preallocated storage only; drops (and flags) when full."""
        w = self._w
        if (w - self._r) & self._wrap >= self._size:
            self._overflow = True
            return
        s = w & self._mask
        self._rz[s] = i
        self._rl[s] = level
        self._rt[s] = ticks_ms()
        self._w = (w + 1) & self._wrap

    def poll(self, now_ms, sink):
        """Drain the edges, accept the levels that have settled by now_ms, call
        sink(zone_index, active, edge_ticks) for each accepted change, oldest first."""
        if self._overflow:
            self._overflow = False      # cleared first: a new overflow is seen next time
            self.overflows += 1
        r = self._r
        while r != self._w:
            s = r & self._mask
            i = self._rz[s]
            level = self._rl[s]
            t = self._rt[s]
            r = (r + 1) & self._wrap
            self._r = r
            if level != self._raw[i]:
                self._settle(t, sink)   # what had settled before this edge, in order
                self._change(i, level, t)
        # Compare with the pins: IRQs the scheduler dropped, or a ring that overflowed.
        pins = self._pins
        for i in range(self.n):
            level = pins[i].value()
            if level != self._raw[i]:
                self._settle(now_ms, sink)
                self._change(i, level, now_ms)
        self._settle(now_ms, sink)

    def _change(self, i, level, t):
        was = self._raw[i] != self._stable[i]
        self._raw[i] = level
        self._edge[i] = t
        now = level != self._stable[i]
        if now and not was:
            self._unsettled += 1
        elif was and not now:
            self._unsettled -= 1        # back to the accepted level: a pulse, ignored

    def _settle(self, t, sink):
        """Accept every level that has been stable for its debounce by t, in the order their
        debounce ran out (the order a prompt loop would have reported them)."""
        while self._unsettled:
            best = -1
            late = 0
            for i in range(self.n):
                if self._raw[i] != self._stable[i]:
                    d = ticks_diff(t, self._edge[i]) - self._db[i]
                    if d >= 0 and (best < 0 or d > late):
                        best = i
                        late = d
            if best < 0:
                return
            level = self._raw[best]
            self._stable[best] = level
            self._unsettled -= 1
            sink(best, level == self._act[best], self._edge[best])

    def active(self, zone_index):
        """The debounced state: True if the zone is active (NC opened / NO closed)."""
        return self._stable[zone_index] == self._act[zone_index]

    def open_zones(self):
        """Indexes of the zones active now (for arming checks; allocates a list)."""
        return [i for i in range(self.n) if self._stable[i] == self._act[i]]

    def deinit(self):
        for p in self._pins:
            p.irq(handler=None)
