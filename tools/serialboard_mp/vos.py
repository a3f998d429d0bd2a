# `os` on the virtual board: the interpreter's own, with OSError numbers as an ESP32 gives them.
# The WebAssembly interpreter's filesystem is Emscripten's, whose errno values differ (ENOENT is
# 44 there, 2 on the board, and 2 is what mpremote and firmware expect).
import os as _os
from os import *   # noqa: F401,F403

# Emscripten errno -> MicroPython/newlib errno (the ESP32 port's numbers)
_MAP = {63: 1, 44: 2, 29: 5, 8: 9, 2: 13, 20: 17, 54: 20, 31: 21, 28: 22, 51: 28, 55: 39}


def _mapped(e):
    n = e.args[0] if e.args else 0
    return OSError(_MAP.get(n, n)) if isinstance(n, int) else e


def _wrap(f):
    def call(*a):
        try:
            return f(*a)
        except OSError as e:
            raise _mapped(e)
    return call


for _name in ("stat", "remove", "unlink", "rename", "mkdir", "rmdir",
              "chdir", "statvfs", "getcwd"):
    if hasattr(_os, _name):
        globals()[_name] = _wrap(getattr(_os, _name))

# The interpreter's own directories (Emscripten's), which a board does not have.
_HIDDEN = ("tmp", "home", "dev", "proc")


def _at_root(a):
    return not a or a[0] in ("/", "") or (a[0] in (".", "") and _os.getcwd() == "/")


def listdir(*a):
    names = _wrap(_os.listdir)(*a)
    return [n for n in names if n not in _HIDDEN] if _at_root(a) else names


def ilistdir(*a):
    it = _wrap(_os.ilistdir)(*a)
    if not _at_root(a):
        return it
    return (e for e in it if e[0] not in _HIDDEN)


_open = open


def open_mapped(*a, **k):
    try:
        return _open(*a, **k)
    except OSError as e:
        raise _mapped(e)
