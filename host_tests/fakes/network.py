# Fake `network` with the ESP32 port's WLAN behaviour (ports/esp32/network_wlan.c), on the host
# clock. Plain Python that also runs inside the real MicroPython interpreter.
#
# What the port does, and so does this fake:
# - connect() returns at once; the station associates and gets an IP CONNECT_MS later
#   (isconnected() False and status() STAT_CONNECTING meanwhile).
# - While a connection is requested the driver retries for ever by default: a wrong password or a
#   missing AP keeps status() at STAT_CONNECTING. Only with config(reconnects=n) does it give up
#   after n attempts, and then status() reports the reason (STAT_WRONG_PASSWORD, STAT_NO_AP_FOUND).
# - A link lost while connected (cut_link) is STAT_BEACON_TIMEOUT internally; the driver
#   re-associates by itself when the AP is back (restore_link), CONNECT_MS later.
# - connect() while the station is still trying (connecting, or retrying a wrong password or a
#   missing AP) raises OSError("Wifi Internal Error"): the IDF answers "sta is connecting, return
#   error" (micropython issues 7139, 17661). disconnect() first to change the credentials.
# - status() with no argument is for the STA interface; the AP interface returns None.
#
# Test-side API: set_ap(ssid, password) (the access point the house has), cut_link(),
# restore_link(), reset() (fresh radio). Times are virtual when hostclock is virtual.
import hostclock

STA_IF = 0
AP_IF = 1

STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_BEACON_TIMEOUT = 200
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_ASSOC_FAIL = 203
STAT_HANDSHAKE_TIMEOUT = 204
STAT_CONNECT_FAIL = 205

AUTH_OPEN = 0
AUTH_WEP = 1
AUTH_WPA_PSK = 2
AUTH_WPA2_PSK = 3
AUTH_WPA_WPA2_PSK = 4

CONNECT_MS = 1500       # association + DHCP on a good link
ATTEMPT_MS = 3000       # one failed attempt (auth timeout / scan for a missing AP)

_BASE_MAC = b"\x24\x0a\xc4\x5a\x17\x30"


def _now():
    return hostclock.clock.now_ms


class _AP:
    def __init__(self):
        self.ssid = "mimamori-test"
        self.password = "correct horse"
        self.up = True


_ap = _AP()
_ifaces = {}


def set_ap(ssid, password):
    """Test API: the house's access point (what a correct connect() must match)."""
    _ap.ssid = ssid
    _ap.password = password


def cut_link():
    """Test API: the AP vanishes (power cut at the router, jamming)."""
    _ap.up = False


def restore_link():
    """Test API: the AP is back; a station that still wants it re-associates."""
    _ap.up = True
    sta = _ifaces.get(STA_IF)
    if sta is not None and sta._requested:
        sta._attempt_from = _now()


def reset():
    """Test API: a fresh radio and a reachable AP with the default credentials."""
    global _ap, _ifaces
    _ap = _AP()
    _ifaces = {}


class WLAN:
    IF_STA = STA_IF
    IF_AP = AP_IF
    PM_NONE = 0
    PM_PERFORMANCE = 1
    PM_POWERSAVE = 2

    def __new__(cls, interface_id=STA_IF):
        if interface_id not in (STA_IF, AP_IF):
            raise ValueError("invalid WLAN interface identifier")
        w = _ifaces.get(interface_id)
        if w is None:
            w = object.__new__(cls)
            w._if = interface_id
            w._active = False
            w._requested = False
            w._ssid = None
            w._key = None
            w._attempt_from = 0
            w._reason = 0
            w._reconnects = 0
            w._mac = _BASE_MAC if interface_id == STA_IF else \
                _BASE_MAC[:5] + bytes([(_BASE_MAC[5] + 1) & 0xFF])
            w._hostname = "mimamori"
            w._ip = ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")
            w._pm = 1
            _ifaces[interface_id] = w
        return w

    def __init__(self, interface_id=STA_IF):
        pass

    def active(self, is_active=None):
        if is_active is None:
            return self._active
        self._active = bool(is_active)
        if not self._active:
            self._requested = False
        return self._active

    def connect(self, ssid=None, key=None, bssid=None):
        if self._if != STA_IF:
            raise OSError("STA required")
        if not self._active:
            raise OSError("Wifi Not Started")
        if self._requested and not self._state()[0] and self.status() == STAT_CONNECTING:
            raise OSError("Wifi Internal Error")
        if ssid is not None:
            self._ssid = ssid
            self._key = key
        if self._requested and self._state()[0]:
            return              # already associated with this AP: stays up
        self._requested = True
        self._reason = 0
        self._attempt_from = _now()

    def disconnect(self):
        self._requested = False
        self._reason = 8        # WIFI_REASON_ASSOC_LEAVE

    def _state(self):
        """(connected, failed attempts so far, failure reason) at the present instant."""
        if not (self._active and self._requested):
            return False, 0, 0
        if _ap.up and self._ssid == _ap.ssid and self._key == _ap.password:
            return _now() - self._attempt_from >= CONNECT_MS, 0, 0
        if not _ap.up or self._ssid != _ap.ssid:
            reason = STAT_NO_AP_FOUND
        else:
            reason = STAT_WRONG_PASSWORD
        return False, (_now() - self._attempt_from) // ATTEMPT_MS, reason

    def isconnected(self):
        if self._if == AP_IF:
            return False        # no stations join the fake's soft AP
        return self._state()[0]

    def status(self, param=None):
        if param is None:
            if self._if != STA_IF:
                return None
            connected, fails, reason = self._state()
            if connected:
                return STAT_GOT_IP
            if self._requested and self._active and (
                    self._reconnects == 0 or fails < self._reconnects):
                return STAT_CONNECTING
            if reason:
                return reason
            return self._reason if self._reason not in (0, 8) else STAT_IDLE
        if param == "rssi":
            if self._if != STA_IF:
                raise OSError("STA required")
            if not self.isconnected():
                raise OSError("Wifi Not Connected")
            return -58
        if param == "stations":
            if self._if != AP_IF:
                raise OSError("AP required")
            return []
        raise ValueError("unknown status param")

    def ifconfig(self, config=None):
        if config is not None:
            self._ip = tuple(config)
            return None
        if self._if == STA_IF and not self.isconnected():
            return ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")
        if self._ip[0] != "0.0.0.0":
            return self._ip
        if self._if == AP_IF:
            return ("192.168.4.1", "255.255.255.0", "192.168.4.1", "0.0.0.0")
        return ("192.168.1.50", "255.255.255.0", "192.168.1.1", "192.168.1.1")

    def scan(self):
        if self._if != STA_IF or not self._active:
            raise OSError("STA must be active")
        if not _ap.up:
            return []
        return [(_ap.ssid.encode(), b"\x10\x20\x30\x40\x50\x60", 6, -58, AUTH_WPA2_PSK, False)]

    def config(self, *args, **kw):
        if args and kw:
            raise TypeError("either pos or kw args are allowed")
        if kw:
            for k, v in kw.items():
                if k == "mac":
                    if len(v) != 6:
                        raise ValueError("invalid buffer length")
                    self._mac = bytes(v)
                elif k == "reconnects":
                    self._reconnects = max(v, 0)
                elif k in ("hostname", "dhcp_hostname"):
                    self._hostname = v
                elif k == "pm":
                    self._pm = v
                elif k in ("ssid", "essid", "key", "password", "channel", "security",
                           "authmode", "txpower", "max_clients", "hidden"):
                    pass
                else:
                    raise ValueError("unknown config param")
            return None
        if len(args) != 1:
            raise TypeError("can query only one param")
        k = args[0]
        if k == "mac":
            return self._mac
        if k in ("ssid", "essid"):
            return self._ssid or ""
        if k == "reconnects":
            return self._reconnects
        if k in ("hostname", "dhcp_hostname"):
            return self._hostname
        if k == "pm":
            return self._pm
        if k == "channel":
            return 6
        raise ValueError("unknown config param")


def hostname(name=None):
    if name is None:
        return WLAN(STA_IF)._hostname
    WLAN(STA_IF)._hostname = name
