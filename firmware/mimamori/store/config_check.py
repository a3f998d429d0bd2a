# The checker every part of the config validation shares (store/config.py and its config_*.py
# sections): it collects messages "<json path>: <what was expected>" rather than stopping at the
# first, and never quotes a secret's value. Plain Python: the host installer tools run it too.

HEX = "0123456789abcdefABCDEF"
REQUIRED = object()                 # marks a field with no default


class ConfigError(Exception):
    """Everything wrong with a configuration: `errors` is the list, str() one per line."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def kind(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a decimal number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return "a " + type(v).__name__


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def join(path, key):
    return path + "." + key if path else key


def _surrogate(c):
    # A lone UTF-16 surrogate (\uD800-\uDFFF) arrives through a JSON escape: CPython cannot
    # encode it to UTF-8 (it would raise far from here, e.g. in wifi.connect or print), and
    # MicroPython would store bytes that are not UTF-8. It is never valid text.
    return 0xD800 <= ord(c) <= 0xDFFF


def text_ok(s):
    for c in s:
        if _surrogate(c):
            return False
    return True


def _clean(msg):
    """A message safe to print: a surrogate from the input (in a key or an echoed value) shown as
    its escape."""
    if text_ok(msg):
        return msg
    return "".join(["\\u%04x" % ord(c) if _surrogate(c) else c for c in msg])


def only(s, chars):
    for c in s:
        if c not in chars:
            return False
    return True


class Check:
    """Collects messages. `secret` (secrets.json): messages never quote a string value."""

    def __init__(self, errors, secret=False):
        self.errors = errors
        self.secret = secret

    def bad(self, path, msg):
        self.errors.append(_clean(path + ": " + msg))

    def obj(self, path, v, known, what="an object"):
        """A dict with only `known` keys (unknown ones reported); None if not a dict."""
        if v is REQUIRED:
            self.bad(path, "missing: expected " + what)
            return None
        if not isinstance(v, dict):
            self.bad(path or "config", "expected %s, got %s" % (what, kind(v)))
            return None
        unknown = sorted([str(k) for k in v if k not in known])
        for k in unknown:
            self.bad(join(path, k), "unknown key (known keys: %s)" % ", ".join(known))
        return v

    def missing(self, path, default, what):
        if default is REQUIRED:
            self.bad(path, "missing: expected " + what)
        return default if default is not REQUIRED else None

    def int(self, path, v, lo, hi, default=REQUIRED):
        what = "an integer from %d to %d" % (lo, hi)
        if v is REQUIRED:
            return self.missing(path, default, what)
        if not is_int(v):
            self.bad(path, "expected %s, got %s" % (what, kind(v)))
            return None
        if v < lo:
            self.bad(path, "%d is below the minimum %d" % (v, lo))
            return None
        if v > hi:
            self.bad(path, "%d is above the maximum %d" % (v, hi))
            return None
        return v

    def bool(self, path, v, default=REQUIRED):
        if v is REQUIRED:
            return self.missing(path, default, "true or false")
        if not isinstance(v, bool):
            self.bad(path, "expected true or false, got " + kind(v))
            return None
        return v

    def str(self, path, v, lo, hi, default=REQUIRED, what=None):
        what = what or "a string of %d-%d characters" % (lo, hi)
        if v is REQUIRED:
            return self.missing(path, default, what)
        if not isinstance(v, str):
            self.bad(path, "expected %s, got %s" % (what, kind(v)))
            return None
        if not text_ok(v):
            self.bad(path, "expected %s of Unicode text, got a lone surrogate (\\uD800-\\uDFFF)"
                     % what)
            return None
        if not lo <= len(v) <= hi:
            if self.secret:
                self.bad(path, "expected " + what)
            else:
                self.bad(path, "expected %s, got %d characters" % (what, len(v)))
            return None
        return v

    def choice(self, path, v, options, default=REQUIRED):
        names = ", ".join([str(o) for o in options])
        if v is REQUIRED:
            return self.missing(path, default, "one of " + names)
        # Exact type: `True in (1, 2)` and `1.0 in (1, 2)` are true in Python, yet neither a
        # bool nor a decimal is a valid UART id.
        same_type = type(v) is type(options[0])
        if same_type and v in options:
            return v
        if not same_type:
            self.bad(path, "expected one of %s, got %s" % (names, kind(v)))
        elif self.secret:
            self.bad(path, "expected one of " + names)
        else:
            shown = "'%s'" % v if isinstance(v, str) else str(v)
            self.bad(path, "%s is not one of %s" % (shown, names))
        return None

    def list(self, path, v, lo, hi, what):
        if v is REQUIRED:
            self.bad(path, "missing: expected " + what)
            return None
        if not isinstance(v, list):
            self.bad(path, "expected %s, got %s" % (what, kind(v)))
            return None
        if len(v) < lo:
            self.bad(path, "expected %s, got an empty list" % what if not v else
                     "expected %s, got %d" % (what, len(v)))
            return None
        if len(v) > hi:
            self.bad(path, "%d entries is above the maximum %d" % (len(v), hi))
            return None
        return v

    def hex(self, path, v, lo, hi, default=REQUIRED, what=None):
        """Hex digits, an even number of them (whole bytes), lo..hi characters."""
        what = what or ("%d hex characters" % lo if lo == hi else "%d-%d hex characters" % (lo, hi))
        if v is REQUIRED:
            return self.missing(path, default, what)
        if not isinstance(v, str) or not lo <= len(v) <= hi or len(v) % 2 or not only(v, HEX):
            self.bad(path, "expected " + what)
            return None
        return v

