# Duress (強要): a resident forced to open the house types the duress code. It disarms exactly as
# the code does and the centre gets a silent 121 with the user; nothing on the panel differs
# (display, LEDs, buzzer, siren, flash, state frame), so the one who forces sees a normal disarm.
# Proven by running the same homecoming twice, once per code, and comparing everything the panel
# shows at every step. On both runtimes.
from mimamori.core import events as ev
from mimamori.proto import contactid, frame
from residentboard import Board, CODE, DURESS, FRONT_DOOR

RUNS_ON_MICROPYTHON = True


def homecoming(name, code):
    """Arm 外出, come home through the front door, type `code` at the panel. Returns the board
    and what the panel showed at every 100 ms step, from the door opening on."""
    b = Board(name)
    b.keys("A" + CODE + "#")
    b.run(61000)                              # past the exit delay
    b.zone(FRONT_DOOR, True)                  # home: the entry delay starts
    seen = []
    b.run(3000)
    for ch in "D" + code + "#":
        b.press(ch)
        seen.append((b.display(), b.outputs()))
    b.zone(FRONT_DOOR, False)
    for _ in range(80):                       # 8 s on: the result line comes and goes
        b.run(100)
        seen.append((b.display(), b.outputs()))
    state = frame.parse(b.app.state_frame(b.now()))
    for k in ("ts", "mac"):                   # the time and the signature over it
        state.pop(k, None)
    return b, seen, state


def test_duress_code_disarms_exactly_as_the_code_and_only_the_centre_learns_of_it():
    normal, seen_n, state_n = homecoming("duress_normal", CODE)
    forced, seen_f, state_f = homecoming("duress_forced", DURESS)
    assert forced.app.core.mode == normal.app.core.mode == "disarmed"
    assert seen_f == seen_n                       # every display line and output, every step
    assert ("解除しました", normal.outputs()) in seen_n
    assert state_f == state_n                     # Home Assistant and the state topic too
    assert normal.cids() == [401, 401]            # 外出 set, disarmed
    assert forced.cids() == [401, 121, 401]       # ... and the silent duress alarm
    e = [x for x, _u, _a in forced.app.journal.history() if x.cid == 121][0]
    assert (e.kind, e.user, e.label, e.urgent) == ("alarm", 1, "強要", True)
    assert not forced.app.core.memory             # not in the alarm memory, no LED


def test_duress_is_reported_with_the_user_over_the_landline():
    e = ev.Event(0, ev.ALARM, ev.CID_DURESS, ev.Q_NEW, 0, 1, "", "away")
    msg = contactid.from_event(e, "1234")
    assert contactid.parse(msg)[3:] == ("121", "00", "001")    # CCC: user 1 (DC-05)


def test_duress_code_is_a_code_like_any_other_for_the_lockout():
    b = Board("duress_lock")
    b.keys("D" + DURESS + "#")                    # disarmed already: still accepted, 121 sent
    assert b.display() == "解除しました"
    assert b.cids() == [121]
    assert b.app.auth.failures == 0
