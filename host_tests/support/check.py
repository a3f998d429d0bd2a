# Small assertion helpers for tests that run on both CPython and MicroPython (no pytest there).


class _Raises:
    def __init__(self, exc_type, match=None):
        self.exc_type = exc_type
        self.match = match
        self.value = None

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is None:
            raise AssertionError("expected %s, nothing was raised" % self.exc_type.__name__)
        if not issubclass(et, self.exc_type):
            return False
        if self.match is not None and self.match not in str(ev):
            raise AssertionError("expected %r in %r" % (self.match, str(ev)))
        self.value = ev
        return True


def raises(exc_type, match=None):
    """`with raises(ValueError, "zones[3]"):` - `match` is a plain substring."""
    return _Raises(exc_type, match)
