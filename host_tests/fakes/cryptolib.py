# Host stand-in for MicroPython's built-in `cryptolib` (present in ESP32 builds with ssl): the
# same API, over the `cryptography` package's AES (not pycryptodome, which pysiaalarm - the judge
# of our DC-09 ciphertext - uses itself).
#
#   aes(key, mode[, IV])   key of 16, 24 or 32 bytes; mode 1 = ECB, 2 = CBC, 6 = CTR (the
#                          numbers MicroPython's docs give); IV of 16 bytes (CBC, CTR)
#   .encrypt(in_buf[, out_buf]) / .decrypt(in_buf[, out_buf])
#       ECB and CBC take whole 16-byte blocks only (ValueError otherwise, as on the board);
#       the chaining state carries over from call to call; an object that has encrypted cannot
#       decrypt and vice versa (OSError, as on the board). Returns bytes, or writes out_buf.
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MODE_ECB = 1
MODE_CBC = 2
MODE_CTR = 6


class aes:
    def __init__(self, key, mode, IV=None):
        key = bytes(key)
        if len(key) not in (16, 24, 32):
            raise ValueError("key")
        if mode == MODE_ECB:
            m = modes.ECB()
        elif mode in (MODE_CBC, MODE_CTR):
            if IV is None or len(bytes(IV)) != 16:
                raise ValueError("IV")
            m = modes.CBC(bytes(IV)) if mode == MODE_CBC else modes.CTR(bytes(IV))
        else:
            raise ValueError("mode")
        self._mode = mode
        self._cipher = Cipher(algorithms.AES(key), m)
        self._ctx = None
        self._dir = None

    def _run(self, direction, in_buf, out_buf):
        data = bytes(in_buf)
        if self._mode != MODE_CTR and len(data) % 16:
            raise ValueError("blksize")
        if self._dir is None:
            self._dir = direction
            self._ctx = (self._cipher.encryptor() if direction == "enc"
                         else self._cipher.decryptor())
        elif self._dir != direction and self._mode != MODE_CTR:
            raise OSError("can't encrypt & decrypt")
        out = self._ctx.update(data)
        if out_buf is None:
            return out
        if len(out_buf) < len(out):
            raise ValueError("output too small")
        out_buf[:len(out)] = out
        return None

    def encrypt(self, in_buf, out_buf=None):
        return self._run("enc", in_buf, out_buf)

    def decrypt(self, in_buf, out_buf=None):
        return self._run("dec", in_buf, out_buf)
