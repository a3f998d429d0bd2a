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
#
# The controller's own log ring (what `mimamori.service.logs()` and the installer CLI's `logs`
# fetch): Logger(sink, level, ring=Ring("/data/log")) keeps every kept line in RAM (the last
# RING_LINES), and warnings and errors also on flash, appended to one bounded file. Appending
# is one flash write per line; past FILE_BYTES the file is cut to its newer half (temp file +
# os.rename, so a power cut leaves the old or the new file). A burst (a fault repeating every
# loop step) would wear the flash, so at most FLASH_BURST lines are written, then one per
# FLASH_REFILL_MS; lines over the budget stay in RAM and the next saved line says how many were
# not saved. Idle, nothing is logged, so nothing is written. Flash trouble never raises here.
from mimamori.compat import const, ticks_ms, ticks_diff

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


RING_LINES = const(32)        # lines kept in RAM (about 4 KB when full: `make bench`)
LINE_CHARS = const(160)       # a longer line is cut (in RAM and on flash)
FILE_BYTES = const(8192)      # the flash file is cut to its newer half past this
FLASH_BURST = const(10)       # lines written to flash at once, at most ...
FLASH_REFILL_MS = const(60000)  # ... then one more per minute
NAMES = {DEBUG: "debug", INFO: "info", WARN: "warn", ERROR: "error"}


class Ring:
    """The last RING_LINES log lines in RAM; warnings and worse also on flash at `path`."""

    def __init__(self, path=None, lines=RING_LINES, clock=None):
        self.path = path
        self.clock = clock            # wall time (the App sets WallClock.iso), else ticks
        self._buf = [None] * lines
        self._next = 0                # where the next line goes
        self.count = 0                # lines ever added (the oldest in RAM is count - lines)
        self.writes = 0               # flash writes (appends and the rewrite's files)
        self.unsaved = 0              # warnings over the flash budget since the last saved one
        self._tokens = FLASH_BURST
        self._refill = ticks_ms()
        self.failed = False           # the last flash write failed (full flash)

    def add(self, level, line):
        if len(line) > LINE_CHARS:
            line = line[:LINE_CHARS]
        t = self.clock() if self.clock is not None else None
        if t is None:
            t = ticks_ms()
        self._buf[self._next] = (level, t, line)
        self._next = (self._next + 1) % len(self._buf)
        self.count += 1
        if level >= WARN and self.path is not None:
            self._save(level, t, line)

    def entries(self):
        """The lines in RAM, oldest first: [(level, time, msg)]."""
        n = len(self._buf)
        out = []
        for k in range(n):
            e = self._buf[(self._next + k) % n]
            if e is not None:
                out.append(e)
        return out

    def _save(self, level, t, line):
        now = ticks_ms()
        gained = ticks_diff(now, self._refill) // FLASH_REFILL_MS
        if gained > 0:
            self._tokens = min(FLASH_BURST, self._tokens + gained)
            self._refill = now
        if self._tokens <= 0:
            self.unsaved += 1
            return
        self._tokens -= 1
        if self.unsaved:
            line = "(%d not saved) %s" % (self.unsaved, line)
        text = "%s\t%s\t%s\n" % (NAMES[level], t, line.replace("\n", " "))
        try:
            with open(self.path, "a") as f:
                f.write(text)
                size = f.tell()
            self.writes += 1
            self.unsaved = 0
            self.failed = False
            if size > FILE_BYTES:
                self._cut()
        except (OSError, MemoryError):   # a full flash must not stop the loop
            self.failed = True
            self.unsaved += 1

    def _cut(self):
        """Keep the newer half of the file (whole lines): temp file, then rename over it."""
        import os
        with open(self.path) as f:
            data = f.read()
        cut = data.find("\n", len(data) // 2)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(data[cut + 1:])
        os.rename(tmp, self.path)
        self.writes += 2


def read_saved(path):
    """The warnings and errors saved on flash, oldest first: [(level name, time, msg)]."""
    out = []
    try:
        f = open(path, "rb")
    except OSError:
        return out
    with f:
        for raw in f:
            try:                    # a line a power cut or a bad sector damaged: skipped
                line = raw.decode()
            except UnicodeError:
                continue
            parts = line.rstrip("\n").split("\t", 2)
            if len(parts) == 3:
                out.append((parts[0], parts[1], parts[2]))
    return out


class Logger:
    def __init__(self, sink=None, level=INFO, ring=None):
        self.sink = sink or print
        self.level = level
        self.kept = 0               # lines passed to the sink (for tests and the bench)
        self.ring = ring            # a Ring (the controller's own log), or None

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
        if self.ring is not None:
            self.ring.add(level, line)

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
