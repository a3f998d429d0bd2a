# One logger for the firmware: levels, and formatting only for a line that is kept.
#
#   log = Logger(print, INFO)
#   log.debug("delivery: seq %d sent", seq)      # below the level: no string built, no allocation
#   log.info("restored: mode %s", mode)          # kept: "%" formatting, then the sink
#   log("plain line")                            # a Logger is also a plain log callable (INFO)
#
# Up to three arguments, passed one by one (never *args: packing them would allocate a tuple
# for every call, kept or not). Nothing secret is formatted: bytes and bytearrays (site keys,
# MACs, raw frames) are shown as their length only; a secret string must never be passed.
from mimamori.compat import const

DEBUG = const(10)
INFO = const(20)
WARN = const(30)
ERROR = const(40)
LEVELS = {"debug": DEBUG, "info": INFO, "warn": WARN, "error": ERROR}
PREFIX = {DEBUG: "debug: ", INFO: "", WARN: "warning: ", ERROR: "error: "}

_NO = object()     # "no argument" (None is a value worth printing)


def _safe(v):
    if isinstance(v, (bytes, bytearray)):
        return "<%d bytes>" % len(v)
    return v


class Logger:
    def __init__(self, sink=None, level=INFO):
        self.sink = sink or print
        self.level = level
        self.kept = 0               # lines passed to the sink (for tests and the bench)

    @staticmethod
    def wrap(log, level=INFO):
        """A Logger for whatever a module was given: a Logger, a plain callable f(line), or
        None (nothing is written)."""
        if isinstance(log, Logger):
            return log
        return Logger(log or _drop, level)

    def write(self, level, fmt, a=_NO, b=_NO, c=_NO):
        if level < self.level:
            return                  # discarded before anything is built
        if a is _NO:
            line = fmt
        elif b is _NO:
            line = fmt % (_safe(a),)
        elif c is _NO:
            line = fmt % (_safe(a), _safe(b))
        else:
            line = fmt % (_safe(a), _safe(b), _safe(c))
        self.kept += 1
        self.sink(PREFIX[level] + line if level != INFO else line)

    def debug(self, fmt, a=_NO, b=_NO, c=_NO):
        if DEBUG >= self.level:
            self.write(DEBUG, fmt, a, b, c)

    def info(self, fmt, a=_NO, b=_NO, c=_NO):
        self.write(INFO, fmt, a, b, c)

    def warn(self, fmt, a=_NO, b=_NO, c=_NO):
        self.write(WARN, fmt, a, b, c)

    def error(self, fmt, a=_NO, b=_NO, c=_NO):
        self.write(ERROR, fmt, a, b, c)

    def __call__(self, line):
        self.write(INFO, line)


def _drop(line):
    pass
