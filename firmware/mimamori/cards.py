# ライフカード at the panel: each tap on the reader (io/cardreader.py) goes through the one dispatch
# (operations.py operate(..., card=...): the card is checked against its salted hash, the
# lockout counts refused cards), and the reader's health goes to supervision (330).
#
#   cards = attach(app, machine, now)   # None when the house has no reader
#   cards.step(now)                      # every loop step: allocation-free with no card
#
# What a tap does is decided at the panel (resident.py: a letter chosen on the keys first; else
# disarmed and quiet, 外出セット; armed, arming, or an alarm sounding, 解除). Every tap counts as
# activity for ライフ監視, a refused one too (someone is there). A refused card is logged by
# operations.py (unknown, revoked), never with its id: the id opens the house and is stored only
# as a salted hash.


class Cards:
    def __init__(self, app, reader):
        self.app = app
        self.reader = reader
        self.last_text = None        # what the panel answered to the latest tap
        self.taps = 0

    def step(self, now):
        r = self.reader
        card = r.poll(now)
        self.app.sup.card_reader(r.ok, now)
        if card is not None:
            self.tap(card, r.kind, now)

    def tap(self, card, kind, now):
        """One card presented (also the simulator's and the tests' entry): the panel's text.
        What it does is the panel's (resident.py: the letter chosen on the keys, else by the
        mode); a refused card is logged there by operations.py, never with its id."""
        a = self.app
        self.taps += 1
        text = a.resident.tap(card, now)
        if a.auth.outcome == "ok":
            a.log.info("card %s (%s) accepted", a.auth.card_id, kind)
        self.last_text = text
        return text


def attach(app, machine, now):
    """The house's Cards from the validated config, or None (no reader)."""
    reader = None
    if app.config["card_reader"]:
        # imported only in a house with a reader: the driver's objects cost RAM (README "Speed
        # and memory": loaded code counts against the ESP32's heap even from ROMFS)
        from mimamori.io import cardreader
        reader = cardreader.make(app.config, machine)
    if reader is None:
        app.sup.card_reader(True, now)   # a reader taken out of the config: its trouble ends
        return None
    return Cards(app, reader)
