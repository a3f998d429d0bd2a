# The hardware edge (firmware/mimamori/io): zone contacts through fake ESP32 pins and the virtual
# clock, and what the siren, flash light, LEDs and buzzer do. Runs on CPython and on the real
# MicroPython, where the allocation checks (heap_lock) are real.
RUNS_ON_MICROPYTHON = True

import sys

import hostclock
import machine
import micropython
from check import raises
from mimamori import compat
from mimamori.core import outputs as out
from mimamori.io.inputs import ZoneInputs
from mimamori.io.outputs import Outputs

ON_MICROPYTHON = sys.implementation.name == "micropython"


def _board():
    machine.reset_all()
    return hostclock.use_virtual(0)


def _at(clock, ms):
    clock.advance(ms - clock.now_ms)


def _zone(gpio, zid=1, wiring="NC", pull="up", debounce_ms=50):
    return {"id": zid, "gpio": gpio, "wiring": wiring, "pull": pull, "debounce_ms": debounce_ms}


class Sink:
    def __init__(self):
        self.calls = []

    def __call__(self, zone_index, active, edge_ticks):
        self.calls.append((zone_index, active, edge_ticks))


def test_bounce_shorter_than_debounce_is_ignored():
    clock = _board()
    pin = machine.Pin(4)
    pin.drive(0)                        # NC contact closed: door shut
    zones = ZoneInputs([_zone(4)])
    sink = Sink()
    _at(clock, 100)
    pin.drive(1)                        # contact chatters open for 30 ms
    _at(clock, 130)
    pin.drive(0)
    for t in (140, 200, 1000):
        _at(clock, t)
        zones.poll(compat.ticks_ms(), sink)
    assert sink.calls == []
    assert not zones.active(0)


def test_open_accepted_exactly_at_debounce():
    clock = _board()
    pin = machine.Pin(4)
    pin.drive(0)
    zones = ZoneInputs([_zone(4, debounce_ms=50)])
    sink = Sink()
    _at(clock, 100)
    pin.drive(1)                        # the door opens and stays open
    _at(clock, 149)
    zones.poll(compat.ticks_ms(), sink)
    assert sink.calls == []
    _at(clock, 150)
    zones.poll(compat.ticks_ms(), sink)
    assert sink.calls == [(0, True, 100)]
    assert zones.active(0) and zones.open_zones() == [0]
    zones.poll(compat.ticks_ms(), sink)
    assert len(sink.calls) == 1         # reported once


def test_nc_and_no_wiring_with_each_pull():
    clock = _board()
    machine.Pin(4).drive(0)             # NC, pull-up: closed contact pulls to GND (normal)
    # NO, pull-up: contact open, the pull-up holds 1 (normal)
    machine.Pin(17).drive(1)            # NC, pull-down: closed contact to 3V3 (normal)
    # NO, pull-down: contact open, the pull-down holds 0 (normal)
    machine.Pin(35).drive(1)            # NO, no pull on GPIO35: external pull-up holds 1
    zones = ZoneInputs([_zone(4, 1, "NC", "up"), _zone(16, 2, "NO", "up"),
                        _zone(17, 3, "NC", "down"), _zone(18, 4, "NO", "down"),
                        _zone(35, 5, "NO", "none")])
    assert zones.open_zones() == []
    machine.Pin(4).drive(1)             # NC opened
    machine.Pin(16).drive(0)            # NO closed
    machine.Pin(17).release()           # NC opened: the pull-down wins
    machine.Pin(18).drive(1)            # NO closed to 3V3
    machine.Pin(35).drive(0)            # NO closed to GND
    sink = Sink()
    _at(clock, 50)
    zones.poll(compat.ticks_ms(), sink)
    assert sorted(sink.calls) == [(0, True, 0), (1, True, 0), (2, True, 0), (3, True, 0),
                                  (4, True, 0)]
    assert zones.open_zones() == [0, 1, 2, 3, 4]


def test_edges_while_the_loop_was_busy_keep_their_own_times():
    clock = _board()
    door = machine.Pin(4)
    door.drive(0)
    fire = machine.Pin(19)              # smoke detector relay, NO, pull-up
    zones = ZoneInputs([_zone(4, 1), _zone(19, 7, "NO", debounce_ms=500)])
    sink = Sink()
    _at(clock, 100)
    fire.drive(0)                       # smoke: settles at 600
    _at(clock, 200)
    door.drive(1)                       # door opens: settles at 250
    _at(clock, 3000)
    door.drive(0)                       # and shuts again: settles at 3050
    _at(clock, 5000)                    # the loop was stuck on the network until now
    zones.poll(compat.ticks_ms(), sink)
    # What a prompt loop would have reported, in the same order, with the edges' own times.
    assert sink.calls == [(0, True, 200), (1, True, 100), (0, False, 3000)]
    assert zones.open_zones() == [1]


def test_busy_loop_never_reports_a_short_pulse():
    clock = _board()
    door = machine.Pin(4)
    door.drive(0)
    zones = ZoneInputs([_zone(4, debounce_ms=50)])
    sink = Sink()
    _at(clock, 100)
    door.drive(1)
    _at(clock, 120)
    door.drive(0)
    _at(clock, 4000)
    zones.poll(compat.ticks_ms(), sink)
    assert sink.calls == []


def test_debounce_across_the_ticks_wrap():
    clock = hostclock.use_virtual(hostclock.TICKS_PERIOD - 30)
    machine.reset_all()
    pin = machine.Pin(4)
    pin.drive(0)
    zones = ZoneInputs([_zone(4, debounce_ms=50)])
    sink = Sink()
    clock.advance(10)
    edge = compat.ticks_ms()            # 20 ms before ticks_ms wraps to 0
    pin.drive(1)
    clock.advance(49)
    zones.poll(compat.ticks_ms(), sink)
    assert sink.calls == []
    clock.advance(1)
    zones.poll(compat.ticks_ms(), sink)
    assert sink.calls == [(0, True, edge)] and compat.ticks_ms() < edge


def test_ring_overflow_resyncs_from_the_pins():
    clock = _board()
    pin = machine.Pin(4)
    pin.drive(0)
    zones = ZoneInputs([_zone(4)], ring_size=4)
    sink = Sink()
    for k in range(9):                  # nine edges into a ring of four: ends open
        _at(clock, 100 + k)
        pin.drive(1 if k % 2 == 0 else 0)
    _at(clock, 120)
    zones.poll(compat.ticks_ms(), sink)
    assert zones.overflows == 1
    assert sink.calls == []             # seen at 120, still settling
    _at(clock, 170)
    zones.poll(compat.ticks_ms(), sink)
    assert sink.calls == [(0, True, 120)]
    # the ring works again afterwards
    _at(clock, 1000)
    pin.drive(0)
    _at(clock, 1050)
    zones.poll(compat.ticks_ms(), sink)
    assert sink.calls[-1] == (0, False, 1000)


def test_irqs_dropped_by_the_scheduler_are_caught_from_the_pin():
    clock = _board()
    pin = machine.Pin(4)
    pin.drive(0)
    zones = ZoneInputs([_zone(4)])
    sink = Sink()
    machine.hold_scheduler()            # main task blocked in C: soft IRQs queue, then drop
    for k in range(21):
        _at(clock, 100 + k)
        pin.drive(1 if k % 2 == 0 else 0)
    assert machine.dropped_irqs == 21 - machine.SCHEDULER_DEPTH
    _at(clock, 200)
    machine.release_scheduler()         # the 8 queued handlers run now, reading level 1
    zones.poll(compat.ticks_ms(), sink)
    _at(clock, 250)
    zones.poll(compat.ticks_ms(), sink)
    assert sink.calls == [(0, True, 200)]
    assert zones.active(0)


def test_only_pins_of_zones_get_irqs_and_deinit_detaches():
    _board()
    zones = ZoneInputs([_zone(4), _zone(5, 2)])
    assert machine.pins[4].irq_handler is not None
    assert machine.pins[4].irq_trigger == machine.Pin.IRQ_RISING | machine.Pin.IRQ_FALLING
    assert machine.pins[4].mode == machine.Pin.IN
    assert machine.pins[4].pull == machine.Pin.PULL_UP
    zones.deinit()
    assert machine.pins[4].irq_handler is None


OUT_PINS = {"siren": 25, "flash_light": 26, "buzzer": 27, "led_away": 2, "led_stay": 15,
            "led_partial": 13, "led_trouble": 12, "led_memory": 14}


def _tone_track(pattern, until_ms, step=10):
    """(t, tone) at every change of the buzzer while `pattern` plays from t=0."""
    _board()
    outs = Outputs(OUT_PINS)
    st = out.OutputState()
    st.buzzer = pattern
    pwm = outs._pwm
    track = []
    last = None
    for t in range(0, until_ms, step):
        outs.render(st, t)
        tone = pwm.freq() if pwm.sounding() else 0
        if tone != last:
            track.append((t, tone))
            last = tone
    return track


def test_buzzer_exit_beeps_once_a_second():
    assert _tone_track(out.BUZ_EXIT, 2100) == [(0, 2700), (200, 0), (1000, 2700), (1200, 0),
                                               (2000, 2700)]


def test_buzzer_entry_beeps_fast():
    assert _tone_track(out.BUZ_ENTRY, 500) == [(0, 2700), (100, 0), (200, 2700), (300, 0),
                                               (400, 2700)]


def test_buzzer_glass_warbles_without_a_gap():
    assert _tone_track(out.BUZ_GLASS, 1000) == [(0, 2400), (250, 3200), (500, 2400), (750, 3200)]


def test_buzzer_fire_is_temporal_three():
    assert _tone_track(out.BUZ_FIRE, 4600) == [
        (0, 3100), (500, 0), (1000, 3100), (1500, 0), (2000, 3100), (2500, 0),
        (4000, 3100), (4500, 0)]


def test_buzzer_alarm_is_continuous_and_off_is_silent():
    assert _tone_track(out.BUZ_ALARM, 5000) == [(0, 2700)]
    assert _tone_track(out.BUZ_OFF, 5000) == [(0, 0)]


def test_buzzer_trouble_chirps_every_thirty_seconds():
    assert _tone_track(out.BUZ_TROUBLE, 61000, 50) == [
        (0, 2700), (100, 0), (30000, 2700), (30100, 0), (60000, 2700), (60100, 0)]


def test_buzzer_remind_double_chirps_every_ten_seconds():
    assert _tone_track(out.BUZ_REMIND, 10400, 50) == [
        (0, 2700), (100, 0), (200, 2700), (300, 0), (10000, 2700), (10100, 0),
        (10200, 2700), (10300, 0)]


def test_buzzer_pattern_restarts_when_it_changes():
    _board()
    outs = Outputs(OUT_PINS)
    st = out.OutputState()
    st.buzzer = out.BUZ_EXIT
    outs.render(st, 0)
    outs.render(st, 700)
    assert outs.buzzer_tone() == 0
    st.buzzer = out.BUZ_ENTRY
    outs.render(st, 750)                # entry starts with a beep at once
    assert outs.buzzer_tone() == 2700
    outs.render(st, 860)
    assert outs.buzzer_tone() == 0


def test_flash_light_blinks_half_a_second_and_siren_follows_state():
    _board()
    outs = Outputs(OUT_PINS)
    st = out.OutputState()
    flash = machine.pins[26]
    siren = machine.pins[25]
    outs.render(st, 0)
    assert flash.value() == 0 and siren.value() == 0
    st.flash = True
    st.siren = True
    seen = []
    for t in range(1000, 3001, 250):
        outs.render(st, t)
        seen.append(flash.value())
    assert seen == [1, 1, 0, 0, 1, 1, 0, 0, 1]
    assert siren.value() == 1
    st.flash = False
    st.siren = False
    outs.render(st, 3100)
    assert flash.value() == 0 and siren.value() == 0


def test_mode_trouble_and_memory_leds():
    _board()
    outs = Outputs(OUT_PINS)
    st = out.OutputState()
    away, stay, part = machine.pins[2], machine.pins[15], machine.pins[13]
    st.mode = "away"
    st.arming = True
    outs.render(st, 0)
    assert (away.value(), stay.value(), part.value()) == (1, 0, 0)
    outs.render(st, 600)
    assert away.value() == 0            # blinking during the exit delay
    outs.render(st, 1000)
    assert away.value() == 1
    st.arming = False
    outs.render(st, 1600)
    assert away.value() == 1            # steady once set
    st.mode = "stay"
    outs.render(st, 1700)
    assert (away.value(), stay.value(), part.value()) == (0, 1, 0)
    st.mode = "disarmed"
    st.trouble = True
    st.alarm_memory = True
    outs.render(st, 2000)
    assert (away.value(), stay.value(), part.value()) == (0, 0, 0)
    assert machine.pins[12].value() == 1
    assert machine.pins[14].value() == 1
    outs.render(st, 2300)
    assert machine.pins[14].value() == 0    # memory: 200 ms on, 800 ms off
    outs.render(st, 3000)
    assert machine.pins[14].value() == 1


def test_leds_are_optional():
    _board()
    outs = Outputs({"siren": 2, "flash_light": 12, "buzzer": 15, "led_trouble": 5})
    st = out.OutputState()
    st.mode = "away"
    st.trouble = True
    outs.render(st, 0)
    assert machine.pins[5].value() == 1


def test_steady_state_allocates_nothing():
    # On MicroPython heap_lock makes any allocation raise MemoryError; on CPython it is a no-op.
    clock = _board()
    door = machine.Pin(4)
    door.drive(0)
    zones = ZoneInputs([_zone(4), _zone(5, 2), _zone(19, 3, "NO", debounce_ms=500)])
    outs = Outputs(OUT_PINS)
    st = out.OutputState()
    st.flash = True
    st.buzzer = out.BUZ_FIRE
    st.mode = "away"
    st.arming = True
    st.alarm_memory = True
    got = bytearray(2)

    def sink(i, active, edge_ticks):
        got[0] = i + 1
        got[1] = 1 if active else 0

    outs.render(st, 0)
    zones.poll(0, sink)
    handler = door.irq_handler
    err = None
    micropython.heap_lock()
    try:
        for t in range(0, 9000, 10):
            zones.poll(t, sink)             # no edges
            outs.render(st, t)              # same state: blinks and cadence run on
        handler(door)                       # the IRQ handler itself
        door.ext = 1                        # (the level it reads, set without the fake's help)
        door._level = 1
        handler(door)
        zones.poll(9100, sink)              # an edge drained and accepted, still no allocation
    except MemoryError as e:
        err = e
    finally:
        micropython.heap_unlock()
    assert err is None, "allocated in the steady state"
    assert bytes(got) == b"\x01\x01"
