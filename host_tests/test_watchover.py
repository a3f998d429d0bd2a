# Watch-over calls (seed coco-secom-terms.txt 第3条) through the whole controller, on both
# runtimes: みつめてコール started at the panel (*1#), its chime before it runs out, answered by a
# key, and not answered (101 to the centre); しらせてコール from a signed centre command, answered
# (102 restore) and not answered (102), and a late answer after that.
import micropython

from mimamori.core import commands
from mimamori.core import outputs as out
from residentboard import Board

RUNS_ON_MICROPYTHON = True

MIN = 60 * 1000


def shirasete(b, message):
    """The centre's signed しらせてコール, as the receiver sends it; the panel's signed reply."""
    a = b.app
    while a.wall.unix() * 1000 + 1 <= a.commands.floor:
        b.run(5000, step=1000)        # a new board takes commands 120 s after its boot
    ts = a.wall.unix()
    payload = commands.command_frame(a.key, a.site, ts * 1000 + 1, ts, "shirasete",
                                     {"message": message})
    return a.ops.remote(payload, b.now())


def call_reports(b):
    return [(c, q) for c, q, _k, _u in b.sent() if c in (101, 102)]


def test_mitsumete_call_chimes_before_it_runs_out_and_a_key_answers_it():
    b = Board("watch_answer")
    b.keys("*1#")
    assert b.display() == "みつめてコール開始 30分"
    b.run(10 * MIN, step=1000)
    assert b.display() == "みつめてコール中 あと20分"
    assert b.app.rendered.buzzer == out.BUZ_OFF
    b.run(19 * MIN + 1000, step=1000)                  # 59 s left: the chime asks for a key
    assert b.app.rendered.buzzer == out.BUZ_CALL
    assert b.display() == "みつめてコール: ボタンを押してください あと59秒"
    b.press("0")                                       # the resident is fine
    assert b.display() == "みつめてコールを終了しました"
    assert b.app.rendered.buzzer != out.BUZ_CALL       # (the offline house chirps its trouble)
    b.run(5 * MIN, step=1000)
    assert call_reports(b) == []                       # nothing went to the centre
    assert b.display().startswith("解除")


def test_mitsumete_call_not_answered_sends_101_and_a_late_key_sends_its_restore():
    b = Board("watch_missed")
    b.keys("*1#")
    b.run(30 * MIN + 1000, step=1000)
    assert call_reports(b) == [(101, 1)]
    e = [x for x, _u, _a in b.app.journal.history() if x.cid == 101][0]
    assert e.kind == "alarm" and e.service_label == "救急" and e.urgent
    assert b.display() == "みつめてコール: 通報しました"
    assert b.app.rendered.buzzer != out.BUZ_CALL       # no more chime: help is on its way
    b.press("5")                                       # the resident was only slow
    assert call_reports(b) == [(101, 1), (101, 3)]
    assert b.display() == "みつめてコールを終了しました"


def test_mitsumete_call_stopped_early_and_the_length_is_configurable():
    b = Board("watch_stop")
    b.app.resident.watch.watch_ms = 45 * MIN           # mitsumete_min: 45 (validated: 5-240)
    b.keys("*1#")
    assert b.display() == "みつめてコール開始 45分"
    b.run(2 * MIN, step=1000)
    b.keys("*1#")                                      # out of the bath early
    assert b.display() == "みつめてコールを終了しました"
    b.run(60 * MIN, step=1000)
    assert call_reports(b) == []


def test_shirasete_call_answered_by_a_key_is_reported_back():
    b = Board("call_answer")
    reply = shirasete(b, "お薬の時間です")
    assert b'"accepted"' in reply
    b.run(1000)
    assert b.display() == "しらせてコール: お薬の時間です"
    assert b.app.rendered.buzzer == out.BUZ_CALL
    b.run(3 * MIN, step=1000)
    b.press("#")
    assert call_reports(b) == [(102, 3)]
    e = [x for x, _u, _a in b.app.journal.history() if x.cid == 102][0]
    assert e.kind == "restore" and e.label == "しらせてコール 応答あり"
    assert b.display() == "確認しました" and b.app.rendered.buzzer == out.BUZ_OFF
    b.run(20 * MIN, step=1000)
    assert call_reports(b) == [(102, 3)]               # no "no answer" after an answer


def test_shirasete_call_not_answered_is_reported_and_a_late_answer_too():
    b = Board("call_missed")
    shirasete(b, "")
    b.run(1000)
    assert b.display() == "しらせてコール: 確認ボタンを押してください"
    b.run(10 * MIN, step=1000)
    assert call_reports(b) == [(102, 1)]
    e = [x for x, _u, _a in b.app.journal.history() if x.cid == 102][0]
    assert e.kind == "alarm" and e.label == "しらせてコール 応答なし"
    assert b.display() == "しらせてコール: 確認ボタンを押してください"   # still asking
    assert b.app.rendered.buzzer != out.BUZ_CALL                      # the chime has stopped
    b.press("1")
    assert call_reports(b) == [(102, 1), (102, 3)]


def test_an_answering_key_does_nothing_else():
    b = Board("call_key")
    shirasete(b, "")
    b.run(1000)
    b.keys("A")                       # the answer: not the start of an arming
    b.keys("1234#")                   # then a plain code and #: 解除 (a disarmed house stays so)
    assert b.app.core.mode == "disarmed"
    assert call_reports(b) == [(102, 3)]


def test_the_loop_allocates_nothing_while_a_watch_call_runs():
    b = Board("watch_alloc")
    b.keys("*1#")
    b.run(6000)                        # the result line has gone
    micropython.heap_lock()
    try:
        b.run(2000)
    finally:
        micropython.heap_unlock()
    assert b.app.resident.watch.watching


def test_a_reboot_does_not_end_a_running_watch():
    b = Board("watch_reboot")
    b.keys("*1#")
    b.run(10 * MIN, step=1000)
    b.reboot(off_ms=5 * MIN)                            # the power was off 5 minutes (RTC kept)
    assert b.display() == "みつめてコール中 あと15分"
    b.run(15 * MIN + 2000, step=1000)
    assert call_reports(b) == [(101, 1)]


def test_a_watch_that_ran_out_while_the_power_was_off_chimes_first():
    b = Board("watch_outage")
    b.keys("*1#")
    b.run(25 * MIN, step=1000)
    b.reboot(off_ms=20 * MIN)
    assert b.app.rendered.buzzer == out.BUZ_CALL        # the resident gets the chime first
    b.press("3")
    b.run(5 * MIN, step=1000)
    assert call_reports(b) == []


def test_a_reboot_does_not_lose_a_question_nor_its_deadline():
    b = Board("call_reboot")
    shirasete(b, "お薬の時間です")
    b.run(4 * MIN, step=1000)
    b.reboot(off_ms=1 * MIN)
    assert b.display() == "しらせてコール: お薬の時間です"
    b.run(5 * MIN, step=1000)
    assert call_reports(b) == [(102, 1)]                # 10 min after it was asked
    b.reboot()
    b.press("1")                                        # a late answer after another reboot
    assert call_reports(b) == [(102, 1), (102, 3)]
