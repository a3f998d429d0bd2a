# `select` on the virtual board: poll() for the bridged sockets (vsocket.py); other objects go to
# the interpreter's own select.
from select import POLLIN, POLLOUT, POLLERR, POLLHUP   # noqa: F401
import select as _select


class _Poll:
    def __init__(self):
        self._objs = {}

    def register(self, obj, mask=POLLIN | POLLOUT):
        self._objs[id(obj)] = (obj, mask)

    def modify(self, obj, mask):
        self._objs[id(obj)] = (obj, mask)

    def unregister(self, obj):
        self._objs.pop(id(obj), None)

    def poll(self, timeout=-1):
        out = []
        for obj, mask in self._objs.values():
            if hasattr(obj, "_events"):
                ev = obj._events(mask)
            else:
                p = _select.poll()
                p.register(obj, mask)
                r = p.poll(0)
                ev = r[0][1] if r else 0
            if ev:
                out.append((obj, ev))
        return out

    ipoll = poll


def poll():
    return _Poll()
