# io/analog.py: the line-voltage and battery ADCs and the AC-sense pin, read once a second and
# fed to the supervisor, on the fake ESP32 `machine` (voltages set at the pins in microvolts).
RUNS_ON_MICROPYTHON = True

import machine
from mimamori.compat import ticks_add
from mimamori.core import events as ev
from mimamori.core.supervision import Supervisor, avoid_path
from mimamori.store.config import default_timers
from mimamori.io.analog import Analog, LINE_DIVIDER, BATTERY_DIVIDER

try:
    from micropython import heap_lock, heap_unlock
except ImportError:
    def heap_lock():
        pass

    def heap_unlock():
        pass

CFG = {"line_voltage": {"gpio": 36, "cut_below_mv": 3000},
       "battery": {"gpio": 39, "low_mv": 11500, "ok_mv": 12200},
       "ac_sense_gpio": 35}
START = (1 << 30) - 3000


def pin_uv(mv, divider):
    """The voltage the divider puts on the pin for `mv` at its top, in microvolts."""
    top, bottom = divider
    return mv * bottom // top * 1000


class House:
    def __init__(self, cfg=CFG):
        machine.reset_all()
        self.t = START
        self.events = []
        self.sup = Supervisor(default_timers(), ("mqtt", "line"), self.events.append,
                              lambda p, e: None,
                              self.t, cfg)
        self.analog = Analog(self.sup, cfg, self.t)
        self.set(line_mv=48000, battery_mv=13200, ac=True)

    def set(self, line_mv=None, battery_mv=None, ac=None):
        if line_mv is not None:
            self.analog.line_adc.set_uv(pin_uv(line_mv, LINE_DIVIDER))
        if battery_mv is not None:
            self.analog.battery_adc.set_uv(pin_uv(battery_mv, BATTERY_DIVIDER))
        if ac is not None:
            machine.pins[35].drive(1 if ac else 0)

    def run(self, ms, step=100):
        reads = 0
        while ms > 0:
            self.t = ticks_add(self.t, step)
            ms -= step
            if self.analog.poll(self.t):
                reads += 1
            self.sup.tick(self.t)
        return reads

    def of(self, cid, kind=None):
        return [e for e in self.events if e.cid == cid and (kind is None or e.kind == kind)]


def test_readings_are_scaled_to_real_millivolts():
    h = House()
    h.run(1000)
    assert abs(h.analog.line_mv - 48000) <= 100, h.analog.line_mv
    assert abs(h.analog.battery_mv - 13200) <= 50, h.analog.battery_mv
    assert h.analog.ac_present is True
    h.set(line_mv=58000, battery_mv=14800)      # still inside the ADC's 11 dB range
    h.run(1000)
    assert abs(h.analog.line_mv - 58000) <= 100, h.analog.line_mv
    assert abs(h.analog.battery_mv - 14800) <= 50, h.analog.battery_mv
    assert h.events == []


def test_reads_once_a_second_not_every_loop():
    h = House()
    assert h.run(60 * 1000, step=10) == 60


def test_a_cut_line_becomes_a_trouble_and_comes_back():
    h = House()
    h.run(5000)
    h.set(line_mv=0)
    h.run(1000)                                 # a one-second dip
    h.set(line_mv=48000)
    h.run(5000)
    assert h.of(ev.CID_TELCO_FAULT) == []
    h.set(line_mv=0)
    h.run(12 * 1000)
    cut = h.of(ev.CID_TELCO_FAULT, ev.TROUBLE)
    assert len(cut) == 1 and avoid_path(cut[0]) == "line"
    h.set(line_mv=48000)
    h.run(12 * 1000)
    assert len(h.of(ev.CID_TELCO_FAULT, ev.RESTORE)) == 1


def test_low_battery_and_mains_loss_through_the_pins():
    h = House()
    h.set(battery_mv=11200)
    h.run(61 * 1000, step=500)
    assert [e.kind for e in h.of(ev.CID_LOW_BATTERY)] == [ev.TROUBLE]
    h.set(battery_mv=11900)                     # recovering, not yet above ok_mv
    h.run(120 * 1000, step=500)
    assert len(h.of(ev.CID_LOW_BATTERY)) == 1
    h.set(ac=False)
    h.run(59 * 1000, step=500)
    assert h.of(ev.CID_AC_LOSS) == [] and h.analog.ac_present is False
    h.run(3 * 1000, step=500)
    assert [e.kind for e in h.of(ev.CID_AC_LOSS)] == [ev.TROUBLE]
    h.set(ac=True, battery_mv=13000)
    h.run(70 * 1000, step=500)
    assert [e.kind for e in h.of(ev.CID_AC_LOSS)] == [ev.TROUBLE, ev.RESTORE]
    assert [e.kind for e in h.of(ev.CID_LOW_BATTERY)] == [ev.TROUBLE, ev.RESTORE]


def test_inputs_not_wired_are_not_read():
    machine.reset_all()
    events = []
    sup = Supervisor(default_timers(), ("mqtt",), events.append, lambda p, e: None, 0, None)
    a = Analog(sup, {"line_voltage": None, "battery": None, "ac_sense_gpio": None}, 0)
    assert a.line_adc is None and a.battery_adc is None and a.ac_pin is None
    assert a.poll(1000) is True
    assert a.line_mv is None and events == []


def test_poll_allocates_nothing():
    h = House()
    h.run(3000)
    poll = h.analog.poll
    tick = h.sup.tick
    t = h.t
    heap_lock()
    try:
        for _ in range(3000):
            t = ticks_add(t, 100)
            poll(t)
            tick(t)
    finally:
        heap_unlock()
    assert h.events == []
