# Operations: every action a person or the centre takes on the controller goes through one
# dispatch, whether it comes from the panel's keys, a card or a signed remote command, and gives
# one Result: ok, a reason (a short token for the centre's signed reply) and the panel's text.
#
#   r = ops.run("arm", user_id, now, mode="away")     # after authentication (App.operate) or
#   r.ok, r.reason, r.text                            # a verified command (App._on_command)
#
# Actions: arm (mode, force), disarm, cancel, reset (alarm memory), self_check, answer (the
# resident's reply to a しらせてコール), ask (the centre's しらせてコール: message), departure (time
# "HH:MM" or None), revoke_card (card), test (a manual test report on MQTT), status (the state
# frame again). Add an operation here: one branch, one Result; a remote verb also needs its name
# in core/commands.py.
from mimamori.core import events as ev

PATH_MQTT = "mqtt"
DEFAULT_ASK = "確認ボタンを押してください"
# actions that are the resident acting at the panel (they answer a pending しらせてコール and
# count as activity for ライフ監視)
_RESIDENT = ("arm", "disarm", "cancel", "reset", "self_check", "answer")


class Result:
    def __init__(self, ok, reason, text):
        self.ok = ok            # done as asked
        self.reason = reason    # None, or why not: "zones_open", "unknown_card", ...
        self.text = text        # what the panel shows (Japanese)


OK_TEXTS = {"disarm": "解除しました", "cancel": "キャンセルしました",
            "reset": "異常表示をリセットしました", "self_check": "点検を開始します",
            "answer": "確認しました"}


class Operations:
    def __init__(self, app):
        self.app = app              # the wired components: core, sup, storage, auth, wall
        self.prompt = None          # しらせてコール: a question on the panel awaiting a press
        self.last_arm = None        # the last ArmResult

    def run(self, action, user, now, mode=None, force=False, time=None, card=None,
            message=None):
        a = self.app
        a._state_dirty = True
        if action in _RESIDENT:
            a.sup.activity(now)
            a.storage.operated(now, a.core.mode)    # the resident has set the state anew
            self.prompt = None                      # the しらせてコール is answered
        if action == "arm":
            r = a.core.arm(mode, user, now, force)
            self.last_arm = r
            if r.ok:
                a.sup.set_mode(mode, now)
            return Result(r.ok, None if r.ok else "zones_open", r.message())
        if action == "disarm":
            a.core.disarm(user, now)
            a.sup.set_mode("disarmed", now)
        elif action == "cancel":
            a.core.cancel(user, now)
        elif action == "reset":
            a.core.acknowledge(user, now)
        elif action == "self_check":
            a.sup.start_self_check(now)
        elif action == "answer":
            pass
        elif action == "ask":
            self.prompt = "しらせてコール: " + (message or DEFAULT_ASK)
            return Result(True, None, self.prompt)
        elif action == "departure":
            if time is None:
                a.sup.clear_departure(now)
            else:
                secs = a.wall.seconds_until(int(time[:2]), int(time[3:]))
                if secs is None:
                    return Result(False, "no_clock", "時計が未設定です")
                a.sup.set_departure(secs, now)
            return Result(True, None, "外出予定時刻を設定しました")
        elif action == "revoke_card":
            if not a.auth.revoke_card(card):
                return Result(False, "unknown_card", "登録されていないカードです")
            return Result(True, None, "カードを無効にしました")
        elif action == "test":
            # zone 0: a test names its path, never a zone (issue 10.10)
            a._send_test(PATH_MQTT, ev.Event(now, ev.TEST, ev.CID_MANUAL_TEST, ev.Q_NEW, 0, 0,
                                             PATH_MQTT, a.core.mode))
            return Result(True, None, "試験通報を送ります")
        elif action == "status":
            return Result(True, None, "")
        else:
            raise ValueError("unknown action %r" % (action,))
        return Result(True, None, OK_TEXTS[action])
