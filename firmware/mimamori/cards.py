# ライフカード at the panel: each tap on the reader (io/cardreader.py) goes through the one dispatch
# (operations.py operate(..., card=...): the card is checked against its salted hash, the
# lockout counts refused cards), and the reader's health goes to supervision (330).
#
#   cards = attach(app, machine, now)   # None when the house has no reader
#   cards.step(now)                      # every loop step: allocation-free with no card
#   cards.next_action = ("arm", "stay")  # the panel chose the operation before the tap (keys)
#
# A tap with no operation chosen does what the card is for: disarmed and quiet, 外出セット;
# armed, arming, or an alarm sounding, 解除. Every tap counts as activity for ライフ監視, a refused
# one too (someone is there). A refused card is logged with its kind and why (unknown, revoked,
# locked), never its id: the id opens the house and is stored only as a salted hash.
from mimamori.core import panel
from mimamori.core.vocab import MODE_AWAY, MODE_DISARMED
from mimamori.io import cardreader


class Cards:
    def __init__(self, app, reader):
        self.app = app
        self.reader = reader
        self.next_action = None      # (action, mode) for the next tap, or None: by the mode
        self.last_text = None        # what the panel answered to the latest tap
        self.taps = 0

    def step(self, now):
        r = self.reader
        card = r.poll(now)
        self.app.sup.card_reader(r.ok, now)
        if card is not None:
            self.tap(card, r.kind, now)

    def action(self):
        """What a tap does now, when the panel has not chosen: (action, mode)."""
        core = self.app.core
        if core.mode == MODE_DISARMED and not panel.sounding(core.outputs):
            return "arm", MODE_AWAY
        return "disarm", None

    def tap(self, card, kind, now):
        """One card presented (also the simulator's and the tests' entry): the panel's text."""
        a = self.app
        self.taps += 1
        a.sup.activity(now)
        action, mode = self.next_action or self.action()
        self.next_action = None
        text = a.operate(action, now, card=card, mode=mode)
        auth = a.auth
        if auth.outcome == "ok":
            a.log.info("card %s (%s): %s", auth.card_id, kind, action)
        elif auth.card_id is not None:
            a.log.warn("card refused: card %s (%s) %s", auth.card_id, kind, auth.outcome)
        else:
            a.log.warn("card refused: %s %s card", auth.outcome, kind)
        self.last_text = text
        return text


def attach(app, machine, now):
    """The house's Cards from the validated config, or None (no reader)."""
    reader = cardreader.make(app.config, machine)
    if reader is None:
        app.sup.card_reader(True, now)   # a reader taken out of the config: its trouble ends
        return None
    return Cards(app, reader)
