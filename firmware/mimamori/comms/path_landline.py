# The landline report path: comms/dialer.py (Ademco Contact ID over the ISOmodem on a UART) as a
# comms.paths.Path. A report counts as delivered on the line only on its kissoff.
#
# The Router offers journal seqs; the dialer queues Events (at most its capacity): what does not
# fit stays in `box` and is offered again as the queue drains. The deadline after which a report
# still not kissed off would go to a further path is the dialer's whole budget of calls.
from mimamori.comms.paths import Path
from mimamori.log import Logger

NAME = "landline"


class LandlinePath(Path):
    def __init__(self, journal, dialer, log=None):
        Path.__init__(self, NAME, journal, dialer.budget_ms)
        self.dialer = dialer
        self.log = Logger.wrap(log)
        self._queued = 0            # how many of box (from its start) the dialer holds
        self._now = 0
        dialer.on_delivered = self._kissoff
        dialer.on_outcome = self._outcome

    @property
    def up(self):
        return self.dialer.up

    def offer(self, seq):
        Path.offer(self, seq)
        self._queued = 0            # re-offer from the start: the dialer keeps a seq once

    def poll(self, now):
        self._now = now
        b = self.box
        while self._queued < len(b):
            got = self.journal.get(b[self._queued])
            try:
                if got is not None and not self.dialer.offer(got[0]):
                    break           # the dialer's queue is full: next poll
            except Exception as e:  # noqa: BLE001 - not encodable as Contact ID: the other
                self.log.error("landline: seq %d not sent by line: %r", b[self._queued], e)
            self._queued += 1       # paths still carry it; the loop goes on
        self.dialer.poll(now)

    def _kissoff(self, seq):
        if seq in self.box:
            self._queued -= 1 if self.box.index(seq) < self._queued else 0
        self.delivered(seq, self._now)

    def _outcome(self, outcome, number):
        pass                        # logged by the dialer; 断線 comes from the line voltage


def make(cfg, journal, machine, log=None):
    """The path from validated comms.landline: the UART, the ISOmodem driver, the dialer."""
    from mimamori.comms.dialer import Dialer
    from mimamori.io.modem import IsoModem
    u = cfg["uart"]
    uart = machine.UART(u["id"], baudrate=u["baud"], tx=machine.Pin(u["tx"]),
                        rx=machine.Pin(u["rx"]))
    modem = IsoModem(uart, log=log)
    numbers = [cfg["centre_number"]]
    if cfg.get("backup_number"):
        numbers.append(cfg["backup_number"])     # alternated call by call (comms/dialer.py)
    return LandlinePath(journal, Dialer(modem, numbers, cfg["account"], log=log),
                        log)
