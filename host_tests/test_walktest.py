# The walk test (installer mode, issue 13): the installer's code starts it, each sensor trip
# shows live with its zone name, nothing is reported as 異常 and nothing sounds, the centre gets
# Contact ID 607 at its start and end, and at the end the zones never tripped are listed. A real
# fire during a walk test is not lost. The whole App on the fake ESP32, on both runtimes.
RUNS_ON_MICROPYTHON = True

from sample_board import Board, INSTALLER_CODE, RESIDENT_CODE
from mimamori.core import events as ev
from mimamori.core import walktest

FRONT_DOOR = 1      # 玄関ドア, magnet
WINDOW = 3          # リビング窓, magnet
KITCHEN_HEAT = 7    # 台所 熱感知器, fire (heat), 500 ms debounce
GLASS = 10          # リビング ガラス, 24-hour glass
PANIC = 12          # 非常ボタン


def _alarms(b):
    return [e for e in b.events() if e.kind == ev.ALARM]


def _walk_reports(b):
    return [(e.cid, e.qualifier, e.user, e.label) for e in b.events()
            if e.cid == ev.CID_WALK_TEST]


def _start(b):
    text = b.app.operate("walk_test", b.now(), code=INSTALLER_CODE)
    assert text == "歩行試験を開始します", text
    assert b.app.core.walk is not None


def test_installer_code_starts_it_trips_show_live_and_nothing_is_an_alarm():
    b = Board("walk_basic")
    b.run(1000)
    _start(b)
    assert b.display() == "歩行試験中"
    b.set(FRONT_DOOR, True)
    b.run(200)
    assert b.display() == "歩行試験 玄関ドア 検知"
    b.set(FRONT_DOOR, False)
    b.run(200)
    assert b.display() == "歩行試験 玄関ドア 復旧"
    b.set(GLASS, True)          # a 24-hour glass sensor: would warble and report 155
    b.run(200)
    b.set(GLASS, False)
    b.set(PANIC, True)          # a silent 24-hour panic: would call the centre
    b.run(200)
    b.set(PANIC, False)
    b.run(200)
    trips = b.app.core.walk.take()
    assert [(b.app.core.zones[i].id, a) for i, a, _live in trips] == [
        (FRONT_DOOR, True), (FRONT_DOOR, False), (GLASS, True), (GLASS, False), (PANIC, True),
        (PANIC, False)]
    r = b.app.rendered
    assert not r.siren and not r.flash and r.buzzer == "off"
    text = b.app.operate("walk_test", b.now(), code=INSTALLER_CODE)   # the code again: the end
    assert b.app.core.walk is None
    assert text == "歩行試験を終了しました (未検知 %d)" % (len(b.config["zones"]) - 3), text
    assert _alarms(b) == []
    assert _walk_reports(b) == [(607, 1, 2, "歩行試験 開始"), (607, 3, 2, "歩行試験 終了")]
    assert b.display() == "解除"


def test_the_untriggered_zones_are_listed_at_the_end():
    b = Board("walk_untriggered")
    b.run(1000)
    _start(b)
    w = b.app.core.walk
    for zid in (FRONT_DOOR, WINDOW):
        b.set(zid, True)
        b.run(100)
        b.set(zid, False)
        b.run(100)
    left = walktest.end(b.app.core, 2, b.now())
    names = [z.name for z in left]
    assert "玄関ドア" not in names and "リビング窓" not in names
    assert names[0] == "勝手口" and len(names) == len(b.config["zones"]) - 2
    assert [z.name for z in w.untriggered()] == names


def test_a_resident_code_does_not_start_it_nor_does_an_armed_house():
    b = Board("walk_refused")
    b.run(1000)
    text = b.app.operate("walk_test", b.now(), code=RESIDENT_CODE)
    assert text == "歩行試験は施工者コードで開始します"
    assert b.app.core.walk is None
    b.app.operate("arm", b.now(), code=RESIDENT_CODE, mode="stay")
    text = b.app.operate("walk_test", b.now(), code=INSTALLER_CODE)
    assert text == "解除してから歩行試験を開始してください"
    assert b.app.core.walk is None and _walk_reports(b) == []


def test_a_fire_that_keeps_detecting_during_the_walk_test_alarms():
    b = Board("walk_fire_held")
    b.run(1000)
    _start(b)
    b.set(KITCHEN_HEAT, True)     # a real fire: the heat detector keeps detecting
    b.run(1000)
    assert b.display() == "歩行試験 台所 熱感知器 検知" and _alarms(b) == []
    b.run(walktest.HOLD_MS)
    fire = _alarms(b)
    assert [(e.cid, e.zone_name) for e in fire] == [(ev.CID_HEAT, "台所 熱感知器")]
    assert b.app.rendered.siren and b.app.rendered.buzzer == "fire"
    assert b.display() == "異常 火災(熱) 台所 熱感知器"    # shown as the alarm it is
    assert b.app.core.walk is not None        # the rest of the house is still under test
    live = [t for t in b.app.core.walk.take() if t[2]]
    assert len(live) == 1


def test_a_smoke_test_that_clears_in_time_is_only_a_walk_trip():
    b = Board("walk_fire_test")
    b.run(1000)
    _start(b)
    b.set(KITCHEN_HEAT, True)
    b.run(5000)
    b.set(KITCHEN_HEAT, False)
    b.run(walktest.HOLD_MS + 2000)
    walktest.end(b.app.core, 2, b.now())
    b.run(1000)
    assert _alarms(b) == [] and not b.app.rendered.siren


def test_a_detector_still_detecting_when_the_walk_test_ends_alarms_then():
    b = Board("walk_fire_end")
    b.run(1000)
    _start(b)
    b.set(KITCHEN_HEAT, True)
    b.run(2000)
    assert _alarms(b) == []
    b.app.operate("walk_test", b.now(), code=INSTALLER_CODE)
    b.run(100)
    assert [e.cid for e in _alarms(b)] == [ev.CID_HEAT]
    assert b.app.rendered.siren


def test_a_forgotten_walk_test_ends_by_itself():
    b = Board("walk_timeout")
    b.run(1000)
    walktest.start(b.app.core, 2, b.now(), 60)
    b.run(59000)
    assert b.app.core.walk is not None
    b.run(2000)
    assert b.app.core.walk is None
    assert [q for _c, q, _u, _l in _walk_reports(b)] == [1, 3]
    b.set(WINDOW, True)          # disarmed: a window opening is nothing, as ever
    b.set(GLASS, True)           # ... and the glass sensor guards again
    b.run(300)
    assert [e.cid for e in _alarms(b)] == [ev.CID_GLASS]


def test_arming_ends_the_walk_test_and_the_zones_guard_again():
    b = Board("walk_arm")
    b.run(1000)
    _start(b)
    b.app.operate("arm", b.now(), code=RESIDENT_CODE, mode="stay")
    assert b.app.core.walk is None and b.app.core.mode == "stay"
    b.set(WINDOW, True)
    b.run(31000)                 # the cancel window runs out: 異常
    assert [e.cid for e in _alarms(b)] == [ev.CID_PERIMETER]
    assert [q for _c, q, _u, _l in _walk_reports(b)] == [1, 3]


def test_a_window_left_open_at_the_end_stops_arming_as_usual():
    b = Board("walk_open_end")
    b.run(1000)
    _start(b)
    b.set(WINDOW, True)
    b.run(200)
    b.app.operate("walk_test", b.now(), code=INSTALLER_CODE)
    text = b.app.operate("arm", b.now(), code=RESIDENT_CODE, mode="away")
    assert text == "セットできません: リビング窓 が開いています"
