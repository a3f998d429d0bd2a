# Host shim: MicroPython's ssl module (1.2x, the mbedtls ports: ESP32) on CPython, for
# mimamori.comms.mqtt. On the board `import ussl` is the built-in ssl; this file is not used.
#
# What the ESP32 port does, and so does this shim:
# - SSLContext(PROTOCOL_TLS_CLIENT), verify_mode, load_verify_locations(cadata=...): cadata is
#   ONE certificate in DER (MicroPython docs, ssl: "cadata is a bytes object containing the CA
#   certificate chain (in DER format)... Currently only a single DER-encoded certificate is
#   supported"). mbedtls takes PEM only NUL-terminated, which MicroPython never passes: PEM
#   given here fails to parse, as on the board (OSError with mbedtls's code).
# - wrap_socket(sock, server_side=False, do_handshake_on_connect=True, server_hostname=None):
#   the name is checked against the certificate when verify_mode is CERT_REQUIRED. With
#   do_handshake_on_connect=False on a non-blocking socket the handshake runs inside later
#   reads and writes, which return None while it needs the network (like any would-block).
# - A failed handshake (unknown CA, wrong name) raises OSError carrying mbedtls's error code.
# - The wrapped object is a MicroPython stream: write(buf[, n]) / readinto(buf) / read(n) /
#   close(); a would-block is None, the peer's close is 0 / b"".
import ssl as _ssl

PROTOCOL_TLS_CLIENT = 0
PROTOCOL_TLS_SERVER = 1
CERT_NONE = 0
CERT_OPTIONAL = 1
CERT_REQUIRED = 2

MBEDTLS_ERR_X509_CERT_VERIFY_FAILED = -0x2700
MBEDTLS_ERR_X509_INVALID_FORMAT = -0x2180
MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE = -0x7780


class SSLContext:
    def __init__(self, protocol):
        if protocol != PROTOCOL_TLS_CLIENT:
            raise ValueError("only PROTOCOL_TLS_CLIENT in this shim")
        self.verify_mode = CERT_REQUIRED     # MicroPython: the client default
        self._ca = None

    def load_verify_locations(self, cafile=None, cadata=None):
        if cafile is not None:
            with open(cafile, "rb") as f:
                cadata = f.read()
        data = bytes(cadata)
        if data.lstrip()[:5] == b"-----":
            raise OSError(MBEDTLS_ERR_X509_INVALID_FORMAT, "PEM given where DER is needed")
        try:
            _ssl.DER_cert_to_PEM_cert(data)
            probe = _ssl.SSLContext(_ssl.PROTOCOL_TLS_CLIENT)
            probe.load_verify_locations(cadata=data)
        except (ValueError, _ssl.SSLError):
            raise OSError(MBEDTLS_ERR_X509_INVALID_FORMAT, "not a DER certificate")
        self._ca = data

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True,
                    server_hostname=None):
        ctx = _ssl.SSLContext(_ssl.PROTOCOL_TLS_CLIENT)
        if self.verify_mode == CERT_REQUIRED:
            ctx.verify_mode = _ssl.CERT_REQUIRED
            ctx.check_hostname = server_hostname is not None
            if self._ca is not None:
                ctx.load_verify_locations(cadata=self._ca)
            # no CA loaded: nothing is trusted and the handshake fails, as with mbedtls
        else:
            ctx.check_hostname = False
            ctx.verify_mode = _ssl.CERT_NONE
        raw = sock._s if hasattr(sock, "_s") else sock
        s = ctx.wrap_socket(raw, server_hostname=server_hostname,
                            do_handshake_on_connect=False)
        stream = _Stream(s, getattr(sock, "_blocking", True))
        if do_handshake_on_connect:
            stream._handshake()
        return stream


class _Stream:
    def __init__(self, s, blocking):
        self._s = s
        self._blocking = blocking
        self._done = False

    def _handshake(self):
        """True once the handshake is complete; False while it waits for the network."""
        if self._done:
            return True
        try:
            self._s.do_handshake()
        except (_ssl.SSLWantReadError, _ssl.SSLWantWriteError):
            return False
        except _ssl.SSLCertVerificationError as e:
            raise OSError(MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, str(e))
        except _ssl.SSLError as e:
            raise OSError(MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, str(e))
        self._done = True
        return True

    def write(self, buf, n=None):
        if not self._handshake():
            return None
        mv = memoryview(buf)
        if n is not None:
            mv = mv[:n]
        try:
            return self._s.send(mv)
        except (_ssl.SSLWantReadError, _ssl.SSLWantWriteError, BlockingIOError):
            return None

    def readinto(self, buf, n=None):
        if not self._handshake():
            return None
        try:
            return self._s.recv_into(buf, n or len(buf))
        except (_ssl.SSLWantReadError, _ssl.SSLWantWriteError, BlockingIOError):
            return None

    def read(self, n=-1):
        buf = bytearray(n if n > 0 else 4096)
        got = self.readinto(buf)
        return None if got is None else bytes(buf[:got])

    def setblocking(self, flag):
        self._blocking = bool(flag)
        self._s.setblocking(flag)

    def close(self):
        self._s.close()
