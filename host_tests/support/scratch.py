# An empty scratch directory on both runtimes (CPython: /tmp; the WebAssembly MicroPython: its
# in-memory /tmp), emptied one level deep so a test starts from a clean "flash".
import os


def fresh_dir(name):
    base = "/tmp" if "tmp" in os.listdir("/") else "."
    path = base + "/mm_" + name
    _empty(path)
    return path


def _empty(path):
    try:
        os.mkdir(path)
    except OSError:
        pass
    for f in os.listdir(path):
        p = path + "/" + f
        try:
            os.remove(p)
        except OSError:       # a directory (a journal): empty it, keep it
            _empty(p)
