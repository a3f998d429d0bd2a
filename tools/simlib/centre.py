"""The monitoring centre of the simulation, and the report paths that reach it.

The centre is tools/receiver.py's SQLite Store: whatever path a report takes, what counts is
what the centre stored. A path brings up its own transport and the centre's end of it, and can
be taken away and brought back (an outage). Today there is one path, MQTT: a broker
(tools/broker.py) and a receiver.Receiver whose console lines are captured. The landline path
(a modem and a Contact ID receiver) will be a second class with the same four methods.
"""
import queue

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

    def add_site(self, site, key_hex):
        self.store.add_site(site, key_hex)

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
                             out=self.centre.say, name="sim-centre").start()
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
