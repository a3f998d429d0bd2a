"""A scriptable report path for tests (issue 11.1): a second path to the same monitoring centre,
whose line can be up or down and whose acknowledgements come on demand.

    line = TestLine(store, site)          # the centre's side: a receiver on the same database
    b = vboard.VirtualBoard(config, secrets, flash, paths={"test": line.path})
    ...
    line.sent            # seqs the controller put on this path, in order (repeats included)
    line.release(seq)    # the centre's acknowledgement of seq goes back to the controller
    line.auto_ack = True # acknowledge everything as it arrives

The frames are the controller's signed event frames; the centre side is tools/receiver.py's
Receiver (without a broker: its acks are captured here), sharing the centre's Store with the
MQTT receiver, so the centre shows a report once whatever path brought it. TestPath is built
anew at every boot (the App's path factory); the line and the centre outlive reboots.
"""
import receiver as R
from mimamori.comms.paths import Path
from mimamori.proto import frame

NAME = "test"


class _Capture:
    """Stands in for the receiver's MQTT client: the acks it publishes come back on the line."""

    def __init__(self):
        self.out = []

    def publish(self, topic, payload, qos=0):
        self.out.append(payload if isinstance(payload, bytes) else payload.encode())


class TestLine:
    __test__ = False     # not a pytest class

    def __init__(self, store, site, deadline_ms=30000, out=None):
        self.site = site
        self.up = True
        self.auto_ack = False
        self.deadline_ms = deadline_ms
        self.sent = []          # seqs sent on the line, in order (a resend appears twice)
        self.acks = {}          # seq -> the centre's ack frame, not yet given back
        self.released = set()   # seqs whose ack may go back to the controller
        self.lines = []         # what this receiver showed on the console
        self.rx = R.Receiver(store, name="rx-test-line", out=out or self.lines.append)
        self.rx.c = _Capture()

    def release(self, seq):
        self.released.add(seq)

    def path(self, app):
        return TestPath(self, app)

    def carry(self, payload):
        """One frame over the line to the centre: returns the centre's ack frame (or None)."""
        cap = self.rx.c
        del cap.out[:]
        self.rx.handle("mimamori/v1/%s/event" % self.site, payload)
        return cap.out[-1] if cap.out else None


class TestPath(Path):
    def __init__(self, line, app):
        Path.__init__(self, NAME, app.journal, line.deadline_ms)
        self.line = line
        self.key = app.key
        self.site = app.site
        self._on_line = []      # offered seqs already carried this boot, awaiting their ack

    @property
    def up(self):
        return self.line.up

    def poll(self, now):
        line = self.line
        if not line.up:
            return
        for seq in list(self.box):
            if seq not in self._on_line:
                got = self.journal.get(seq)
                ev, up = got
                payload = frame.event_frame(self.key, self.site, ev, up, self.journal.base(seq),
                                            self.journal.epoch)
                line.sent.append(seq)
                ack = line.carry(payload)
                if ack is not None:
                    line.acks[seq] = ack
                self._on_line.append(seq)
            if seq in line.acks and (line.auto_ack or seq in line.released):
                ack = line.acks.pop(seq)
                got_seq, ref, _t = frame.verify_ack_ref(self.key, self.site, ack)
                ev, up = self.journal.get(seq)
                assert got_seq == seq and ref == frame.event_ref(self.site, ev, up,
                                                                 self.journal.epoch)
                self.delivered(seq, now)
