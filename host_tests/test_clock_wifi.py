# The wall clock from the RTC (report timestamps, command freshness, departure times) and the
# Wi-Fi station that never blocks the loop.
RUNS_ON_MICROPYTHON = True

import hostclock
import machine
import network

from mimamori.io.clock import WallClock, days_from_civil, civil_from_unix
from mimamori.io.wifi import Wifi


def test_civil_dates_round_trip_across_leap_years():
    assert days_from_civil(1970, 1, 1) == 0
    assert days_from_civil(2000, 3, 1) == 11017          # 2000 was a leap year
    for t in (0, 951782400, 1709164800, 1795316400, 4102444799):
        y, mo, d, h, mi, s = civil_from_unix(t)
        assert days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s == t
    assert civil_from_unix(1709164800)[:3] == (2024, 2, 29)


def test_unset_rtc_means_unknown_not_a_wrong_time():
    machine.reset_all()                                   # RTC at 2000-01-01 after power loss
    w = WallClock(machine.RTC(), 540)
    assert w.unix() is None and w.iso() is None and w.seconds_until(8, 0) is None


def test_iso_time_with_the_japan_offset_and_departure_seconds():
    machine.reset_all()
    w = WallClock(machine.RTC(), 540)
    w.set_unix(1795316400)                                # 2026-11-22 03:00:00 UTC
    assert w.iso() == "2026-11-22T12:00:00+09:00"
    assert w.seconds_until(12, 10) == 600
    assert w.seconds_until(11, 40) == 24 * 3600 - 1200    # tomorrow
    assert WallClock(machine.RTC(), -150).iso() == "2026-11-22T00:30:00-02:30"


def test_wifi_connects_without_blocking_and_retries_after_a_cut():
    machine.reset_all()
    network.reset()
    network.set_ap("house", "correct horse battery")
    clock = hostclock.clock
    wifi = Wifi("house", "correct horse battery", network)
    assert "correct horse" not in repr(wifi)               # the password never shows
    up = wifi.poll(hostclock.ticks_ms())                   # starts the attempt, returns at once
    assert up is False
    for _ in range(40):
        clock.advance(100)
        up = wifi.poll(hostclock.ticks_ms())
    assert up and wifi.connects == 1
    network.cut_link()
    clock.advance(100)
    assert wifi.poll(hostclock.ticks_ms()) is False
    network.restore_link()
    for _ in range(100):
        clock.advance(100)
        up = wifi.poll(hostclock.ticks_ms())
    assert up and wifi.connects == 2


def test_wifi_with_a_wrong_password_keeps_trying_with_backoff():
    machine.reset_all()
    network.reset()
    network.set_ap("house", "correct horse battery")
    wifi = Wifi("house", "wrong password!", network)
    attempts = 0
    for _ in range(600):                                   # one minute of loops
        hostclock.clock.advance(100)
        before = wifi._retry_at
        wifi.poll(hostclock.ticks_ms())
        if wifi._retry_at != before:
            attempts += 1
    assert not wifi.wlan.isconnected()
    assert 3 <= attempts <= 6                              # 2, 4, 8, 16, 32 s apart: not a storm


# ---- time from the centre's signed acks (issue 10.13, issue 9.13) ---------------------------
T0 = 1795316400                                           # 2026-11-22 03:00:00 UTC


def _clock_at(t):
    machine.reset_all()
    w = WallClock(machine.RTC(), 540)
    if t is not None:
        w.set_unix(t)
    return w


def test_a_centre_a_few_seconds_behind_never_makes_a_report_time_run_backwards():
    w = _clock_at(T0)
    first = w.iso()                                       # stamped on a report
    w.centre_time(T0 - 10)                                # the centre's clock is 10 s behind
    hostclock.clock.advance(1000)
    second = w.iso()                                      # the next report, 1 s later
    assert second >= first                                # never earlier than the one before
    hostclock.clock.advance(15000)                        # once the RTC has caught up ...
    assert w.iso() > first and w.unix() == T0 + 6         # ... it runs with the centre's time


def test_an_ack_with_t_zero_or_before_2025_leaves_the_clock_as_it_is():
    for t in (0, 1, 946684800, 1735689599):               # 1970, 2000-01-01, 2024-12-31
        w = _clock_at(T0)
        assert "ignored" in w.centre_time(t)
        assert w.unix() == T0
        w = _clock_at(None)                               # unset RTC: stays unset, not 1970
        w.centre_time(t)
        assert w.unix() is None


def test_an_unset_rtc_is_set_from_the_first_plausible_centre_time():
    w = _clock_at(None)
    assert "set" in w.centre_time(T0)
    assert w.iso() == "2026-11-22T12:00:00+09:00"


def test_a_day_old_centre_time_does_not_move_a_set_clock_back():
    w = _clock_at(T0)
    msg = w.centre_time(T0 - 86400)
    assert "ignored" in msg and w.unix() == T0
    hostclock.clock.advance(60000)
    w.centre_time(T0 + 60 - 86400)                        # not the same error twice in a row
    assert w.unix() == T0 + 60


def test_the_centre_steps_a_slow_clock_forward_and_says_so():
    w = _clock_at(T0)
    assert w.centre_time(T0 + 1) is None                  # within 2 s: left alone
    assert w.unix() == T0
    msg = w.centre_time(T0 + 3600)
    assert "forward" in msg and w.unix() == T0 + 3600


def test_a_clock_evidently_ahead_is_set_back_when_the_centre_keeps_saying_so():
    # An RTC a week ahead (set by a centre whose clock was wrong, since corrected): three acks
    # in a row that all put it a week ahead, one minute apart, bring it back (logged).
    w = _clock_at(T0 + 7 * 86400)
    msgs = []
    for i in range(3):
        msgs.append(w.centre_time(T0 + i * 60))
        hostclock.clock.advance(60000)
    assert "ignored" in msgs[0] and "ignored" in msgs[1]
    assert "back" in msgs[2]
    assert abs(w.unix() - (T0 + 180)) <= 1
