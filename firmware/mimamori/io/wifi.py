# Wi-Fi station management that never blocks the loop: connect() only starts the attempt; poll()
# checks the status and retries with backoff. MQTT asks `wlan.isconnected()` before using it.
from mimamori.compat import const, ticks_diff, ticks_add

RETRY_MIN_MS = const(2000)
RETRY_MAX_MS = const(120000)


class Wifi:
    def __init__(self, ssid, password, network_module=None):
        if network_module is None:
            import network as network_module
        self.wlan = network_module.WLAN(network_module.STA_IF)
        self.wlan.active(True)
        self._ssid = ssid
        self._password = password
        self._retry_at = None
        self._backoff = RETRY_MIN_MS
        self.connects = 0
        self.was_up = False

    def __repr__(self):
        return "Wifi(ssid=%r, password=<hidden>)" % self._ssid

    def poll(self, now):
        up = self.wlan.isconnected()
        if up:
            if not self.was_up:
                self.connects += 1
                self._backoff = RETRY_MIN_MS
            self.was_up = True
            return True
        self.was_up = False
        if self._retry_at is None or ticks_diff(now, self._retry_at) >= 0:
            try:
                self.wlan.connect(self._ssid, self._password)   # starts the attempt, returns
            except OSError:
                pass   # the port raises while a previous attempt is still running: try later
            self._retry_at = ticks_add(now, self._backoff)
            self._backoff = min(self._backoff * 2, RETRY_MAX_MS)
        return False
