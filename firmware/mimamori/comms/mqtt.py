# The MQTT link: one non-blocking socket to the broker, with every network wait bounded.
#
# The packets are encoded and parsed by proto/mqtt.py (a sans-I/O MQTT 3.1.1 codec: bytes in,
# packets out); this module keeps only the socket, TLS, the connection states, backoff,
# keepalive and liveness. No MQTT library is imported: umqtt.simple blocks where the field hurts
# (mqtt_as's lessons: connect() blocks in the TCP connect and waits for CONNACK without a
# timeout, publish(qos=1) and subscribe() loop in wait_msg() until the broker answers), and
# reaching into its private fields tied the link to one release of it. PUBACK is counted, never
# waited for: the centre's signed ack is the real delivery confirmation (comms/delivery.py).
#
# poll(now) does at most one non-blocking write and reads at most RX_BUDGET bytes (enough to keep
# up with the link, so a flood on our topics cannot queue in front of an ack), parsing as it
# goes: it never sleeps, and in steady state it allocates nothing. An incoming packet over
# MAX_PACKET is skipped as it streams in (the session is kept). A session whose reports get no
# PUBACK for PROGRESS_MS, or that brings no whole packet for 1.5 keepalive periods, is dropped
# and dialled again (a broker that drips a byte now and then is not alive). Nothing here blocks:
# a host name is resolved by a DNS query over a non-blocking UDP socket (comms/resolve.py;
# MicroPython's getaddrinfo would stall the loop for seconds with a slow resolver), an IP address
# is never resolved at all. A TLS handshake runs inside the same non-blocking reads and writes
# (MicroPython's ssl with do_handshake_on_connect=False); the CA (PEM or DER on flash) is handed
# to ssl as DER, the only form mbedtls takes from MicroPython (comms/tls.py).
#
# Topics: <prefix>/<site>/{event,ack,cmd,status,state}; the client id is the site id; last will
# "offline" retained on status, "online" retained once connected; reconnect with exponential
# backoff (jittered) while Wi-Fi is up; Wi-Fi down (network.WLAN.isconnected) drops the session.
import errno

from mimamori.compat import ticks_diff, ticks_add, const
from mimamori.proto import mqtt as codec
from mimamori.proto.mqtt_reader import Reader
from mimamori.comms.resolve import Address
from mimamori.comms.tls import ca_der, context as tls_context  # noqa: F401 - ca_der: its old home
from mimamori.comms import netio

DOWN = const(0)          # no socket; waiting for Wi-Fi or for the backoff to pass
CONNECTING = const(1)    # TCP connect in progress
CONNACK = const(2)       # CONNECT sent, waiting for CONNACK
UP = const(3)            # session established, subscribed
RESOLVING = const(4)     # waiting for the DNS answer for the broker's host name

CONNECT_TIMEOUT_MS = const(8000)   # TCP connect + CONNACK
STALL_MS = const(15000)            # bytes queued but the socket takes none: degraded link
# A QoS 1 publish (a report) without its PUBACK for this long: the broker, or the path to it,
# no longer works, even if bytes still trickle in (one byte every few seconds keeps a TCP
# connection and a byte-based keepalive happy). Drop the session and dial again.
PROGRESS_MS = const(15000)
BACKOFF_MIN_MS = const(500)
BACKOFF_MAX_MS = const(60000)
TX_LIMIT = const(4096)             # bytes queued for the socket; publish() refuses beyond
RX_CHUNK = const(1024)             # one readinto() into the preallocated buffer
# Bytes read per poll at most. 16 KB per 10 ms loop pass is 1.6 MB/s, more than the ESP32's
# Wi-Fi delivers to one socket (lwIP's receive window is ~5.7 KB per round trip), so a flood on
# our topics is read as fast as it arrives and cannot queue up in front of an ack; and bounded,
# so one poll never parses more than this.
RX_BUDGET = const(16384)
MAX_PACKET = const(4096)    # largest incoming MQTT packet kept (frames are < 1 KB)


class MqttLink:
    def __init__(self, site, host, port=0, user=None, password=None, tls=False, keepalive_s=60,
                 prefix="mimamori/v1", wlan=None, on_message=None, on_up=None,
                 subscribe=("ack", "cmd"), ssl_params=None, seed=0, tls_name=None, dns=None):
        self.site = site
        self.prefix = prefix
        self.host = host
        self.port = port or (8883 if tls else 1883)
        self.tls = tls
        self.ssl_params = ssl_params or {}
        # the name the broker's certificate must carry (default: the host dialled)
        self.tls_name = tls_name or host
        self._ctx = None
        self.wlan = wlan
        self.on_message = on_message   # f(topic bytes, payload bytes)
        self.on_up = on_up             # f(): session (re)established
        self.keepalive_ms = keepalive_s * 1000
        self._keepalive_s = keepalive_s
        self._user = user
        # with a user name, a password always goes too (empty if none): what brokers expect
        self._password = (password or "") if user is not None else None
        # Commands at QoS 1. Acks at QoS 0: a lost ack only means a resend, and answering each
        # with a PUBACK would put a small segment in flight that Nagle then makes the next report
        # wait behind (a delayed-ACK round, ~40 ms on Linux and lwIP).
        self._subs = [(t, 0 if t.endswith(b"/ack") else 1)
                      for t in [self.topic(s) for s in subscribe]]
        self._pid = 0              # the last packet id used (MQTT 3.1.1 section 2.3.1)
        self._tx = bytearray()     # packets queued for the socket
        self._rx = Reader(MAX_PACKET)
        self._buf = bytearray(RX_CHUNK)
        self._mv = memoryview(self._buf)
        self._sock = None
        # An IP address is the address: no lookup, ever. A name is looked up (non-blocking)
        # before a dial once its last answer's TTL has passed (dns: (server ip, port); default:
        # the Wi-Fi's DNS server).
        self._where = Address(host, self.port, dns, wlan)
        self._poller = None
        self.state = DOWN
        self._retry_at = None
        self._backoff = BACKOFF_MIN_MS
        self._t_state = 0
        self._t_rx = 0
        self._t_tx = 0
        self._now = 0              # the time of the last poll (publish() has no clock)
        self._unacked = 0          # QoS 1 publishes of this session still without PUBACK
        self._t_progress = 0       # when a PUBACK last came (or the oldest unacked went out)
        self._rand = (seed or 12345) & 0x7FFFFFFF
        self.last_error = None
        # figures
        self.connects = 0
        self.drops = 0
        self.pubacks = 0
        self.published = 0
        self.skipped = 0           # incoming packets over MAX_PACKET, skipped (session kept)

    # --- public -----------------------------------------------------------------------------
    def topic(self, name):
        return ("%s/%s/%s" % (self.prefix, self.site, name)).encode()

    @property
    def connected(self):
        return self.state == UP

    def can_publish(self, nbytes):
        return self.state == UP and len(self._tx) + nbytes + 64 <= TX_LIMIT

    def publish(self, topic, payload, retain=False, qos=0):
        """Queue one message; the socket takes it in later polls. False if not connected or the
        queue is full (the caller retries: nothing here waits)."""
        if not self.can_publish(len(topic) + len(payload)):
            return False
        if qos == 0:
            codec.publish(self._tx, topic, payload, 0, retain)
        else:
            codec.publish(self._tx, topic, payload, 1, retain, self._next_pid())
            if not self._unacked:
                self._t_progress = self._now
            self._unacked += 1
        self.published += 1
        return True

    def poll(self, now):
        """Bounded, non-blocking work. Call often (every loop pass)."""
        self._now = now
        if self.wlan is not None and not self.wlan.isconnected():
            if self.state != DOWN:
                self._drop(now, "wifi")
            return
        try:
            if self.state == DOWN:
                if self._retry_at is None or ticks_diff(now, self._retry_at) >= 0:
                    self._start(now)
            elif self.state == RESOLVING:
                if self._where.poll(now):
                    self._connect(now)
            elif self.state == CONNECTING:
                self._check_connected(now)
            else:
                self._io(now)
        except OSError as e:
            why = e.args[1] if len(e.args) > 1 else ""
            if not (isinstance(why, str) and (why[:4] == "dns:" or why[:5] == "mqtt:")):
                why = "oserror %s" % (e.args[0] if e.args else e)
            self._drop(now, why)
        except codec.MqttError as e:       # the broker sent something that is not MQTT
            self._drop(now, "mqtt: %s" % e)

    def close(self, now=0):
        """Orderly disconnect (the will is not published)."""
        if self.state == UP and self._sock is not None:
            bye = bytearray()
            codec.disconnect(bye)
            try:
                self._sock.write(bye)
            except OSError:
                pass
        self._drop(now, "closed")
        self._retry_at = ticks_add(now, 1 << 29)

    # --- connection -------------------------------------------------------------------------
    def _set(self, state, now):
        self.state = state
        self._t_state = now

    def _start(self, now):
        if self._where.fresh(now):
            self._connect(now)
        else:
            self._rand = (self._rand * 1103515245 + 12345) & 0x7FFFFFFF
            self._where.start(netio.socket_module(), now, self._rand >> 8)
            self._set(RESOLVING, now)

    def _connect(self, now):
        self._sock, self._poller = netio.dial(self._where.addr)
        self._rx.reset()
        self._tx[:] = b""
        self._unacked = 0
        self._set(CONNECTING, now)

    def _check_connected(self, now):
        if netio.connected(self._poller):
            self._poller = None
            if self.tls:
                # the handshake runs in the next non-blocking reads and writes
                self._sock = self._context().wrap_socket(
                    self._sock, server_hostname=self.tls_name, do_handshake_on_connect=False)
            self._connect_packet()
            self._t_rx = now
            self._t_tx = now
            self._set(CONNACK, now)
            self._io(now)
            return
        if ticks_diff(now, self._t_state) > CONNECT_TIMEOUT_MS:
            raise OSError(errno.ETIMEDOUT)

    def _context(self):
        """The TLS context, made once (comms/tls.py: the broker is always verified)."""
        if self._ctx is None:
            self._ctx = tls_context(self.ssl_params.get("cadata"))
        return self._ctx

    def _next_pid(self):
        self._pid = self._pid % 65535 + 1       # 1..65535, never 0 (section 2.3.1)
        return self._pid

    def _connect_packet(self):
        # clean session: unacked reports are resent from the journal anyway
        codec.connect(self._tx, self.site, self._keepalive_s, True, self.topic("status"),
                      b"offline", 1, True, self._user, self._password)

    def _drop(self, now, reason):
        self._where.close()
        self._sock = netio.close(self._sock)
        self._poller = None
        if self.state != DOWN:
            self.drops += 1
        self.last_error = reason
        self._set(DOWN, now)
        # exponential backoff with +-25 % jitter, so a broker restart is not hit by every site
        # in the same second
        self._rand = (self._rand * 1103515245 + 12345) & 0x7FFFFFFF
        wait = self._backoff * 3 // 4 + self._rand % (self._backoff // 2 + 1)
        self._retry_at = ticks_add(now, wait)
        self._backoff = min(self._backoff * 2, BACKOFF_MAX_MS)

    # --- traffic ----------------------------------------------------------------------------
    def _io(self, now):
        s = self._sock
        tx = self._tx
        if tx:
            n = netio.write(s, tx)
            if n:
                # (not `del tx[:n]`: MicroPython's bytearray has no item deletion; a shrinking
                # slice assignment works on both runtimes and allocates nothing)
                tx[:n] = b""
                self._t_tx = now
            elif ticks_diff(now, self._t_tx) > STALL_MS:
                raise OSError(errno.ETIMEDOUT)
        # Read what the link brings, up to RX_BUDGET, parsing after each chunk (so nothing is
        # held but one packet: MAX_PACKET at most, in the codec's one buffer).
        rx = self._rx
        budget = RX_BUDGET
        while budget > 0:
            n = netio.readinto(s, self._buf)
            if n is None:
                break                    # nothing more for now (or half a TLS record)
            if n == 0:
                raise OSError(errno.ECONNRESET)   # the broker closed the connection
            budget -= n
            rx.feed(self._mv, n)
            t = rx.next()
            while t:
                self._packet(t, now)
                t = rx.next()
        if self.state == CONNACK:
            if ticks_diff(now, self._t_state) > CONNECT_TIMEOUT_MS:
                raise OSError(errno.ETIMEDOUT)
            return
        if self._unacked and ticks_diff(now, self._t_progress) > PROGRESS_MS:
            raise OSError(errno.ETIMEDOUT)       # reports sent, no PUBACK: a dead broker
        # keepalive: ping at half the period; no whole packet from the broker for 1.5 periods
        # = dead (a packet, not a byte: a dripping peer does not count as alive)
        if self.keepalive_ms:
            if ticks_diff(now, self._t_tx) > self.keepalive_ms // 2 and not tx:
                codec.pingreq(tx)
                self._t_tx = now
            if ticks_diff(now, self._t_rx) > self.keepalive_ms * 3 // 2:
                raise OSError(errno.ETIMEDOUT)

    def _packet(self, t, now):
        """One whole packet from the broker (its fields are in self._rx)."""
        rx = self._rx
        self._t_rx = now
        if (t == codec.CONNACK) != (self.state == CONNACK):
            # the server's first packet is CONNACK, and only the first (section 3.2)
            raise codec.MqttError("CONNACK out of turn")
        if t == codec.PUBLISH or t == codec.SKIPPED:
            if rx.qos > 1:
                # we subscribe at QoS 1 at most: a broker may not send more (section 3.8.4)
                raise codec.MqttError("PUBLISH at QoS 2, never subscribed for")
            if t == codec.SKIPPED:
                # Our frames are well under 1 KB. A bigger packet (a mistaken or hostile publish
                # on our topics, or one left retained on the cmd topic, which the broker hands
                # over at every subscription) was not kept: buffering it would grow the heap
                # without bound, and dropping the session would bring it back at the next one.
                # A QoS 1 PUBLISH is still PUBACKed, or the broker would hold it in flight and,
                # after 20 of them (mosquitto's max_inflight_messages), deliver nothing more.
                self.skipped += 1
            elif self.on_message:
                try:
                    self.on_message(rx.topic(), rx.payload())
                except Exception as e:   # noqa: BLE001 - the handler's fault, not the stream's:
                    # the rest of this read is still parsed (raising here would lose it and
                    # desynchronise the stream); the message is acknowledged as handled
                    self.last_error = "on_message: %r" % (e,)
            if rx.qos and rx.pid:
                codec.puback(self._tx, rx.pid)
        elif t == codec.CONNACK:
            if rx.code:                 # bad credentials, not authorised ...
                raise OSError(errno.ECONNREFUSED, "mqtt: refused: %s (CONNACK %d)" % (
                    codec.refusal(rx.code), rx.code))
            self._up(now)
        elif t == codec.PUBACK:
            self.pubacks += 1
            if self._unacked:
                self._unacked -= 1
            self._t_progress = now
        elif t == codec.SUBACK:
            if rx.code == codec.SUBACK_FAILURE:
                raise OSError(errno.EACCES, "mqtt: subscription refused")
        # PINGRESP: alive (above). PUBREC, PUBREL, PUBCOMP, UNSUBACK: never asked for, ignored.

    def _up(self, now):
        self._set(UP, now)
        self.connects += 1
        self._backoff = BACKOFF_MIN_MS
        codec.subscribe(self._tx, self._next_pid(), self._subs)
        codec.publish(self._tx, self.topic("status"), b"online", 0, True)
        if self.on_up:
            self.on_up()
