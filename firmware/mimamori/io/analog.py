# The analogue supervision inputs: landline voltage (断線監視), standby battery voltage, and the
# mains (AC) sense input. Read once a second and handed to core.supervision.Supervisor, which
# does all the deciding (debounce, hysteresis, reports). Allocation-free in steady state: ADC
# readings are small ints and the scaling is integer arithmetic (a float would be a heap object).
#
#   analog = Analog(sup, config["supervision"], ticks_ms())
#   every loop: analog.poll(now)      # reads at most once per period_ms
#
# Wiring assumptions (change the dividers here or pass them in, if the board differs):
# - ESP32 ADC1 pins only (ADC2 cannot be read while Wi-Fi is on), 11 dB attenuation: the pin
#   reads about 0.15-2.45 V linearly (read_uv applies the chip's eFuse calibration).
# - Line: the line adapter presents the line's DC voltage through 1 MOhm / 39 kOhm (isolated
#   from ringing by the adapter): 48 V on-hook -> 1.80 V at the pin, up to 60 V stays readable
#   (2.25 V), 0 V when cut.
# - Battery: 12 V lead-acid through 100 kOhm / 18 kOhm: 11.5 V -> 1.75 V, 15 V (charger
#   fault) -> 2.29 V, still inside the 11 dB range.
# - AC sense: the mains-presence opto (or the 15 V adapter's output through a divider) drives
#   the pin high while mains is present. GPIO34-39 have no pull-ups: the circuit drives both ways.
from machine import ADC, Pin

from mimamori.compat import const, ticks_add, ticks_diff

# Divider ratios as (top + bottom, bottom) in ohms: real mV = pin mV * num // den.
LINE_DIVIDER = (1039000, 39000)
BATTERY_DIVIDER = (118000, 18000)
AC_PRESENT_LEVEL = const(1)
PERIOD_MS = const(1000)     # supervision debounces are 10 s and more: once a second is plenty
SAMPLES = const(4)          # averaged per reading: the ESP32 ADC is noisy by a few LSB


def _adc(gpio):
    adc = ADC(Pin(gpio))
    adc.atten(ADC.ATTN_11DB)    # the default 0 dB range ends at 0.95 V
    return adc


class Analog:
    def __init__(self, sup, supervision, now, period_ms=PERIOD_MS, line_divider=LINE_DIVIDER,
                 battery_divider=BATTERY_DIVIDER, ac_present_level=AC_PRESENT_LEVEL):
        self._sup = sup
        self._period = period_ms
        cfg = supervision or {}
        lv = cfg.get("line_voltage")
        bat = cfg.get("battery")
        ac = cfg.get("ac_sense_gpio")
        # The hardware, public for the installer's tools and the tests (None: not wired).
        self.line_adc = _adc(lv["gpio"]) if lv else None
        self.battery_adc = _adc(bat["gpio"]) if bat else None
        self.ac_pin = Pin(ac, Pin.IN) if ac is not None else None
        # Scale factors reduced so that (uV // 100) * num stays a small int (< 2**30) on the
        # 32-bit MicroPython: uV <= 3.3e6 -> 33000 * num stays below 1e9 with num <= 20000.
        self._ln, self._ld = self._reduce(line_divider)
        self._bn, self._bd = self._reduce(battery_divider)
        self._ac_level = ac_present_level
        self._last = ticks_add(now, -period_ms)     # the first poll reads at once
        # Last readings, for the `state` topic and the installer's walk test (None: not wired).
        self.line_mv = None
        self.battery_mv = None
        self.ac_present = None

    @staticmethod
    def _reduce(divider):
        num, den = divider
        while num > 20000:
            num //= 10
            den //= 10
        return num, den * 10            # *10: the reading is in units of 100 uV

    def _mv(self, adc, num, den):
        total = 0
        for _ in range(SAMPLES):
            total += adc.read_uv()
        return (total // SAMPLES // 100) * num // den

    def poll(self, now):
        """Read and feed the supervisor when a period has passed; True if it read."""
        if ticks_diff(now, self._last) < self._period:
            return False
        self._last = now
        sup = self._sup
        if self.line_adc is not None:
            mv = self._mv(self.line_adc, self._ln, self._ld)
            self.line_mv = mv
            sup.line_voltage(mv, now)
        if self.battery_adc is not None:
            mv = self._mv(self.battery_adc, self._bn, self._bd)
            self.battery_mv = mv
            sup.battery(mv, now)
        if self.ac_pin is not None:
            present = self.ac_pin.value() == self._ac_level
            self.ac_present = present
            sup.ac_power(present, now)
        return True
