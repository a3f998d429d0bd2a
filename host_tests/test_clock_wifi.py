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
