# Alarm core scenarios: modes x zone types, delays, cancel window, 24-hour zones, force-arm,
# outputs, restore after power loss. Virtual time: every number of seconds below is exact.
RUNS_ON_MICROPYTHON = True

import micropython

from house import House, ZONES, TIMERS, USER
from check import raises
from mimamori.core import events as ev
from mimamori.core import outputs as out
from mimamori.core.arming import AlarmCore


def armed(mode, start_ms=0):
    h = House(start_ms)
    r = h.arm(mode)
    assert r.ok
    if mode == "away":
        h.wait(61)  # past the exit delay
    h.clear()
    return h


def test_every_mode_by_every_zone_type():
    # (zone id, type) -> in which modes opening it gives an immediate 異常 with its code
    expect_now = {
        5: ("glass", ev.CID_GLASS, ("disarmed", "away", "stay", "partial")),
        6: ("fire", ev.CID_HEAT, ("disarmed", "away", "stay", "partial")),
        7: ("fire", ev.CID_SMOKE, ("disarmed", "away", "stay", "partial")),
        8: ("gas", ev.CID_GAS, ("disarmed", "away", "stay", "partial")),
        9: ("panic", ev.CID_PANIC, ("disarmed", "away", "stay", "partial")),
        10: ("medical", ev.CID_MEDICAL, ("disarmed", "away", "stay", "partial")),
        12: ("tamper", ev.CID_EXPANSION_TAMPER, ("disarmed", "away", "stay", "partial")),
        13: ("vibration", ev.CID_24H_SAFE, ("disarmed", "away", "stay", "partial")),
        2: ("magnet", ev.CID_PERIMETER, ("away",)),          # stay/partial: cancel window
        4: ("space", ev.CID_INTERIOR, ("away",)),            # not armed in stay/partial
        1: ("magnet entry", ev.CID_ENTRY_EXIT, ()),          # entry delay first
        11: ("cancel", 0, ()),
    }
    for mode in ("disarmed", "away", "stay", "partial"):
        for zid, (what, cid, modes) in expect_now.items():
            h = House() if mode == "disarmed" else armed(mode)
            h.open(zid)
            got = h.alarms()
            if mode in modes:
                assert got == [(cid, zid)], (mode, what, got)
            else:
                assert got == [], (mode, what, got)


def test_stay_and_partial_zones_follow_the_configured_modes():
    # zone 3 (2階寝室窓) is armed in away and stay, not partial; zone 4 (space) only in away
    h = armed("partial")
    h.open(3).open(4).wait(40)
    assert h.alarms() == []
    h = armed("stay")
    h.open(3).wait(31)
    assert h.alarms() == [(ev.CID_PERIMETER, 3)]


def test_fire_during_exit_delay_alarms_at_once():
    h = House()
    assert h.arm("away").ok
    h.wait(10).open(6)
    assert h.alarms() == [(ev.CID_HEAT, 6)]
    assert h.core.outputs.buzzer == out.BUZ_FIRE and h.core.outputs.siren
    assert h.core.outputs.flash


def test_fire_during_entry_delay_alarms_at_once():
    h = armed("away")
    h.open(1).wait(5)
    assert h.core.outputs.buzzer == out.BUZ_ENTRY
    h.open(7)
    assert h.alarms() == [(ev.CID_SMOKE, 7)]
    assert h.core.outputs.buzzer == out.BUZ_FIRE


def test_24h_zone_during_cancel_window_and_during_an_alarm():
    h = armed("stay")
    h.open(2)
    h.open(8)  # gas during the cancel window: at once
    assert h.alarms() == [(ev.CID_GAS, 8)]
    h.wait(31)  # window expires: the window too
    assert h.alarms() == [(ev.CID_GAS, 8), (ev.CID_PERIMETER, 2)]
    h.open(9)  # panic during an alarm
    assert h.alarms()[-1] == (ev.CID_PANIC, 9)


def test_glass_while_disarmed_sounds_the_buzzer_and_reports():
    h = House()
    h.open(5)
    assert h.alarms() == [(ev.CID_GLASS, 5)]
    e = [e for e in h.events if e.kind == "alarm"][0]
    assert e.label == "ガラス破壊" and e.service == "A" and e.zone_name == "リビング ガラス"
    o = h.core.outputs
    assert o.buzzer == out.BUZ_GLASS
    assert not o.siren  # buzzer, not the outdoor siren, while the family is at home
    assert o.flash and o.alarm_memory


def test_entry_delay_disarmed_at_29s_sends_no_alarm():
    h = armed("away")
    h.open(1).wait(29)
    h.disarm()
    h.wait(10)
    assert h.alarms() == []
    assert [(e.kind, e.cid, e.qualifier) for e in h.events] == [("opening", 401, 1)]
    assert h.core.outputs.buzzer == out.BUZ_OFF


def test_entry_delay_expired_at_31s_alarms():
    h = armed("away")
    h.open(1).wait(29)
    assert h.alarms() == []
    h.wait(2)
    assert h.alarms() == [(ev.CID_ENTRY_EXIT, 1)]
    assert h.core.outputs.siren and h.core.outputs.buzzer == out.BUZ_ALARM
    h.disarm()
    assert h.kinds()[-2:] == ["cancel", "opening"]  # 406 then 401: the centre sees the disarm
    assert not h.core.outputs.siren and h.core.outputs.flash  # flash until acknowledged


def test_entry_delay_then_interior_zone_alarms_at_once():
    h = armed("away")
    h.open(1).wait(3).open(2)
    assert h.alarms() == [(ev.CID_PERIMETER, 2)]


def test_stay_window_cancelled_sends_nothing():
    h = armed("stay")
    h.open(2)
    assert h.core.outputs.buzzer == out.BUZ_ENTRY
    assert "キャンセル" in h.core.display(h.now)
    h.wait(20)
    h.core.cancel(USER, h.now)
    h.wait(60)
    assert h.events == []
    assert h.core.mode == "stay" and h.core.outputs.buzzer == out.BUZ_OFF
    # the cancelled window is ignored until it closes; opened again later it is armed again
    h.close(2).wait(5).open(2).wait(31)
    assert h.alarms() == [(ev.CID_PERIMETER, 2)]


def test_stay_window_not_cancelled_alarms():
    h = armed("stay")
    h.open(2).wait(29)
    assert h.alarms() == []
    h.wait(1)
    assert h.alarms() == [(ev.CID_PERIMETER, 2)]


def test_cancel_button_cancels_the_window():
    h = armed("partial")
    h.open(2).wait(5).open(11)
    h.wait(60)
    assert h.alarms() == []


def test_disarm_within_cancel_window_sends_only_the_opening():
    h = armed("partial")
    h.open(1).wait(10)
    h.disarm()
    h.wait(60)
    assert [(e.kind, e.cid) for e in h.events] == [("opening", 401)]


def test_open_window_refuses_arming_and_names_it():
    h = House()
    h.open(2)
    r = h.arm("away")
    assert not r.ok
    assert r.open_zones == ["リビング窓"]
    assert r.message() == "セットできません: リビング窓 が開いています"
    assert h.core.mode == "disarmed" and h.events == []
    # a zone not armed in the mode does not block: zone 4 is away-only
    h.close(2).open(4)
    assert h.arm("stay").ok


def test_force_arm_bypass_is_reported_and_not_carried_to_the_next_arming():
    h = House()
    h.open(2)
    r = h.arm("away", force=True)
    assert r.ok and r.open_zones == ["リビング窓"]
    assert [(e.kind, e.cid, e.zone) for e in h.events] == [("bypass", 570, 2), ("closing", 401, 0)]
    h.wait(61)
    h.close(2).open(2)  # bypassed: ignored this arming
    assert h.alarms() == []
    h.disarm()
    h.close(2)
    assert h.arm("away").ok
    h.wait(61).open(2)
    assert h.alarms() == [(ev.CID_PERIMETER, 2)]


def test_exit_delay_lets_the_resident_leave_and_checks_at_its_end():
    h = House()
    h.arm("away")
    assert h.core.outputs.arming and h.core.outputs.buzzer == out.BUZ_EXIT
    h.wait(5).open(1).wait(5).close(1)  # out through the front door
    h.wait(51)
    assert h.alarms() == [] and not h.core.outputs.arming
    assert h.core.outputs.buzzer == out.BUZ_OFF
    # a window left open at the end of the exit delay is an intrusion
    h2 = House()
    h2.arm("away")
    h2.wait(10).open(2).wait(51)
    assert h2.alarms() == [(ev.CID_PERIMETER, 2)]


def test_closing_reports_per_mode_and_change_mode_while_armed():
    h = House()
    h.arm("stay")
    h.arm("away")
    h.wait(61)
    h.arm("partial")
    assert [(e.cid, e.qualifier, e.user, e.mode) for e in h.events] == [
        (441, 3, USER, "stay"), (401, 3, USER, "away"), (456, 3, USER, "partial")]
    with raises(ValueError, "mode"):
        h.arm("holiday")


def test_siren_cut_off_and_flash_until_acknowledged():
    h = armed("away")
    h.open(2)
    assert h.core.outputs.siren
    h.wait(5 * 60 - 1)
    assert h.core.outputs.siren
    h.wait(1)
    assert not h.core.outputs.siren and h.core.outputs.buzzer == out.BUZ_OFF
    assert h.core.outputs.flash and h.core.outputs.alarm_memory
    assert "異常" in h.core.display(h.now) and "リビング窓" in h.core.display(h.now)
    h.core.acknowledge(0, h.now)  # nobody authorised: nothing happens
    assert h.core.outputs.flash
    h.core.acknowledge(USER, h.now)
    assert not h.core.outputs.flash and not h.core.outputs.alarm_memory


def test_silent_panic_and_medical():
    for zid in (9, 10):
        h = House()
        h.open(zid)
        assert len(h.alarms()) == 1
        assert not h.core.outputs.siren and h.core.outputs.buzzer == out.BUZ_OFF
        assert h.core.outputs.flash


def test_restore_and_swinger_limit():
    h = armed("away")
    for _ in range(5):
        h.open(2).close(2)
    assert h.alarms() == [(ev.CID_PERIMETER, 2)] * 3
    restores = [e for e in h.events if e.kind == "restore"]
    assert len(restores) == 3 and restores[0].label == "侵入(外周) 復旧"


def test_event_records_carry_the_contact_id_fields():
    h = House()
    h.open(6)
    e = h.events[0]
    assert (e.kind, e.cid, e.qualifier, e.zone, e.service, e.service_label) == (
        "alarm", 114, 1, 6, "B", "火災")
    assert e.urgent and e.label == "火災(熱)" and e.mode == "disarmed"
    d = e.to_dict()
    assert ev.Event.from_dict(d).to_dict() == d


def test_power_cut_mid_entry_delay_then_reboot():
    h = armed("away", start_ms=1000)
    h.open(1).wait(10)
    snap = h.core.snapshot(h.now)
    # power cut; back 15 s later (known from the RTC). Ticks restart near zero after boot.
    events = []
    core = AlarmCore(ZONES, TIMERS, events.append, 50)
    core.restore(snap, 50, since_save_ms=15000)
    assert core.mode == "away" and core.outputs.buzzer == out.BUZ_ENTRY
    core.zone_changed(core.zone_by_id(1).index, True, 50)  # io reports the door still open
    core.tick(50 + 4000)
    assert events == []
    core.tick(50 + 5000)  # 10 + 15 + 5 = 30 s: the entry delay ends, it was not forgotten
    assert [(e.cid, e.zone) for e in events] == [(ev.CID_ENTRY_EXIT, 1)]


def test_power_cut_longer_than_the_entry_delay_alarms_on_boot():
    h = armed("away")
    h.open(1).wait(10)
    snap = h.core.snapshot(h.now)
    events = []
    core = AlarmCore(ZONES, TIMERS, events.append, 0)
    core.restore(snap, 0, since_save_ms=60000)
    assert [(e.cid, e.zone) for e in events] == [(ev.CID_ENTRY_EXIT, 1)]


def test_bypass_remembered_across_a_reboot_while_armed():
    h = House()
    h.open(2)
    h.arm("away", force=True)
    h.wait(61)
    snap = h.core.snapshot(h.now)
    events = []
    core = AlarmCore(ZONES, TIMERS, events.append, 0)
    core.restore(snap, 0, since_save_ms=3000)
    assert core.mode == "away" and core.zone_by_id(2).bypassed
    core.zone_changed(core.zone_by_id(2).index, True, 10)
    assert events == []
    core.zone_changed(core.zone_by_id(3).index, True, 20)  # another window: still armed
    assert [(e.cid, e.zone) for e in events] == [(ev.CID_PERIMETER, 3)]


def test_alarm_memory_survives_a_reboot():
    h = armed("away")
    h.open(4)
    h.core.memory[0].wall = "2026-11-22T03:00:00+09:00"
    snap = h.core.snapshot(h.now)
    core = AlarmCore(ZONES, TIMERS, [].append, 0)
    core.restore(snap, 0)
    assert core.outputs.flash and core.outputs.alarm_memory and core.outputs.siren
    st = core.status(0)
    assert st["alarm_memory"] == [(4, "リビング 空間センサー", "侵入(屋内)", "2026-11-22T03:00:00+09:00")]


def test_timers_work_across_the_ticks_wrap():
    start = (1 << 30) - 10000  # ticks wrap 10 s into the entry delay
    h = armed("away", start_ms=start)
    h.now = (h.now) & ((1 << 30) - 1)
    h.open(1).wait(29)
    assert h.alarms() == []
    h.wait(2)
    assert h.alarms() == [(ev.CID_ENTRY_EXIT, 1)]


def test_steady_state_tick_allocates_nothing():
    h = armed("away")
    core = h.core
    now = h.now
    core.tick(now)
    micropython.heap_lock()  # real on MicroPython: any allocation raises MemoryError
    try:
        for i in range(200):
            core.tick(now + i)
    finally:
        micropython.heap_unlock()
    h2 = armed("stay")
    h2.open(2)  # a running cancel window with nothing due is steady state too
    micropython.heap_lock()
    try:
        for i in range(100):
            h2.core.tick(h2.now + i)
    finally:
        micropython.heap_unlock()


def test_phase_for_the_state_topic():
    h = House()
    assert h.core.phase() == "idle"
    h.arm("away")
    assert h.core.phase() == "exit_delay"
    h.wait(61).open(1)
    assert h.core.phase() == "entry_delay"
    h.wait(31)
    assert h.core.phase() == "alarm"
    h.disarm()
    assert h.core.phase() == "idle"


def test_life_safety_alarms_are_never_silenced_by_the_swinger_limit():
    h = House()                      # a home that is never armed: typical for 見守り
    for _ in range(5):
        h.open(6).close(6)           # five fires in the kitchen
        h.open(9).close(9)           # five panic presses
    assert h.alarms().count((ev.CID_HEAT, 6)) == 5
    assert h.alarms().count((ev.CID_PANIC, 9)) == 5
    h.open(6)
    assert h.core.outputs.siren and h.core.outputs.buzzer == out.BUZ_FIRE


def test_the_swinger_count_starts_again_after_a_disarm_or_reset():
    h = armed("away")
    for _ in range(4):
        h.open(2).close(2)
    assert h.alarms().count((ev.CID_PERIMETER, 2)) == 3
    h.disarm()
    h.clear()
    assert h.arm("away").ok
    h.wait(61)
    for _ in range(2):
        h.open(2).close(2)
    assert h.alarms().count((ev.CID_PERIMETER, 2)) == 2
    h2 = House()
    for _ in range(4):
        h2.open(5).close(5)          # glass while disarmed: limited ...
    h2.core.acknowledge(USER, h2.now)
    h2.open(5)                       # ... until an authorised reset
    assert h2.alarms().count((ev.CID_GLASS, 5)) == 4


def test_entry_zone_closed_before_the_delay_ran_out_alarms_then_restores():
    h = armed("away")
    h.open(1).wait(2).close(1)       # in, door shut behind
    h.wait(29)
    assert [(e.kind, e.cid, e.qualifier, e.zone) for e in h.events] == [
        ("alarm", 134, 1, 1), ("restore", 134, 3, 1)]
    assert not h.core.zone_by_id(1).in_alarm
