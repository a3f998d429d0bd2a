"""The monitoring centre of the simulation, and the report paths that reach it.

The centre is tools/receiver.py's SQLite Store: whatever path a report takes, what counts is
what the centre stored. A path brings up its own transport and the centre's end of it, and can
be taken away and brought back (an outage). MqttPath: a broker (tools/broker.py) and a
receiver.Receiver whose console lines are captured. LandlinePath: the ISOmodem emulator on the
board's landline UART, a telephone line (host_tests/fakes/isomodem.py) and at the centre's end
spandsp's Contact ID receiver (the one the tests judge with), whose decoded reports feed
receiver.Receiver.line_report; down() cuts the line (and its voltage: 断線監視), up() restores it.
A path may also have attach(board) (after the board is built) and tick(ms) (every loop pass).
"""
import os
import queue
import sys
import time

import broker as broker_mod
import receiver as R

# Receiver kinds as a resident-facing word (the receiver's console uses the same words).
KIND_JA = {"alarm": "異常", "trouble": "故障", "restore": "復旧", "opening": "解除",
           "closing": "セット", "test": "試験", "cancel": "取消", "bypass": "バイパス",
           "status": "状態"}


class Centre:
    def __init__(self, db_path):
        self.store = R.Store(db_path)
        self.lines = queue.Queue()    # console lines from receiver threads, drained by the site
        self.clock = time.time        # Site.follow_board_clock: the centre's time moves with
        #                               the fast-forward, as the board's RTC does

    def now(self):
        """The centre's clock (Unix seconds): every receiver of the simulation reads it."""
        return self.clock()

    def add_site(self, site, key_hex, account=None):
        self.store.add_site(site, key_hex, account=account)

    def seen(self, site):
        """What the operator saw, one row per report whatever path(s) brought it: (cid,
        zone/user, seq or None for a line-only report, paths)."""
        return self.store.seen(site)

    def say(self, line):
        """A receiver's console line (called from its network thread)."""
        self.lines.put(line)

    def reports(self, site):
        """Every report stored for the site, in seq order (a reused seq: in the order they
        came), as dicts: seq, kind, cid, label, zone, zone_name, received (unix time), epoch,
        shown (the operator saw it), note (seq_regression / new_epoch / None)."""
        with self.store.lock:
            rows = self.store.db.execute(
                "SELECT seq, kind, cid, label, zone, zone_name, received, epoch, shown, note "
                "FROM reports WHERE site=? ORDER BY seq, id", (site,)).fetchall()
        keys = ("seq", "kind", "cid", "label", "zone", "zone_name", "received", "epoch", "shown",
                "note")
        return [dict(zip(keys, r)) for r in rows]


class MqttPath:
    name = "mqtt"

    def __init__(self, centre, broker_kind=None):
        self.centre = centre
        # the shipped deployment config (deploy/mosquitto): logins and per-site ACLs
        self.broker = broker_mod.launch(broker_kind, secure=True)
        self.rx = None

    def allow(self, site, mqtt_secrets):
        """The controller's broker login (secrets.json mqtt; user name = site id)."""
        self.broker.add_site(site, (mqtt_secrets or {}).get("password"))

    def configure(self, config):
        """Point the controller's sample config at this broker (before validation)."""
        mq = config["comms"]["mqtt"]
        mq["host"] = self.broker.host
        mq["port"] = self.broker.port

    def start(self):
        user, password = self.broker.login("centre")
        self.rx = R.Receiver(self.centre.store, self.broker.host, self.broker.port, user, password,
                             out=self.centre.say, name="sim-centre",
                             clock=self.centre.now).start()
        return self

    def ready(self, app):
        """The controller's session is up and the centre is subscribed."""
        return app.link.connected and self.rx.connected.is_set()

    def down(self):
        self.broker.stop()

    def up(self):
        self.broker.start()

    @property
    def is_up(self):
        return self.broker.running

    def describe(self):
        return "MQTT (%s %s:%d)" % (self.broker.kind, self.broker.host, self.broker.port)

    def close(self):
        if self.rx is not None:
            self.rx.stop()
            self.rx = None
        self.broker.close()


def landline_missing():
    """Why the house cannot have the telephone line here (libspandsp2, the centre's Contact ID
    receiver, is not installed: a non-root set-up without the Debian packages), or None."""
    support = os.path.join(R.ROOT, "host_tests", "support")
    if support not in sys.path:
        sys.path.insert(0, support)
    import spandsp
    try:
        spandsp.lib()
    except RuntimeError as e:
        return str(e).split(":")[0]
    return None


class LandlinePath:
    """The fixed line: the board's ISOmodem (emulated on its UART), the line, and the centre's
    Contact ID line receiver (spandsp) feeding the centre's landline intake."""
    name = "landline"
    UART = {"id": 2, "tx": 17, "rx": 34, "baud": 115200}    # README "Landline": ESP32-DevKitC
    GIVES_UP_ZONES = (4, 5)        # their pins go to UART2 on the ESP32-DevKitC (README)

    def __init__(self, centre):
        support = os.path.join(R.ROOT, "host_tests", "support")
        if support not in sys.path:
            sys.path.insert(0, support)
        import isomodem
        import spandsp
        self._spandsp = spandsp
        self.centre = centre
        self.line = isomodem.Line()
        self.emu = None
        self.number = None
        self.board = None
        self._iso = isomodem
        # the centre's line receiver: no broker, only its landline intake and console
        self.rx = R.Receiver(centre.store, out=centre.say, name="sim-line", clock=centre.now)

    def allow(self, site, mqtt_secrets):
        pass

    def configure(self, config):
        """Wire the sample board for the landline (README "Landline (Contact ID)")."""
        config["zones"] = [z for z in config["zones"] if z["id"] not in self.GIVES_UP_ZONES]
        ll = config["comms"]["landline"]
        ll["enabled"] = True
        ll["uart"] = dict(self.UART)
        self.number = ll["centre_number"]
        # each call is answered by a fresh receiver (spandsp's state is per call)
        self.line.far_ends[self.number] = lambda: self._spandsp.Receiver(
            on_report=self.rx.line_report)

    def start(self):
        return self

    def attach(self, board):
        import machine
        self.board = board
        self.emu = self._iso.IsoModemEmulator(
            machine.uarts[board.config["comms"]["landline"]["uart"]["id"]], self.line)

    def tick(self, ms):
        if self.emu is not None:
            self.emu.tick(ms)

    def ready(self, app):
        return True

    def down(self):
        """The line is cut: no dial tone; a call in progress loses its carrier; the line
        voltage drops (断線監視 raises 351, reported on MQTT)."""
        self.line.cut = True
        self.line.cut_after_ms = 0
        if self.board is not None:
            self.board.set_line_mv(0)

    def up(self):
        self.line.cut = False
        self.line.cut_after_ms = None
        if self.board is not None:
            import vboard
            self.board.set_line_mv(vboard.LINE_MV)

    @property
    def is_up(self):
        return not self.line.cut

    @property
    def in_call(self):
        return self.emu is not None and self.emu.off_hook

    def describe(self):
        return "電話回線 (ISOmodem エミュレータ -> %s spandsp Contact ID 受信機)" % self.number

    def close(self):
        self.emu = None
