"""spandsp's Ademco Contact ID receiver and sender (Debian's libspandsp2) through ctypes.

The receiver is the landline tests' judge: a third-party implementation sends the handshake
(500 ms silence, 1400 Hz 100 ms, 100 ms silence, 2300 Hz 100 ms), decodes the DTMF, checks the
checksum, and sends the kissoff (850 ms of 1400 Hz) itself. Our code never decides for it.
The sender is the bench's reference: spandsp's own Contact ID transmitter on the same line.

Audio is 8 kHz signed 16-bit, exchanged as array('h'). CPython only (ctypes).
"""
import ctypes
import ctypes.util
from array import array

_LIB = None


def lib():
    global _LIB
    if _LIB is None:
        name = ctypes.util.find_library("spandsp") or "libspandsp.so.2"
        try:
            _LIB = ctypes.CDLL(name)
        except OSError as exc:
            raise RuntimeError("libspandsp2 is missing: tools/setup.sh installs it "
                               "(apt-get install libspandsp2)") from exc
        L = _LIB
        L.ademco_contactid_receiver_init.restype = ctypes.c_void_p
        L.ademco_contactid_receiver_init.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                                     ctypes.c_void_p]
        L.ademco_contactid_receiver_rx.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        L.ademco_contactid_receiver_tx.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        L.ademco_contactid_receiver_free.argtypes = [ctypes.c_void_p]
        L.ademco_contactid_sender_init.restype = ctypes.c_void_p
        L.ademco_contactid_sender_init.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                                   ctypes.c_void_p]
        L.ademco_contactid_sender_rx.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        L.ademco_contactid_sender_tx.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        L.ademco_contactid_sender_put.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        L.ademco_contactid_sender_free.argtypes = [ctypes.c_void_p]
        L.encode_msg.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    return _LIB


class Report(ctypes.Structure):
    """ademco_contactid_report_t: each field holds its digits read as hex (spandsp's choice)."""
    _fields_ = [(n, ctypes.c_int) for n in ("acct", "mt", "q", "xyz", "gg", "ccc")]

    def digits(self):
        """The message as Ademco digits without the check digit, e.g. '123418113101003'."""
        return "%04X%02X%X%03X%02X%03X" % (self.acct, self.mt, self.q, self.xyz, self.gg,
                                           self.ccc)


_REPORT_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(Report))
_TONE_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int)


def encode(acct, q, xyz, gg, ccc):
    """spandsp's encode_msg: the DTMF string it would send (fields given as Ademco digits)."""
    r = Report(int(acct, 16), 0x18, q, int(str(xyz), 16), int(str(gg), 16), int(str(ccc), 16))
    buf = ctypes.create_string_buffer(32)
    lib().encode_msg(buf, ctypes.byref(r))
    return buf.value.decode()


def _tx(fn, state, n):
    """n samples from a spandsp generator that may return fewer (pads with silence)."""
    buf = (ctypes.c_int16 * n)()
    got = 0
    while got < n:
        k = fn(state, ctypes.byref(buf, got * 2), n - got)
        if k <= 0:
            break
        got += k
    return array("h", bytes(buf))


def _rx(fn, state, samples):
    if len(samples):
        buf = (ctypes.c_int16 * len(samples)).from_buffer(samples)
        fn(state, buf, len(samples))


class Receiver:
    """A monitoring centre's Contact ID receiver answering one call.

    on_report(digits): the centre's line intake (tools/receiver.py Receiver.line_report).
    kissoffs_lost: how many of its kissoffs never reach the line (-1: all of them), to model a
    receiver whose acknowledgement the panel never hears."""

    def __init__(self, kissoffs_lost=0, on_report=None):
        self.on_report = on_report  # the centre's intake: called with each report's 15 digits
        self.reports = []           # Ademco digit strings (15, no check digit), in order heard
        self.kissoffs_lost = kissoffs_lost
        self.kissoffs_sent = 0
        self._muting = False
        self._cb = _REPORT_CB(self._on_report)
        self._s = lib().ademco_contactid_receiver_init(None, ctypes.cast(self._cb, ctypes.c_void_p),
                                                       None)

    def _on_report(self, _user, report):
        self.reports.append(report.contents.digits())
        if self.on_report is not None:
            self.on_report(self.reports[-1])
        if self.kissoffs_lost != 0:
            self._muting = True
            if self.kissoffs_lost > 0:
                self.kissoffs_lost -= 1
        else:
            self.kissoffs_sent += 1

    def rx(self, samples):
        _rx(lib().ademco_contactid_receiver_rx, self._s, samples)

    def tx(self, n):
        buf = (ctypes.c_int16 * n)()
        got = 0
        fn = lib().ademco_contactid_receiver_tx
        while got < n:
            k = fn(self._s, ctypes.byref(buf, got * 2), n - got)
            if k <= 0:
                self._muting = False    # idle again: whatever kissoff it had is over
                break
            got += k
        out = array("h", bytes(buf))
        if self._muting:
            return array("h", bytes(2 * n))
        return out

    def close(self):
        if self._s:
            lib().ademco_contactid_receiver_free(self._s)
            self._s = None

    def __del__(self):
        try:
            self.close()
        except Exception:   # noqa: BLE001 - interpreter shutdown
            pass


class Sender:
    """spandsp's own Contact ID transmitter (the bench's reference on the same line)."""

    def __init__(self):
        self.events = []            # (code, level, delay): -1 handshake heard, 1 kissoff, 0 gave up
        self._cb = _TONE_CB(self._on_tone)
        self._s = lib().ademco_contactid_sender_init(None, ctypes.cast(self._cb, ctypes.c_void_p),
                                                     None)

    def _on_tone(self, _user, code, level, delay):
        self.events.append(code)

    def put(self, acct, q, xyz, gg, ccc):
        r = Report(int(acct, 16), 0x18, q, int(str(xyz), 16), int(str(gg), 16),
                   int(str(ccc), 16))
        return lib().ademco_contactid_sender_put(self._s, ctypes.byref(r))

    def rx(self, samples):
        _rx(lib().ademco_contactid_sender_rx, self._s, samples)

    def tx(self, n):
        return _tx(lib().ademco_contactid_sender_tx, self._s, n)

    def close(self):
        if self._s:
            lib().ademco_contactid_sender_free(self._s)
            self._s = None
