# Wall-clock time from the RTC, for timestamps in reports and for the few wall-time rules
# (command freshness, departure time). Intervals never use this: they use ticks (compat.py).
# The ESP32's RTC restarts at 2000-01-01 after a power loss until NTP sets it, so a year before
# VALID_FROM means "unknown" and callers get None rather than a wrong time.
#
# Report times never run backwards (issue 10.13): iso() never returns an earlier second than
# the one it returned before, and the centre's time (from its signed acks) moves the RTC by this
# rule, centre_time():
#   - a `t` before PLAUSIBLE_FROM (2025-01-01, before this firmware was built: an unset centre
#     clock, t = 0) or after PLAUSIBLE_UNTIL is ignored: the RTC stays as it is (set or unset);
#   - an unset RTC is set; a difference of up to TOLERANCE_S is left alone;
#   - the RTC behind the centre: stepped forward (time only moves on; logged);
#   - the RTC ahead by at most SLEW_BACK_S: set back, and report times hold at the last one
#     stamped until the RTC has caught up (a slew: a few reports share a second, none goes back);
#   - the RTC ahead by more: a stale or wrong `t` (a day-old time) is refused and logged. Only
#     when CONFIRM_ACKS acks in a row agree on the same offset (a live centre clock saying it
#     again and again: the RTC is evidently wrong, e.g. pushed ahead by a centre clock that has
#     since been corrected) is it stepped back, loudly: then, once, report times do go back.
# Every change returns a log line (the app logs it); None when nothing changed.
from mimamori.compat import const

VALID_FROM = const(2024)
PLAUSIBLE_FROM = const(1735689600)   # 2025-01-01T00:00:00Z: the firmware's build year
PLAUSIBLE_UNTIL = 4102444800         # 2100-01-01 (beyond the ESP32 RTC's date range anyway)
TOLERANCE_S = const(2)
SLEW_BACK_S = const(300)
CONFIRM_ACKS = const(3)
CONFIRM_SPREAD_S = const(60)         # acks "agree" when their offsets differ by at most this
_DAYS_BEFORE_MONTH = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)


def days_from_civil(y, m, d):
    """Days since 1970-01-01 (proleptic Gregorian): the same on every port, unlike time.mktime
    whose epoch is 2000 on most MicroPython ports and 1970 on CPython."""
    leap = 1 if (m > 2 and (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0))) else 0
    yy = y - 1
    return (365 * (y - 1970) + (yy // 4 - 1969 // 4) - (yy // 100 - 1969 // 100)
            + (yy // 400 - 1969 // 400) + _DAYS_BEFORE_MONTH[m - 1] + leap + d - 1)


def civil_from_unix(t):
    """(year, month, day, hour, minute, second) in UTC for Unix seconds t."""
    days, rem = divmod(t, 86400)
    y = 1970 + days // 366
    while days_from_civil(y + 1, 1, 1) <= days:
        y += 1
    m = 12
    while days_from_civil(y, m, 1) > days:
        m -= 1
    d = days - days_from_civil(y, m, 1) + 1
    return y, m, d, rem // 3600, rem % 3600 // 60, rem % 60


class WallClock:
    def __init__(self, rtc, utc_offset_min=540):
        self.rtc = rtc                 # machine.RTC(), set to UTC (by NTP or the installer)
        self.offset_min = utc_offset_min
        self._last = 0                 # the latest unix second iso() has returned (the floor)
        self._behind = 0               # acks in a row that put the RTC far ahead ...
        self._behind_by = 0            # ... and by how much (seconds)

    def unix(self):
        """Unix seconds (UTC), or None while the RTC has not been set."""
        y, mo, d, _wd, h, mi, s, _us = self.rtc.datetime()
        if y < VALID_FROM:
            return None
        return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s

    def set_unix(self, t):
        y, mo, d, h, mi, s = civil_from_unix(int(t))
        wd = (days_from_civil(y, mo, d) + 3) % 7   # 1970-01-01 was a Thursday; Monday = 0
        self.rtc.datetime((y, mo, d, wd, h, mi, s, 0))

    def centre_time(self, t):
        """The centre's clock (Unix seconds) from a signed ack: apply the rule above. Returns
        the log line of what was done (or refused), None when nothing needed doing."""
        if not isinstance(t, int) or t < PLAUSIBLE_FROM or t > PLAUSIBLE_UNTIL:
            return "clock: centre time %r implausible, ignored" % (t,)
        mine = self.unix()
        if mine is None:
            self.set_unix(t)
            self._behind = 0
            return "clock set from the centre (RTC was unset)"
        d = t - mine
        if -TOLERANCE_S <= d <= TOLERANCE_S:
            self._behind = 0
            return None
        if d > 0:
            self.set_unix(t)
            self._behind = 0
            return "clock stepped forward %d s from the centre" % d
        if -d <= SLEW_BACK_S:
            self.set_unix(t)
            self._behind = 0
            return "clock set back %d s from the centre; report times hold until it catches up" % -d
        if self._behind and abs(-d - self._behind_by) <= CONFIRM_SPREAD_S:
            self._behind += 1
        else:
            self._behind = 1
        self._behind_by = -d
        if self._behind < CONFIRM_ACKS:
            return "clock: centre time %d s behind ours ignored (stale?) %d/%d" % (
                -d, self._behind, CONFIRM_ACKS)
        self.set_unix(t)
        self._behind = 0
        self._last = 0
        return "clock stepped back %d s: %d acks in a row agree the RTC was ahead" % (-d, CONFIRM_ACKS)

    def iso(self):
        """ISO 8601 local time with its offset, e.g. 2026-11-22T12:34:56+09:00; None if unset.
        Never earlier than the time it returned before (report times are monotonic)."""
        t = self.unix()
        if t is None:
            return None
        if t < self._last:
            t = self._last
        else:
            self._last = t
        y, mo, d, h, mi, s = civil_from_unix(t + self.offset_min * 60)
        off = self.offset_min
        sign = "+" if off >= 0 else "-"
        off = abs(off)
        return "%04d-%02d-%02dT%02d:%02d:%02d%s%02d:%02d" % (y, mo, d, h, mi, s, sign, off // 60,
                                                            off % 60)

    def seconds_until(self, hh, mm):
        """Seconds from now until the next local hh:mm (for a departure time), None if unset."""
        t = self.unix()
        if t is None:
            return None
        local = (t + self.offset_min * 60) % 86400
        target = hh * 3600 + mm * 60
        return (target - local) % 86400
