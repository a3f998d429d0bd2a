# A report link whose network is down, for running the whole App where there is no socket (the
# WebAssembly MicroPython). It has MqttLink's interface (comms/mqtt.py) and never connects, so
# reports wait in the journal exactly as during a broker outage.


class OfflineLink:
    def __init__(self, site, prefix="mimamori/v1"):
        self.site = site
        self.prefix = prefix
        self.on_message = None
        self.on_up = None
        self.polls = 0

    def topic(self, name):
        return ("%s/%s/%s" % (self.prefix, self.site, name)).encode()

    @property
    def connected(self):
        return False

    def can_publish(self, nbytes):
        return False

    def publish(self, topic, payload, retain=False, qos=0):
        return False

    def poll(self, now):
        self.polls += 1

    def close(self, now=0):
        pass
