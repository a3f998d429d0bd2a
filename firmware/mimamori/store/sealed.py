# Two checksummed copies of one small file (the state file, the journal's seq mark, the command
# counter), so that one torn or rotten copy never loses the value nor passes junk as good.
#
#   <path>.1, <path>.2   the two copies, each written temp + os.rename (house rule), one after the
#                        other: a power cut can catch at most one of them mid-save, and the other
#                        still holds the previous (or already the new) content.
#   copy = header "<IIII" (magic, generation, payload length, CRC32 of generation + length +
#          payload) + payload. The generation grows by one per save: when both copies check, the
#          higher one is the newer (a cut between the two renames leaves copy 1 one ahead).
#   <path>               the plain file of the version before copies (no checksum): read once
#                        when no copy exists yet (an upgrade keeps its state), removed by the
#                        first save.
#
# load() -> the payload bytes, or None; afterwards `status` says what was found:
#   NONE     no copy at all (a new installation);       OK      a copy checked;
#   LEGACY   only the old plain file (no checksum);     DAMAGED copies exist, none checks.
# and `problems` lists each copy that did not check ("state.json.2: checksum"), also when the
# other one did: the caller reports damage even when it could recover from it.
# save(payload) raises OSError when the flash refuses (full): the caller decides what it means.
# `writes` counts files replaced (2 per save) and removals.
import os
import struct
from binascii import crc32

MAGIC = 0x314B4D4D          # "MMK1" little-endian
HDR = "<IIII"
HDR_LEN = 16
MAX_PAYLOAD = 65536         # a copy claiming more is damage (and would not fit in RAM anyway)

NONE = "none"
OK = "ok"
LEGACY = "legacy"
DAMAGED = "damaged"


def seal(gen, payload):
    """Header + payload of one copy."""
    head = struct.pack("<II", gen, len(payload))
    return struct.pack(HDR, MAGIC, gen, len(payload), crc32(payload, crc32(head)) & 0xFFFFFFFF) \
        + payload


def unseal(data):
    """(generation, payload) of a copy that checks, else the reason it does not (a str)."""
    if len(data) < HDR_LEN:
        return "too short"
    magic, gen, ln, crc = struct.unpack_from(HDR, data, 0)
    if magic != MAGIC:
        return "not a sealed file"
    if ln > MAX_PAYLOAD or HDR_LEN + ln != len(data):
        return "wrong length"
    payload = data[HDR_LEN:]
    if crc32(payload, crc32(data[4:12])) & 0xFFFFFFFF != crc:
        return "checksum"
    return gen, payload


def _read(path):
    """The file's bytes, or None when there is no such file. A file too large for RAM reads as
    damage (b"") rather than raising MemoryError into the boot."""
    try:
        with open(path, "rb") as f:
            return f.read(MAX_PAYLOAD + HDR_LEN + 1)
    except OSError:
        return None
    except MemoryError:
        return b""


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class Sealed:
    def __init__(self, path):
        self.path = path
        self.gen = 0
        self.writes = 0
        self.status = NONE
        self.problems = []
        self._legacy = False     # the plain file of the old version is still there

    def _copy(self, i):
        return "%s.%d" % (self.path, i)

    def load(self):
        self.problems = []
        best = None
        seen = False
        for i in (1, 2):
            data = _read(self._copy(i))
            if data is None:
                continue
            seen = True
            r = unseal(data)
            if isinstance(r, str):
                self.problems.append("%s: %s" % (self._copy(i), r))
            elif best is None or r[0] > best[0]:
                best = r
        if best is not None:
            self.status = OK
            self.gen = best[0]
            self._legacy = _exists(self.path)
            return best[1]
        if seen:
            self.status = DAMAGED
            return None
        data = _read(self.path)
        if data is None:
            self.status = NONE
            return None
        self._legacy = True
        self.status = LEGACY
        return data

    def save(self, payload):
        self.gen += 1
        data = seal(self.gen, payload)
        for i in (1, 2):
            name = self._copy(i)
            tmp = name + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.rename(tmp, name)
            self.writes += 1
        if self._legacy:
            try:
                os.remove(self.path)
                self.writes += 1
            except OSError:
                pass
            self._legacy = False
