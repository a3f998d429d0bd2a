# Wall-clock time from the RTC, for timestamps in reports and for the few wall-time rules
# (command freshness, departure time). Intervals never use this: they use ticks (compat.py).
# The ESP32's RTC restarts at 2000-01-01 after a power loss until NTP sets it, so a year before
# VALID_FROM means "unknown" and callers get None rather than a wrong time.
from mimamori.compat import const

VALID_FROM = const(2024)
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

    def iso(self):
        """ISO 8601 local time with its offset, e.g. 2026-11-22T12:34:56+09:00; None if unset."""
        t = self.unix()
        if t is None:
            return None
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
