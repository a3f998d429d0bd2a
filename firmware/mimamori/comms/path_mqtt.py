# The MQTT report path: comms/delivery.py (alarms first, a window of 8, go-back-N resends, the
# centre's signed acks bound to the report by its ref, the retained state and Home Assistant
# discovery) over comms/mqtt.py's link, seeing only the reports the Router offered it.
from mimamori.comms.delivery import Delivery
from mimamori.comms.paths import Path

NAME = "mqtt"


class MqttPath(Path):
    def __init__(self, journal, link, key, site, ack_deadline_s, on_command=None, log=None):
        Path.__init__(self, NAME, journal, ack_deadline_s * 1000)
        self.link = link
        # Delivery reads this path as its journal (outbox/get/ack/base/epoch: paths.Path), so it
        # sends what was offered here and its acks count for this path only. No hand-off of its
        # own: the Router decides that for every path.
        self.delivery = Delivery(self, link, key, site, ack_deadline_s=ack_deadline_s,
                                 on_command=on_command, log=log)
        self.delivery.on_delivered = self._acked

    @property
    def up(self):
        return self.link.connected

    def _acked(self, seq, now):
        # Delivery has already taken seq out of the box (ack()): tell the Router
        if self.on_delivered is not None:
            self.on_delivered(self, seq, now)

    def poll(self, now):
        self.delivery.poll(now)


def make_link(config, secrets, wifi=None, log=None):
    """The MQTT link from validated comms.mqtt and the secrets' broker credentials."""
    from mimamori.comms.mqtt import MqttLink
    mq = config["comms"]["mqtt"]
    cred = secrets.get("mqtt") or {}
    ssl_params = None
    if mq["tls"] and mq.get("ca_file"):
        try:
            with open(mq["ca_file"], "rb") as f:
                ssl_params = {"cadata": f.read()}
        except OSError:
            # No CA on flash: TLS cannot verify the broker, so the link fails to connect and
            # the communication check reports the path trouble.
            if log is not None:
                log.error("mqtt: CA file %s missing", mq["ca_file"])
    return MqttLink(config["site_id"], mq["host"], mq["port"], cred.get("username"),
                    cred.get("password"), mq["tls"], mq["keepalive_s"], mq["topic_prefix"],
                    wlan=wifi.wlan if wifi else None, ssl_params=ssl_params,
                    tls_name=mq.get("tls_name"))
