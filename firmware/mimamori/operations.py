# Operations: every action a person or the centre takes on the controller goes through one
# dispatch, whether it comes from the panel's keys, a card or a signed remote command, and gives
# one Result: ok, a reason (a short token for the centre's signed reply) and the panel's text.
#
#   text = ops.operate("arm", now, code="1234", mode="away")  # a key or card: authenticate, run
#   reply = ops.remote(payload, now)                 # a signed remote command: verify, run
#   r = ops.run("arm", user_id, now, mode="away")     # the dispatch itself, after either
#   r.ok, r.reason, r.text
#
# Actions: arm (mode, force), disarm, cancel, reset (alarm memory), self_check, answer (the
# resident's reply to a しらせてコール), ask (the centre's しらせてコール: message), departure (time
# "HH:MM" or None), revoke_card (card), test (a manual test report on MQTT), status (the state
# frame again), walk_test (the installer's code starts the walk test, and again ends it:
# core/walktest.py), installer_mode (the installer's code opens the USB REPL: usbrepl.py).
# Add an operation here: one branch, one Result; a remote verb also needs its
# name in core/commands.py.
from mimamori.core import events as ev
from mimamori.core import texts, walktest
from mimamori.core.vocab import MODE_DISARMED
from mimamori.proto import frame

PATH_MQTT = "mqtt"
# a verified remote command's verb (core/commands.py) -> its operation
REMOTE = {"arm": "arm", "disarm": "disarm", "status": "status", "test": "test",
          "shirasete": "ask", "set_departure": "departure", "revoke_card": "revoke_card"}
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

    def operate(self, action, now, code=None, card=None, mode=None, force=False):
        """A resident's operation at the panel or card reader: authenticate, then act. Returns
        the Japanese text the panel shows."""
        a = self.app
        if code is not None:
            user = a.auth.check_code(code, now)
        elif card is not None:
            user = a.auth.check_card(card, now)
        else:
            user = None
        self.after_auth(now)
        if user is None:
            return "ロック中です" if a.auth.outcome == "locked" else "暗証番号またはカードが違います"
        return self.run(action, user["id"], now, mode, force, role=user["role"]).text

    def apply(self, action, user, now, mode=None, force=False):
        """An authorised operation: its panel text."""
        return self.run(action, user, now, mode, force).text

    def after_auth(self, now):
        """After anything that may have checked a code or card (a rejected command may not)."""
        a = self.app
        if a.auth.lockout_started:
            # 461 Wrong code entry: someone is guessing codes at the panel or over the network.
            # The flag is consumed: it stays set in the Authenticator until its next check.
            a.auth.lockout_started = False
            a._emit(ev.Event(now, ev.ALARM, ev.CID_WRONG_CODE, ev.Q_NEW, 0, 0, "", a.core.mode))

    def remote(self, payload, now):
        """A remote command from the MQTT path (core/commands.py verifies it): the signed reply."""
        a = self.app
        cmd, reply = a.commands.handle(payload, a.wall.unix(), now)
        self.after_auth(now)
        if cmd is None:
            return reply
        uid = cmd.user["id"] if cmd.user else 0
        args = cmd.args
        r = self.run(REMOTE[cmd.name], uid, now, mode=args.get("mode"), time=args.get("time"),
                     card=args.get("card"), message=args.get("message"))
        if cmd.name == "arm" and not r.ok:
            # Refused (a zone armed in that mode is open): the centre must not be told
            # "accepted" while the house stays unarmed.
            a.log.info("remote arm refused: open %s", ", ".join(self.last_arm.open_zones))
            return frame.result_frame(a.key, a.site, cmd.ctr, cmd.name, False, r.reason)
        return reply

    def run(self, action, user, now, mode=None, force=False, time=None, card=None,
            message=None, role=None):
        a = self.app
        a._state_dirty = True
        if action == "walk_test":
            return self.walk_test(user, role, now)
        if action == "installer_mode":
            return self.installer_mode(role, now)
        if action == "arm" and a.core.walk is not None:
            walktest.end(a.core, user, now)    # arming ends a walk test: the zones count again
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
            a.sup.set_mode(MODE_DISARMED, now)
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
            a.reports.send_test(PATH_MQTT, ev.Event(now, ev.TEST, ev.CID_MANUAL_TEST, ev.Q_NEW,
                                                    0, 0, PATH_MQTT, a.core.mode))
            return Result(True, None, "試験通報を送ります")
        elif action == "status":
            return Result(True, None, "")
        else:
            raise ValueError("unknown action %r" % (action,))
        return Result(True, None, OK_TEXTS[action])

    def walk_test(self, user, role, now, seconds=walktest.DEFAULT_S):
        """The installer's code starts the walk test and, given again, ends it. Only an installer
        at the panel (a code or card: never a remote command, which carries no role)."""
        a = self.app
        if role != "installer":
            return Result(False, "not_installer", texts.WALK_NOT_INSTALLER)
        if a.core.walk is not None:
            left = walktest.end(a.core, user, now)
            return Result(True, None, texts.WALK_ENDED % len(left))
        why = walktest.start(a.core, user, now, seconds)
        if why is not None:
            return Result(False, "not_disarmed", why)
        return Result(True, None, texts.WALK_STARTED)

    def installer_mode(self, role, now):
        """The installer's code opens the board's USB REPL for a while (mimamori/usbrepl.py)."""
        from mimamori.usbrepl import OPEN_MS
        a = self.app
        if role != "installer":
            return Result(False, "not_installer", texts.REPL_NOT_INSTALLER)
        if a.repl is not None:
            a.repl.open(now)
        a.log.warn("installer mode: the USB REPL accepts Ctrl-C for %d min", OPEN_MS // 60000)
        return Result(True, None, texts.REPL_OPEN % (OPEN_MS // 60000))
