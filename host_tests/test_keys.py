# The panel's keys as a resident uses them (core/keys.py, mimamori/resident.py): codes with the
# letter keys, * and the timeout of a half-typed code, 非常 held 2 s (a brush does nothing), 救急,
# キャンセル, and every key press counting as activity for ライフ監視. On both runtimes.
import micropython

from mimamori.core import keys as K
from residentboard import Board, CODE

RUNS_ON_MICROPYTHON = True

H = 3600 * 1000


def typed(entry, seq, now=0, gap=100):
    """Press and release each key of seq; the actions returned, in order (None left out)."""
    acts = []
    for ch in seq:
        for down in (True, False):
            a = entry.key(ch, down, now)
            if a is not None:
                acts.append(a)
            now += gap
    return acts


def test_letter_first_or_code_first_or_hash_alone():
    e = K.KeyEntry()
    assert typed(e, "A1234#") == [K.ARM] and e.mode == "away" and e.code() == "1234"
    e.clear()
    assert typed(e, "1234B") == [K.ARM] and e.mode == "stay" and e.code() == "1234"
    e.clear()
    assert typed(e, "C5678#") == [K.ARM] and e.mode == "partial" and e.code() == "5678"
    e.clear()
    assert typed(e, "D1234#") == [K.DISARM] and e.code() == "1234"
    e.clear()
    assert typed(e, "1234#") == [K.DISARM] and e.code() == "1234"   # # alone: 解除
    e.clear()
    assert typed(e, "#") == [] and typed(e, "A#") == []     # nothing typed: nothing submitted


def test_star_clears_and_a_half_typed_code_times_out():
    e = K.KeyEntry()
    assert typed(e, "12*34#") == [K.DISARM] and e.code() == "34"
    e.clear()
    typed(e, "123", now=0)                # the 3 goes down at 400 ms
    assert e.typing and e.n == 3
    assert e.tick(399 + K.ENTRY_TIMEOUT_MS) is None and e.n == 3     # still there
    e.tick(400 + K.ENTRY_TIMEOUT_MS)      # 10 s without a key
    assert not e.typing and e.n == 0
    assert typed(e, "4#", now=20000) == [K.DISARM] and e.code() == "4"   # the 123 is gone


def test_functions_after_a_star_with_nothing_typed():
    e = K.KeyEntry()
    assert typed(e, "*1#") == [K.FUNCTION] and e.function == 1
    assert typed(e, "*2#") == [K.FUNCTION] and e.function == 2


def test_panic_must_be_held_two_seconds():
    e = K.KeyEntry()
    assert e.key("PANIC", True, 0) is None
    assert e.tick(1500) is None
    assert e.key("PANIC", False, 1900) is None       # a brush (1.9 s): nothing
    assert e.tick(5000) is None
    assert e.key("PANIC", True, 10000) is None
    assert e.tick(11999) is None
    assert e.tick(12000) == K.PANIC                  # held 2 s: while still held
    assert e.tick(13000) is None                     # once per press
    assert e.key("PANIC", False, 15000) is None
    # a loop that did not tick during the hold: the release still counts it
    assert e.key("PANIC", True, 20000) is None
    assert e.key("PANIC", False, 22500) == K.PANIC


def test_emergency_keys_and_cancel():
    e = K.KeyEntry()
    typed(e, "12")
    assert e.key("MEDICAL", True, 0) == K.MEDICAL
    assert e.key("CANCEL", True, 0) == K.CANCEL and e.n == 0    # キャンセル forgets the code too


def test_typing_a_code_allocates_nothing():
    e = K.KeyEntry()
    typed(e, "1")          # warm up
    e.clear()
    micropython.heap_lock()     # real on MicroPython: any allocation raises MemoryError
    try:
        for ch in "12345678":
            e.key(ch, True, 0)
            e.key(ch, False, 0)
            e.tick(0)
        e.key("*", True, 0)
        e.key("PANIC", True, 0)
        e.tick(100)
        e.key("PANIC", False, 200)
    finally:
        micropython.heap_unlock()


# ---- at the panel (the whole controller) ------------------------------------------------------

def test_arm_and_disarm_with_the_letter_keys():
    b = Board("keys_arm")
    b.keys("A" + CODE + "#")
    assert b.app.core.mode == "away" and b.display() == "セットしました"
    b.run(5000)
    assert b.display().startswith("外出セット中")
    b.keys(CODE + "D")
    assert b.app.core.mode == "disarmed" and b.display() == "解除しました"


def test_the_display_shows_the_code_as_stars_and_forgets_it_after_ten_seconds():
    b = Board("keys_timeout")
    b.keys("D")
    assert b.display() == "解除: 暗証番号と#"
    b.keys("12")
    assert b.display() == "暗証番号 **"
    b.run(K.ENTRY_TIMEOUT_MS)
    assert b.display() == "解除"
    b.keys("34#")                         # "34" alone is a wrong code, not "1234"
    assert b.display() == "暗証番号またはカードが違います"


def test_panic_brushed_does_nothing_held_two_seconds_sends_120_silently():
    b = Board("keys_panic")
    shown, outs = b.display(), b.outputs()
    b.press("PANIC", hold_ms=1000)                    # brushed
    b.run(3000)
    assert 120 not in b.cids()
    b.press("PANIC", hold_ms=2100)                    # held
    assert b.cids().count(120) == 1
    e = [x for x, _u, _a in b.app.journal.history() if x.cid == 120][0]
    assert e.kind == "alarm" and e.zone_name == "操作パネル 非常キー"
    b.run(3000)
    assert b.display() == shown and b.outputs() == outs   # nothing on the panel shows it


def test_medical_key_sends_100_silently():
    b = Board("keys_medical")
    shown, outs = b.display(), b.outputs()
    b.press("MEDICAL")
    assert b.cids() == [100]
    assert b.display() == shown and b.outputs() == outs


def test_every_key_press_and_card_tap_is_activity_for_life_monitoring():
    b = Board("keys_life")
    b.run(11 * H, step=60000)
    b.press("5")                          # any key, even one that does nothing on its own
    b.run(11 * H, step=60000)
    b.tap("04FFFFFF")                     # a card tap, even a card the panel refuses
    b.run(11 * H, step=60000)
    assert 641 not in b.cids()            # 33 h, but never 12 h without a key or a tap
    b.run(2 * H, step=60000)
    assert b.cids().count(641) == 1


def test_cancel_key_ends_the_cancel_window_as_the_cancel_button_does():
    b = Board("keys_cancel")
    b.keys("B" + CODE + "#")
    b.zone(2, True)                       # リビング窓 opens while 在宅セット
    b.run(1000)
    assert b.display().startswith("キャンセルしてください")
    b.press("CANCEL")
    b.run(40000)
    assert [c for c in b.cids() if c < 400] == []    # nothing reported


def test_alarm_memory_reset_and_the_monthly_check_ask_for_the_code():
    b = Board("keys_reset")
    b.keys("A" + CODE + "#")
    b.run(61000)
    b.zone(2, True)                       # リビング窓 opens while 外出: 異常
    b.run(1000)
    b.keys(CODE + "D")
    b.zone(2, False)
    b.run(6000)
    assert b.display().startswith("異常 侵入(外周) リビング窓") and b.app.rendered.alarm_memory
    b.keys("*3#")
    assert b.display() == "異常リセット: 暗証番号と#"
    b.keys("0000#")                       # a wrong code resets nothing
    assert b.app.rendered.alarm_memory
    b.keys("*3#" + CODE + "#")
    assert b.display() == "異常表示をリセットしました"
    b.run(100)
    assert not b.app.rendered.alarm_memory and not b.app.rendered.flash
    b.keys("*4#" + CODE + "#")
    assert b.display() == "点検を開始します"


def test_a_card_tap_during_a_fire_alarm_silences_it_and_never_arms():
    from residentboard import CARD
    b = Board("keys_fire_tap")
    b.zone(6, True)                       # 台所 熱感知器 (NO contact): fire while disarmed
    b.run(1000)
    assert b.app.rendered.buzzer == "fire"
    b.zone(6, False)
    b.tap(CARD)
    assert b.app.core.mode == "disarmed" and b.app.rendered.buzzer != "fire"
    assert 406 in b.cids()                # the centre learns someone silenced it
