# The ライフカード reader's health: a PN532 that stops answering (unplugged, a cut cable, a hung
# chip) leaves residents without their cards, so it is a trouble: 330 System peripheral trouble
# (Contact ID), on the panel and at the centre, restored when the reader answers again. The
# driver (io/pn532.py) says after each exchange whether the chip answered properly; a fault must
# last FAULT_MS before it is a trouble (one glitch on the bus is not), and the reader must answer
# for OK_MS before the restore. A house without a reader never calls reader_state().
from mimamori.core.watch.base import Watcher, const, ev, tx
from mimamori.core.troubles import Debounce

FAULT_MS = const(30000)
OK_MS = const(5000)


class ReaderWatcher(Watcher):
    def __init__(self, ctx):
        Watcher.__init__(self, ctx)
        self._db = Debounce(FAULT_MS, OK_MS)     # raw True: the reader does not answer

    def reader_state(self, answering, now):
        self._db.feed(not answering, now)

    def tick(self, now):
        db = self._db
        if db.settle(now):
            self._touch()
            self.ctx.event(ev.TROUBLE if db.state else ev.RESTORE, ev.CID_PERIPHERAL)

    def troubles(self, out):
        if self._db.state:
            out.append((ev.CID_PERIPHERAL, 0, tx.TROUBLE_TEXT[ev.CID_PERIPHERAL]))

    def snapshot(self, d):
        d["reader"] = 1 if self._db.state else 0

    def parse(self, d):
        return bool(d.get("reader", 0))      # a state saved before the reader: no trouble

    def restore(self, troubled, now):
        # Reported before the reboot: stays reported until the reader answers for OK_MS.
        self._db.state = self._db.raw = troubled
        self._db.since = now
