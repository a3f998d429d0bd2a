# Sealing the resident's code for a remote command (the centre seals, the controller opens) and
# the Home Assistant token: keys derived from the site key, no cipher library needed (seal_code
# says why this is enough). core/commands.py verifies the frames that carry them.
from binascii import hexlify, unhexlify

from mimamori.proto import frame

CODE_PAD = 16          # a sealed code is padded to this many bytes: its length does not show
NONCE_BYTES = 8
# Domain-separation labels: nothing signed as a frame (canonical JSON, starting with "{") can
# ever be one of these inputs, so a frame's mac is never a keystream and the other way round.
_CODE_KEY = b"mimamori/v1 code key"
_HA_TOKEN = b"mimamori/v1 ha token|"


def code_key(key):
    """The key that seals codes, derived from the site key (HMAC as a PRF, as in HKDF)."""
    return frame.hmac_sha256(key, _CODE_KEY)


def _stream(ckey, site, ctr, nonce):
    return frame.hmac_sha256(ckey, site.encode() + b"|" + str(ctr).encode() + b"|" + nonce)


def seal_code(key, site, ctr, code, nonce, ckey=None):
    """The centre's side: the resident's code, sealed for the controller, as hex.

    Why this is enough without a cipher library (the WebAssembly MicroPython has no cryptolib):
    the code, padded to CODE_PAD bytes, is XORed with HMAC-SHA256(code key, site|ctr|nonce). HMAC
    is a pseudo-random function, and the (ctr, nonce) pair is never used twice: the controller
    accepts each ctr once and the centre draws a fresh random nonce for every frame, so each
    keystream is used once: a one-time pad. The frame's mac covers the sealed code (encrypt then
    MAC), so it cannot be altered or moved to another frame (it opens under its own ctr only).
    Anyone holding the site key can open it; the site key is the controller's own secret."""
    raw = code.encode()
    if len(raw) > CODE_PAD:
        raise ValueError("code too long")
    raw = raw + b"\x00" * (CODE_PAD - len(raw))
    ks = _stream(ckey or code_key(key), site, ctr, nonce)
    return hexlify(nonce).decode() + hexlify(bytes([raw[i] ^ ks[i] for i in range(CODE_PAD)])).decode()


def open_code(key, site, ctr, sealed, ckey=None):
    """The controller's side: the code from seal_code's hex, or None if it is not one."""
    if not isinstance(sealed, str) or len(sealed) != 2 * (NONCE_BYTES + CODE_PAD):
        return None
    try:
        raw = unhexlify(sealed)
    except ValueError:
        return None
    nonce, ct = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    ks = _stream(ckey or code_key(key), site, ctr, nonce)
    pt = bytes([ct[i] ^ ks[i] for i in range(CODE_PAD)])
    n = CODE_PAD
    while n and pt[n - 1] == 0:
        n -= 1
    for i in range(n):
        if not 48 <= pt[i] <= 57:       # a code is digits; anything else did not open
            return None
    return pt[:n].decode() if n else None


def ha_token(key, site):
    """The per-site secret Home Assistant puts in every command it sends to the centre's bridge
    (tools/receiver.py run --ha-bridge), derived from the site key: the controller hands it to HA
    in the discovery config, the centre computes it from the key it holds."""
    return hexlify(frame.hmac_sha256(key, _HA_TOKEN + site.encode())[:16]).decode()


def _nonce():
    try:
        from os import urandom
    except ImportError:   # the WebAssembly MicroPython (tests) has no os.urandom
        from random import getrandbits
        return bytes([getrandbits(8) for _ in range(NONCE_BYTES)])
    return urandom(NONCE_BYTES)
