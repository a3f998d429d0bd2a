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
# resident's reply to a しらせてコール or みつめてコール), ask (the centre's しらせてコール: message),
# departure (time "HH:MM" or None), revoke_card (card), test (a manual test report on MQTT),
# status (the state frame again), walk_test (the installer's code starts the walk test, and again
# ends it: core/walktest.py), installer_mode (the installer's code opens the USB REPL:
# usbrepl.py). Add an operation here: one branch, one Result; a remote verb also needs its name
# in core/commands.py.
#
# At the panel (operate/attempt) the user's role must allow the action (core/auth.py allowed: an
# installer's code never disarms); a duress code acts exactly as the user's code and adds a
# silent 121 for the centre (after_auth); an unknown or revoked card is refused and logged and
# counts towards the lockout, whose time left the refusal shows; with card_and_code a card alone
# does not disarm 外出: the Result asks for the code (reason "needs_code").
from mimamori.core import auth as au
from mimamori.core import events as ev
from mimamori.core import texts as tx
from mimamori.core.vocab import MODE_AWAY, MODE_DISARMED
from mimamori.proto import frame

PATH_MQTT = "mqtt"
# a verified remote command's verb (core/commands.py) -> its operation
REMOTE = {"arm": "arm", "disarm": "disarm", "status": "status", "test": "test",
          "shirasete": "ask", "set_departure": "departure", "revoke_card": "revoke_card"}
# actions that are the resident acting at the panel (they answer a pending しらせてコール and
# count as activity for ライフ監視)
_RESIDENT = ("arm", "disarm", "cancel", "reset", "self_check", "answer")


class Result:
    def __init__(self, ok, reason, text):
        self.ok = ok            # done as asked
        self.reason = reason    # None, or why not: "zones_open", "unknown_card", ...
        self.text = text        # what the panel shows (Japanese)


class Operations:
    def __init__(self, app):
        self.app = app              # the wired components: core, sup, storage, auth, wall
        self.last_arm = None        # the last ArmResult

    def operate(self, action, now, code=None, card=None, mode=None, force=False):
        """A resident's operation at the panel or card reader: authenticate, then act. Returns
        the Japanese text the panel shows."""
        return self.attempt(action, now, code, card, mode, force).text

    def attempt(self, action, now, code=None, card=None, mode=None, force=False):
        """operate() with its Result: authenticate the code, the card, or both (then they must
        be the same user's), check the role, then run."""
        a = self.app
        user = None
        if card is not None:
            user = a.auth.check_card(card, now, clear=False)   # cleared below, when it opens
            if user is None:
                self.after_auth(now)
                return self._refused(now, "card")
        if code is not None:
            by_code = a.auth.check_code(code, now)
            self.after_auth(now)
            if by_code is None:
                return self._refused(now, "code")
            if user is not None and by_code["id"] != user["id"]:
                return Result(False, "card_code_mismatch", tx.CARD_CODE_MISMATCH)
            user = by_code
        if user is None:
            return Result(False, "wrong_code", tx.WRONG_CODE_OR_CARD)
        if not au.allowed(user["role"], action, a.core.mode):
            a.log.info("operation refused: %s by user %d (%s)", action, user["id"], user["role"])
            if action in au.INSTALLER_ACTIONS and au.allowed(user["role"], action, MODE_DISARMED):
                return Result(False, "armed", tx.WALK_NOT_DISARMED
                              if action == "walk_test" else tx.INSTALLER_ARMED)
            if action in au.INSTALLER_ACTIONS:      # a resident's code: say whose code it takes
                return Result(False, "not_installer", tx.WALK_NOT_INSTALLER
                              if action == "walk_test" else tx.REPL_NOT_INSTALLER)
            return Result(False, "not_allowed", tx.NOT_ALLOWED)
        if (code is None and action == "disarm" and a.core.mode == MODE_AWAY
                and a.auth.card_and_code):
            # a card can be cloned: 外出 also wants the code (README "ライフカード")
            return Result(False, "needs_code", tx.CARD_NEEDS_CODE)
        a.auth.succeeded()
        return self.run(action, user["id"], now, mode, force, role=user["role"])

    def _refused(self, now, what):
        """A code or card that did not open: the panel's text; cards are logged (never the
        card's id: the log is no place for what opens the house)."""
        a = self.app
        outcome = a.auth.outcome
        if what == "card":          # every refused card is logged, a locked-out one too
            if outcome == au.REVOKED:
                a.log.warn("card refused: revoked card %d", a.auth.card_id)
            else:
                a.log.warn("card refused: %s card", "locked out" if outcome == au.LOCKED
                           else "unknown")
        if outcome == au.LOCKED or a.auth.locked_until is not None:   # or this one began it
            return Result(False, "locked_out", self.lockout_text(now))
        if what == "card":
            if outcome == au.REVOKED:
                return Result(False, "revoked_card", tx.REVOKED_CARD)
            return Result(False, "unknown_card", tx.UNKNOWN_CARD)
        return Result(False, "wrong_code", tx.WRONG_CODE_OR_CARD)

    def lockout_text(self, now):
        left = self.app.auth.lock_left_s(now)
        return tx.LOCKED_LEFT % (left // 60, left % 60)

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
        if a.auth.duress:
            # 121 Duress: the centre alone learns of it; the operation goes on exactly as with
            # the user's own code (nothing on the panel may differ: the forcer is watching).
            a.auth.duress = False
            uid = a.auth.duress_user
            a._emit(ev.Event(now, ev.ALARM, ev.CID_DURESS, ev.Q_NEW, 0, uid, "", a.core.mode))

    def remote(self, payload, now):
        """A remote command from the MQTT path (core/commands.py verifies it): the signed reply."""
        a = self.app
        cmd, reply = a.commands.handle(payload, a.wall.unix(), now)
        self.after_auth(now)
        if cmd is None:
            return reply
        uid = cmd.user["id"] if cmd.user else 0
        args = cmd.args
        if cmd.user and not au.allowed(cmd.user["role"], REMOTE[cmd.name], a.core.mode):
            a.log.info("remote %s refused: role %s", cmd.name, cmd.user["role"])
            return frame.result_frame(a.key, a.site, cmd.ctr, cmd.name, False, "not_allowed")
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
            from mimamori.core import walktest
            walktest.end(a.core, user, now)    # arming ends a walk test: the zones count again
        if action in _RESIDENT:
            a.sup.activity(now)
            a.storage.operated(now, a.core.mode)    # the resident has set the state anew
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
            return Result(True, None, a.resident.watch.answer(now, a.core.mode)
                          or tx.DONE["answer"])
        elif action == "ask":
            return Result(True, None, a.resident.watch.ask(message, now))
        elif action == "departure":
            if time is None:
                a.sup.clear_departure(now)
            else:
                secs = a.wall.seconds_until(int(time[:2]), int(time[3:]))
                if secs is None:
                    return Result(False, "no_clock", tx.NO_CLOCK)
                a.sup.set_departure(secs, now)
            return Result(True, None, tx.DEPARTURE_SET)
        elif action == "revoke_card":
            if not a.auth.revoke_card(card):
                return Result(False, "unknown_card", tx.UNKNOWN_CARD)
            return Result(True, None, tx.CARD_REVOKED)
        elif action == "test":
            # zone 0: a test names its path, never a zone (issue 10.10)
            a.reports.send_test(PATH_MQTT, ev.Event(now, ev.TEST, ev.CID_MANUAL_TEST, ev.Q_NEW,
                                                    0, 0, PATH_MQTT, a.core.mode))
            return Result(True, None, tx.TEST_SENDING)
        elif action == "status":
            return Result(True, None, "")
        else:
            raise ValueError("unknown action %r" % (action,))
        return Result(True, None, tx.DONE[action])

    def walk_test(self, user, role, now, seconds=None):
        """The installer's code starts the walk test and, given again, ends it. Only an installer
        at the panel (a code or card: never a remote command, which carries no role)."""
        from mimamori.core import walktest      # loaded only for a walk test (its RAM)
        if seconds is None:
            seconds = walktest.DEFAULT_S
        a = self.app
        if role != "installer":
            return Result(False, "not_installer", tx.WALK_NOT_INSTALLER)
        if a.core.walk is not None:
            left = walktest.end(a.core, user, now)
            return Result(True, None, tx.WALK_ENDED % len(left))
        why = walktest.start(a.core, user, now, seconds)
        if why is not None:
            return Result(False, "not_disarmed", why)
        return Result(True, None, tx.WALK_STARTED)

    def installer_mode(self, role, now):
        """The installer's code opens the board's USB REPL for a while (mimamori/usbrepl.py)."""
        from mimamori.usbrepl import OPEN_MS
        a = self.app
        if role != "installer":
            return Result(False, "not_installer", tx.REPL_NOT_INSTALLER)
        if a.repl is not None:
            a.repl.open(now)
        a.log.warn("installer mode: the USB REPL accepts Ctrl-C for %d min", OPEN_MS // 60000)
        return Result(True, None, tx.REPL_OPEN % (OPEN_MS // 60000))
