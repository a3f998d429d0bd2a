# MQTT 3.1.1 (OASIS Standard, 29 October 2014), the client's decoding side, sans-I/O: the bytes a
# socket brings, in pieces of any size, in; whole packets out, one at a time. The packet types,
# return codes and MqttError are proto/mqtt.py's (with the encoders and the rules this follows:
# one packet kept at most, an oversized one streamed past as SKIPPED, allocation only when a
# PUBLISH's topic or payload is asked for). Section numbers are the standard's.
from mimamori.proto.mqtt import (CONNACK, PUBLISH, PUBACK, PUBCOMP, PUBREL, SUBACK, UNSUBACK,
                                 PINGRESP, SKIPPED, SUBACK_FAILURE, MqttError)


class Reader:
    """Whole incoming packets out of a byte stream that arrives in pieces of any size.

        r = Reader(4096)
        r.feed(chunk, n)               # hand over chunk[:n] (kept by reference until used up)
        t = r.next()                   # a packet type, SKIPPED, or 0: the chunk is used up
        while t: ...; t = r.next()     # call next() until 0 before the next feed()

    After next() the packet's fields are attributes: qos, retain, dup, pid (PUBLISH, PUBACK,
    SUBACK ...; a SKIPPED QoS 1 PUBLISH: its packet id, 0 if it was never seen), code (CONNACK:
    the return code; SUBACK: SUBACK_FAILURE if any subscription was refused, else 0),
    session_present (CONNACK); topic() and payload() (PUBLISH) copy them out."""

    def __init__(self, max_packet=4096):
        self.max_packet = max_packet
        self.buf = bytearray(max_packet)
        self.skipped = 0           # packets skipped, over max_packet
        self.reset()

    def reset(self):
        """A new connection: nothing held."""
        self._in = None
        self._i = 0
        self._n = 0
        self.fill = 0              # bytes of the current packet held in buf
        self._need = 0             # its total length; 0 while its fixed header is incomplete
        self._hdr = 0              # its fixed header's length
        self._rem = 0
        self._left = 0             # skipping: bytes still to discard
        self._pos = 0              # skipping: position in the packet of the next byte
        self._got = 0              # skipping a QoS 1/2 PUBLISH: topic length, packet id bytes seen
        self._tlen = 0
        self._spid = 0
        self.type = 0
        self.qos = 0
        self.retain = 0
        self.dup = 0
        self.pid = 0
        self.code = 0
        self.session_present = 0
        self._t0 = self._t1 = self._p0 = self._p1 = 0

    def feed(self, data, n=-1):
        """Hand over data[:n] (all of data if n < 0); next() takes the packets out of it."""
        if self._i < self._n:
            raise ValueError("Reader.feed: the last chunk is not used up")
        self._in = data
        self._i = 0
        self._n = len(data) if n < 0 else n

    def held(self):
        """Bytes held of a packet not yet complete (never more than max_packet)."""
        return self.fill

    def topic(self):
        return bytes(self.buf[self._t0:self._t1])

    def payload(self):
        return bytes(self.buf[self._p0:self._p1])

    def next(self):
        data = self._in
        buf = self.buf
        while True:
            avail = self._n - self._i
            if self._left:                       # an oversized packet streams past
                k = self._left if self._left < avail else avail
                if self._got < 4 and self.type == PUBLISH and self.qos:
                    self._note(data, self._i, k)
                self._i += k
                self._pos += k
                self._left -= k
                if self._left:
                    return 0
                self.skipped += 1
                self.pid = self._spid if self._got == 4 else 0
                self.fill = 0
                return SKIPPED
            if not self._need:                   # the fixed header, one byte at a time
                if not avail:
                    return 0
                b = data[self._i]
                self._i += 1
                buf[self.fill] = b
                self.fill += 1
                if self.fill == 1:
                    self._first(b)
                    continue
                self._rem |= (b & 0x7F) << (7 * (self.fill - 2))
                if b & 0x80:
                    if self.fill == 5:
                        raise MqttError("remaining length: a fifth byte (2.2.3)")
                    continue
                self._hdr = self.fill
                total = self.fill + self._rem
                if total > self.max_packet:
                    self._left = self._rem
                    self._pos = self.fill
                    self._got = 0
                    self._tlen = 0
                    self._spid = 0
                    if self._left:
                        continue
                self._need = total
                avail = self._n - self._i
            k = self._need - self.fill
            if k > avail:
                k = avail
            if k:
                i = self._i
                f = self.fill
                if k <= 8:
                    for j in range(k):
                        buf[f + j] = data[i + j]
                else:
                    buf[f:f + k] = data[i:i + k]
                self._i = i + k
                self.fill = f + k
            if self.fill < self._need:
                return 0
            return self._decode()

    def _first(self, b):
        """The fixed header's first byte: a type a server sends, with its flags (2.2.2)."""
        t = b >> 4
        f = b & 0x0F
        self.type = t
        self._rem = 0
        if t == PUBLISH:
            self.qos = (f >> 1) & 3
            self.retain = f & 1
            self.dup = f >> 3
            if self.qos == 3:
                raise MqttError("PUBLISH: QoS 3 (3.3.1.2)")
            return
        self.qos = 0
        if t == PUBREL:
            if f != 2:
                raise MqttError("PUBREL: reserved flags not 0010 (3.6.1)")
            return
        if t == CONNACK or PUBACK <= t <= PUBCOMP or t == SUBACK or t == UNSUBACK \
                or t == PINGRESP:
            if f:
                raise MqttError("packet type %d: reserved flags set (2.2.2)" % t)
            return
        raise MqttError("packet type %d: reserved, or sent by clients only (2.2.1)" % t)

    def _note(self, data, off, k):
        """From the next k bytes of a skipped QoS 1/2 PUBLISH (data[off:], at position _pos in
        the packet), note its topic length and then its packet id (3.3.2): a PUBACK needs it."""
        pos = self._pos
        while self._got < 4:
            got = self._got
            q = self._hdr + got + (self._tlen if got >= 2 else 0)
            if q >= pos + k:
                return
            v = data[off + q - pos]
            if got < 2:
                self._tlen = self._tlen << 8 | v
            else:
                self._spid = self._spid << 8 | v
            self._got = got + 1

    def _decode(self):
        b = self.buf
        h = self._hdr
        end = self._need
        t = self.type
        self.fill = 0
        self._need = 0
        rem = end - h
        if t == PUBLISH:
            if rem < 2:
                raise MqttError("PUBLISH: no room for the topic length (3.3.2.1)")
            tl = b[h] << 8 | b[h + 1]
            if not tl:
                raise MqttError("PUBLISH topic: empty (4.7.3)")
            self._t0 = h + 2
            self._t1 = h + 2 + tl
            self._p0 = self._t1 + (2 if self.qos else 0)
            if self._p0 > end:
                raise MqttError("PUBLISH topic: runs past the packet (3.3.2.1)")
            self.pid = 0
            if self.qos:
                self.pid = b[self._t1] << 8 | b[self._t1 + 1]
                if not self.pid:
                    raise MqttError("PUBLISH packet id: 0 (2.3.1)")
            self._p1 = end
            return t
        if t == CONNACK:
            if rem != 2:
                raise MqttError("CONNACK: remaining length %d, not 2 (3.2.1)" % rem)
            if b[h] & 0xFE:
                raise MqttError("CONNACK: reserved acknowledge flags set (3.2.2.1)")
            self.session_present = b[h] & 1
            self.code = b[h + 1]
            return t
        if t == PINGRESP:
            if rem:
                raise MqttError("PINGRESP: remaining length %d, not 0 (3.13.1)" % rem)
            return t
        if t == SUBACK:
            if rem < 3:
                raise MqttError("SUBACK: remaining length %d, under 3 (3.9.2)" % rem)
            self.code = 0
            for i in range(h + 2, end):
                c = b[i]
                if c == SUBACK_FAILURE:
                    self.code = SUBACK_FAILURE
                elif c > 2:
                    raise MqttError("SUBACK return code: 0x%02x reserved (3.9.3)" % c)
        elif rem != 2:                 # PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK
            raise MqttError("packet type %d: remaining length %d, not 2" % (t, rem))
        self.pid = b[h] << 8 | b[h + 1]
        return t
