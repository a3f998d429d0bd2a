# Card taps of both kinds in the simulator (CPython: the simulator's house with the ライフカード
# reader, a fake PN532 on the virtual board's I2C bus, a real broker and the centre's receiver).
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
from simlib.panel import Controls  # noqa: E402
from simlib.site import Site  # noqa: E402


def test_panel_keys_tap_a_mifare_and_a_felica_card_and_a_stranger_is_refused():
    site = Site(clock="virtual", reader=True)
    try:
        assert site.settle(site.ready, 10)
        controls = Controls(site)
        names = [z["name"] for z in site.config["zones"]]
        assert "寝室 煙感知器" not in names and "金庫 振動" not in names   # the bus's pins
        controls.key("M")                       # the issued MIFARE card: 外出セット
        assert controls.answer == "セットしました" and site.app.core.mode == "away"
        controls.key(">")                       # past the exit delay
        controls.key("U")                       # a stranger's card
        assert controls.answer == "登録されていないカードです"
        assert site.app.core.mode == "away"
        assert any("card refused: unknown card" in e[2] for e in site.timeline)
        controls.key("N")                       # the resident's FeliCa card: 解除
        assert controls.answer == "解除しました" and site.app.core.mode == "disarmed"
        # the centre hears the closing and the opening, by user 1 (the cards' owner)
        assert site.settle(lambda: [r["cid"] for r in site.reports()].count("1401") == 1, 10)
        assert [e.user for e, _up, _acked in site.app.journal.history() if e.cid == 401] == [1, 1]
        assert ("操作", "カード FeliCa -> 解除しました") in [e[1:] for e in site.timeline]
    finally:
        site.close()
