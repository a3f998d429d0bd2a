# TLS for the MQTT link: the broker's CA as the DER mbedtls takes, and the client context that
# always verifies the broker. The handshake itself runs inside comms/mqtt.py's non-blocking reads
# and writes (do_handshake_on_connect=False).
import errno


def ca_der(data):
    """The broker's CA certificate as DER, what MicroPython's ssl (mbedtls) needs in
    load_verify_locations(cadata=): one certificate, DER (MicroPython docs, ssl module). A PEM
    file (what openssl and most CAs hand out) is decoded here; DER passes unchanged. Only the
    first certificate of a PEM bundle is used. ValueError if it is neither."""
    data = bytes(data)
    begin = data.find(b"-----BEGIN CERTIFICATE-----")
    if begin < 0:
        if data[:1] != b"\x30":        # DER: an ASN.1 SEQUENCE
            raise ValueError("CA file: neither PEM nor DER")
        return data
    begin += 27
    end = data.find(b"-----END CERTIFICATE-----", begin)
    if end < 0:
        raise ValueError("CA file: PEM without its END line")
    import binascii
    try:
        der = binascii.a2b_base64(b"".join(data[begin:end].split()))
    except Exception:  # noqa: BLE001 - binascii.Error on CPython, ValueError on MicroPython
        raise ValueError("CA file: bad base64 in the PEM")
    if der[:1] != b"\x30":
        raise ValueError("CA file: the PEM holds no certificate")
    return der


def _ssl():
    try:
        import ussl as ssl      # the MicroPython name (host: host_tests/fakes/ussl.py)
    except ImportError:         # pragma: no cover - a port without the u-alias
        import ssl
    return ssl


def context(cadata):
    """The TLS client context: the broker's certificate is always verified, against the
    configured CA (cadata, PEM or DER) and for the link's tls_name. No CA (file missing) means
    nothing is trusted: the handshake fails, the link never falls back to an unverified one."""
    ssl = _ssl()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.verify_mode = ssl.CERT_REQUIRED
    if cadata:
        try:
            ctx.load_verify_locations(cadata=ca_der(cadata))
        except ValueError as e:
            raise OSError(errno.EINVAL, str(e))   # dropped and retried, logged
    return ctx
