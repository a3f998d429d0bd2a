# A full flash for tests, on both runtimes: the firmware modules' `open` is replaced by one that
# counts the bytes written and raises OSError(28) (ENOSPC; MicroPython's errno module has no
# ENOSPC name) once `free` bytes are used up, as littlefs does when the partition is full. A
# write that does not fit writes nothing. Reading is never refused.
#
#   flash = FullFlash(0).install(journal_module, sealed_module)   # full from now on
#   flash.free = 10 ** 6                                         # space again (a file deleted)
#   flash.remove()
ENOSPC = 28

_real_open = open


class _File:
    def __init__(self, flash, f):
        self._flash = flash
        self._f = f

    def write(self, data):
        if len(data) > self._flash.free:
            self._flash.refused += 1
            raise OSError(ENOSPC)
        self._flash.free -= len(data)
        return self._f.write(data)

    def flush(self):
        self._f.flush()

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()
        return False


class FullFlash:
    def __init__(self, free):
        self.free = free
        self.refused = 0
        self._mods = ()

    def open(self, path, mode="r"):
        if "w" in mode or "a" in mode:
            if self.free <= 0:
                self.refused += 1
                raise OSError(ENOSPC)
            return _File(self, _real_open(path, mode))
        return _real_open(path, mode)

    def install(self, *modules):
        self._mods = modules
        for m in modules:
            m.open = self.open
        return self

    def remove(self):
        for m in self._mods:
            # Back to the builtin itself: a module-level `open` left behind would outlive the
            # test and hide any later wrapper of the builtin (tools/soak_flash.py's quota).
            try:
                del m.open
            except (AttributeError, TypeError):
                m.open = _real_open
        self._mods = ()
