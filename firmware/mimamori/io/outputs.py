# Renders the core's OutputState (mimamori.core.outputs) onto pins, once per loop:
#
#   outs = Outputs(config["outputs"])
#   every loop: outs.render(arming.outputs, ticks_ms())
#
# The core says what (siren on, flash, which buzzer pattern); this module owns the timing (blink
# phases, buzzer cadence), measured from the moment each pattern started. A pin or the PWM is
# written only when its level or tone changes, and render() allocates nothing.
#
# Outputs are active high (each drives a transistor or relay driver). Pins: siren, flash_light,
# buzzer (piezo through PWM), and the optional LEDs led_away, led_stay, led_partial (one per
# mode), led_trouble and led_memory (alarm memory LED).
#
# Buzzer cadences: flat (tone Hz, ms) pairs played in a loop from the pattern's start; tone 0 is
# silence. A resident can tell every pattern apart:
#
# | pattern | cadence                                             | cycle   |
# | ------- | --------------------------------------------------- | ------- |
# | off     | silent                                              | -       |
# | exit    | 2700 Hz 200 ms, silent 800 ms: one beep a second    | 1 s     |
# | entry   | 2700 Hz 100 ms, silent 100 ms: fast beeps (5 / s)   | 200 ms  |
# | glass   | 2400 Hz 250 ms, 3200 Hz 250 ms: continuous warble   | 500 ms  |
# | fire    | temporal-3 (ISO 8201): 3100 Hz 500 ms, silent 500   | 4 s     |
# |         | ms, three times, then silent 1.5 s                  |         |
# | alarm   | 2700 Hz continuous                                  | -       |
# | trouble | 2700 Hz 100 ms chirp, silent 29.9 s                 | 30 s    |
# | remind  | 2700 Hz 100 ms, silent 100, 100 ms, silent 9.7 s    | 10 s    |
# | call    | 1300 Hz 300 ms, 1000 Hz 400 ms, silent 2.3 s        | 3 s     |
# | chime   | 1300 Hz 300 ms, 1000 Hz 400 ms (held 700 ms: once)  | -       |
#
# LEDs: a mode LED is lit while that mode is set and blinks 500 ms on / 500 ms off during the
# exit delay (state.arming); the flash light blinks 500 / 500; the trouble LED is steady; the
# alarm memory LED blinks 200 ms on / 800 ms off.
from mimamori.compat import const, ticks_diff
from mimamori.core import outputs as out
from mimamori.core.vocab import ARM_MODES

TONE_HZ = const(2700)           # a typical piezo's resonance: loudest for the drive
DUTY_ON = const(32768)          # 50 %: the loudest square wave
BLINK_MS = const(500)           # flash light and arming mode LED: half of a 1 s period
MEMORY_ON_MS = const(200)
MEMORY_PERIOD_MS = const(1000)

CADENCE_EXIT = (TONE_HZ, 200, 0, 800)
CADENCE_ENTRY = (TONE_HZ, 100, 0, 100)
CADENCE_GLASS = (2400, 250, 3200, 250)
CADENCE_FIRE = (3100, 500, 0, 500, 3100, 500, 0, 500, 3100, 500, 0, 1500)
CADENCE_ALARM = (TONE_HZ, 1000)
CADENCE_TROUBLE = (TONE_HZ, 100, 0, 29900)
CADENCE_REMIND = (TONE_HZ, 100, 0, 100, TONE_HZ, 100, 0, 9700)
CADENCE_CALL = (1300, 300, 1000, 400, 0, 2300)    # ding-dong: a call, not an alarm
CADENCE_CHIME = (1300, 300, 1000, 400)            # the core holds it for one ding-dong
CADENCE_OFF = (0, 1000)

CADENCES = {
    out.BUZ_OFF: CADENCE_OFF,
    out.BUZ_EXIT: CADENCE_EXIT,
    out.BUZ_ENTRY: CADENCE_ENTRY,
    out.BUZ_GLASS: CADENCE_GLASS,
    out.BUZ_FIRE: CADENCE_FIRE,
    out.BUZ_ALARM: CADENCE_ALARM,
    out.BUZ_TROUBLE: CADENCE_TROUBLE,
    out.BUZ_REMIND: CADENCE_REMIND,
    out.BUZ_CALL: CADENCE_CALL,
    out.BUZ_CHIME: CADENCE_CHIME,
}

_MODE_KEYS = tuple(["led_" + m for m in ARM_MODES])   # outputs.led_away, led_stay, ...


def _cycle(cadence):
    total = 0
    for k in range(1, len(cadence), 2):
        total += cadence[k]
    return total


def tone_at(cadence, elapsed_ms, cycle=0):
    """The tone (Hz, 0 = silent) a cadence plays elapsed_ms after it started."""
    pos = elapsed_ms % (cycle or _cycle(cadence))
    for k in range(0, len(cadence), 2):
        pos -= cadence[k + 1]
        if pos < 0:
            return cadence[k]
    return 0


class Outputs:
    def __init__(self, pins_config, machine_module=None):
        if machine_module is None:
            import machine as machine_module
        self._m = machine_module
        self._siren = self._out(pins_config["siren"])
        self._flash = self._out(pins_config["flash_light"])
        self._pwm = machine_module.PWM(machine_module.Pin(pins_config["buzzer"]), freq=TONE_HZ,
                                       duty_u16=0)
        self._leds = tuple(self._out(pins_config.get(k)) for k in _MODE_KEYS)
        self._trouble = self._out(pins_config.get("led_trouble"))
        self._memory = self._out(pins_config.get("led_memory"))
        self._levels = bytearray(8)     # last written: siren, flash, 3 mode LEDs, trouble, memory
        self._flash_t0 = 0
        self._flashing = False
        self._arm_t0 = 0
        self._arming = False
        self._mem_t0 = 0
        self._mem_on = False
        self._buz = out.BUZ_OFF
        self._cadence = CADENCE_OFF
        self._cycle = _cycle(CADENCE_OFF)
        self._buz_t0 = 0
        self._tone = 0

    def _out(self, gpio):
        if gpio is None:
            return None
        Pin = self._m.Pin
        return Pin(gpio, Pin.OUT, value=0)

    def _set(self, k, pin, level):
        if pin is not None and self._levels[k] != level:
            self._levels[k] = level
            pin.value(level)

    def render(self, state, now_ms):
        self._set(0, self._siren, 1 if state.siren else 0)

        if state.flash:
            if not self._flashing:
                self._flashing = True
                self._flash_t0 = now_ms
            lit = ticks_diff(now_ms, self._flash_t0) % (2 * BLINK_MS) < BLINK_MS
            self._set(1, self._flash, 1 if lit else 0)
        else:
            self._flashing = False
            self._set(1, self._flash, 0)

        if state.arming and not self._arming:
            self._arm_t0 = now_ms
        self._arming = state.arming
        blink_on = ticks_diff(now_ms, self._arm_t0) % (2 * BLINK_MS) < BLINK_MS
        for k in range(3):
            lit = state.mode == ARM_MODES[k] and (blink_on or not state.arming)
            self._set(2 + k, self._leds[k], 1 if lit else 0)

        self._set(5, self._trouble, 1 if state.trouble else 0)

        if state.alarm_memory:
            if not self._mem_on:
                self._mem_on = True
                self._mem_t0 = now_ms
            lit = ticks_diff(now_ms, self._mem_t0) % MEMORY_PERIOD_MS < MEMORY_ON_MS
            self._set(6, self._memory, 1 if lit else 0)
        else:
            self._mem_on = False
            self._set(6, self._memory, 0)

        pattern = state.buzzer
        if pattern != self._buz:
            self._buz = pattern
            # An unknown pattern sounds (continuous) rather than leaving the panel silent.
            self._cadence = CADENCES.get(pattern, CADENCE_ALARM)
            self._cycle = _cycle(self._cadence)
            self._buz_t0 = now_ms
        tone = tone_at(self._cadence, ticks_diff(now_ms, self._buz_t0), self._cycle)
        if tone != self._tone:
            self._tone = tone
            if tone:
                self._pwm.freq(tone)
                self._pwm.duty_u16(DUTY_ON)
            else:
                self._pwm.duty_u16(0)

    def buzzer_tone(self):
        """The tone the buzzer plays now (Hz, 0 = silent): for the walk test and the simulator."""
        return self._tone

    def off(self):
        """Everything off (before a deliberate reset or deep sleep)."""
        for k, pin in ((0, self._siren), (1, self._flash), (5, self._trouble), (6, self._memory)):
            self._set(k, pin, 0)
        for k in range(3):
            self._set(2 + k, self._leds[k], 0)
        self._pwm.duty_u16(0)
        self._tone = 0
