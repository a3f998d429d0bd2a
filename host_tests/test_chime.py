# Door chime (core/chime.py): a zone with `chime: true` (the front door) gives one short ding-dong
# when it opens while the house is disarmed; *2# switches it off and on, and the setting survives
# a reboot. On both runtimes.
from mimamori.core import outputs as out
from mimamori.store.config import ConfigError, validate_config
from residentboard import Board, FRONT_DOOR, WINDOW, CODE, _json

RUNS_ON_MICROPYTHON = True


def chimes(b, index):
    """Open zone `index`, watch the buzzer for 2 s, close it again: the ms the chime sounded."""
    b.zone(index, True)
    ms = 0
    for _ in range(200):
        b.run(10)
        if b.app.rendered.buzzer == out.BUZ_CHIME:
            ms += 10
    b.zone(index, False)
    b.run(500)
    return ms


def test_front_door_chimes_once_while_disarmed_and_a_window_does_not():
    b = Board("chime_on")
    assert 500 <= chimes(b, FRONT_DOOR) <= 800       # one short ding-dong, then quiet
    assert chimes(b, WINDOW) == 0                    # no `chime` on the window
    assert b.cids() == []                            # a chime reports nothing


def test_no_chime_while_armed():
    b = Board("chime_armed")
    b.keys("B" + CODE + "#")                         # 在宅セット: the door is armed
    b.run(6000)
    assert chimes(b, FRONT_DOOR) == 0


def test_a_key_switches_the_chime_off_and_on_and_it_survives_a_reboot():
    b = Board("chime_toggle")
    b.keys("*2#")
    assert b.display() == "チャイム 切"
    assert chimes(b, FRONT_DOOR) == 0
    b.reboot()
    assert chimes(b, FRONT_DOOR) == 0                # still off after the reboot
    b.keys("*2#")
    assert b.display() == "チャイム 入"
    assert chimes(b, FRONT_DOOR) > 0
    b.reboot()
    assert chimes(b, FRONT_DOOR) > 0


def test_only_doors_windows_and_space_sensors_may_chime():
    cfg = _json("config.sample.json")
    cfg["zones"][6]["chime"] = True                  # 台所 熱感知器
    cfg["zones"][0]["chime"] = "yes"
    try:
        validate_config(cfg, _json("pins.json"))
        raise AssertionError("accepted")
    except ConfigError as e:
        assert e.errors == ["zones[0].chime: expected true or false, got a string",
                            "zones[6].chime: only magnet and space zones can chime, not a fire "
                            "zone"], e.errors
