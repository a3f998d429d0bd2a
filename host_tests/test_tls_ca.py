# The broker's CA file on flash, PEM or DER, handed to MicroPython's ssl as the one DER
# certificate mbedtls takes (comms/mqtt.py ca_der): before this, a PEM file was passed as is,
# parsed as DER, and TLS never came up. Runs on CPython and on the real MicroPython.
RUNS_ON_MICROPYTHON = True

import hashlib
import binascii

from mimamori.comms.mqtt import ca_der

# A throwaway CA made with openssl (tools/broker.py make_ca), as its PEM file reads, CRLF-free.
PEM = (b"-----BEGIN CERTIFICATE-----\n"
       b"MIIBnjCCAUWgAwIBAgIUVASCIxwXilGkPS3A+rcP8Teh91EwCgYIKoZIzj0EAwIw\n"
       b"HTEbMBkGA1UEAwwSbWltYW1vcmkgcmVhZG1lIENBMB4XDTI2MTIwMTE0MjMxOFoX\n"
       b"DTI2MTIwMzE0MjMxOFowHTEbMBkGA1UEAwwSbWltYW1vcmkgcmVhZG1lIENBMFkw\n"
       b"EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE0OB2HHIld6IM86E0m1DBmYBg1dB69L+T\n"
       b"AESTg/o4udHsRfooXM6EfZ6AL48DX4oThTKZU907qkcf/YKTXfPvr6NjMGEwHQYD\n"
       b"VR0OBBYEFIlrCeZw/b5xA99ObMuDNtId6KkbMB8GA1UdIwQYMBaAFIlrCeZw/b5x\n"
       b"A99ObMuDNtId6KkbMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoG\n"
       b"CCqGSM49BAMCA0cAMEQCIFtXzNhRmT8emtqLSt9a8i1BHBRzCOOjyrm8DM3ZqWup\n"
       b"AiApVMyp3+NyeDBLDwJlAwN4EgHo2cwtX+rD1BuOY3A8TQ==\n"
       b"-----END CERTIFICATE-----\n")
# What `openssl x509 -outform DER` gives for it: 418 bytes with this SHA-256.
DER_SHA256 = "c1aa30027c4660a53686b5bd10d9eac5bdd36907ce9a280bc0c98b74fb50e072"


def _sha(b):
    return binascii.hexlify(hashlib.sha256(b).digest()).decode()


def _raises(data):
    try:
        ca_der(data)
    except ValueError:
        return True
    return False


def test_a_pem_ca_file_becomes_the_der_certificate():
    der = ca_der(PEM)
    assert len(der) == 418 and _sha(der) == DER_SHA256


def test_windows_line_ends_and_a_bundle_give_the_first_certificate():
    crlf = PEM.replace(b"\n", b"\r\n")
    assert _sha(ca_der(crlf)) == DER_SHA256
    assert _sha(ca_der(PEM + PEM.replace(b"MIIB", b"MIIC", 1))) == DER_SHA256


def test_a_der_ca_file_is_used_as_it_is():
    der = ca_der(PEM)
    assert ca_der(der) == der


def test_what_is_not_a_certificate_is_refused_with_a_reason():
    assert _raises(b"")
    assert _raises(b"hello")
    assert _raises(PEM[:200])                                   # no END line
    assert _raises(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
