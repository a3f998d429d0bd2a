# config.json, secrets.json and the board's pins.json: load, validate completely, fill defaults.
#
# A security panel that boots with a half-understood config is worse than one that refuses to
# boot, so every problem is collected (not just the first) and reported as
# "<json path>: <what was expected>", one per line. Host installer tools run the same code on
# CPython before they write anything to a board, so this module is plain Python: no machine, no
# re. Secrets are never echoed: a message names the field and the rule, never the value.
#
# MicroPython dicts do not keep insertion order, so every walk below follows fixed key tuples
# (and sorts unknown keys): the same input gives the same messages in the same order on both.
import json
import os

from mimamori.core.auth import ITERATIONS, MAX_ITERATIONS, MIN_ITERATIONS

# comms.paths (README "Architecture"): the report path names, the report kinds (core/events.py)
PATH_NAMES = ("mqtt", "landline")
REPORT_KINDS = ("alarm", "trouble", "restore", "opening", "closing", "bypass", "test", "cancel",
                "status")
LINE_KINDS = ("alarm", "trouble", "opening", "closing", "test")   # landline default: seed 5.

VERSION = 1
ZONE_TYPES = ("magnet", "glass", "fire", "gas", "vibration", "space", "panic", "medical",
              "cancel", "tamper", "case_tamper")
# 24-hour zones: armed in every state, including disarmed and during the delays.
ALWAYS_ARMED = ("fire", "gas", "glass", "panic", "medical", "tamper", "case_tamper")
NEVER_ALWAYS_ARMED = ("magnet", "space", "cancel")
ENTRY_ROUTE_TYPES = ("magnet", "space")
FOLLOWER_TYPES = ("magnet", "space")        # interior followers (follow a running entry delay)
SOUNDER_TYPES = ("fire", "gas")             # warn after the siren cut-off while detecting
SOUNDERS = ("buzzer", "siren")
MODES = ("away", "stay", "partial")
# Modes a zone is armed in when `modes` is left out; other types: [] (24-hour or a button).
DEFAULT_MODES = {"magnet": MODES, "space": ("away",), "vibration": MODES, "glass": MODES}
DETECTORS = ("smoke", "heat", "generic")
ROLES = ("resident", "installer", "centre")
BAUDS = (9600, 19200, 38400, 57600, 115200)
MAX_ZONES = 64

# name: (default, minimum, maximum). Units are in the names.
TIMERS = (
    ("entry_delay_s", 30, 0, 45),
    ("exit_delay_s", 60, 0, 255),
    ("cancel_window_s", 30, 5, 120),
    ("siren_cutoff_min", 5, 2, 15),
    ("life_monitor_h", 12, 1, 72),
    ("comm_check_h", 36, 1, 36),
    ("first_test_after_boot_min", 10, 1, 1440),
    ("fault_trouble_h", 24, 1, 168),     # a zone open this long while disarmed: sensor trouble
    ("line_cut_debounce_s", 10, 2, 600),
    ("forgot_arm_grace_min", 15, 1, 240),
    ("self_check_days", 30, 7, 31),
)
OUTPUTS_REQUIRED = ("siren", "flash_light", "buzzer")
OUTPUTS_OPTIONAL = ("led_away", "led_stay", "led_partial", "led_trouble", "led_memory")

_SITE_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-"
_HEX = "0123456789abcdefABCDEF"
_ACCOUNT_CHARS = "0123456789BCDEF"   # Contact ID: 'A' is the DTMF digit 0, never an account digit
_DIAL_CHARS = "0123456789*#"
_REQUIRED = object()                 # marks a field with no default


class ConfigError(Exception):
    """Everything wrong with a configuration: `errors` is the list, str() one per line."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def _kind(v):
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


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _join(path, key):
    return path + "." + key if path else key


def _surrogate(c):
    # A lone UTF-16 surrogate (\uD800-\uDFFF) arrives through a JSON escape: CPython cannot
    # encode it to UTF-8 (it would raise far from here, e.g. in wifi.connect or print), and
    # MicroPython would store bytes that are not UTF-8. It is never valid text.
    return 0xD800 <= ord(c) <= 0xDFFF


def _text_ok(s):
    for c in s:
        if _surrogate(c):
            return False
    return True


def _clean(msg):
    """A message safe to print: a surrogate from the input (in a key or an echoed value) shown as
    its escape."""
    if _text_ok(msg):
        return msg
    return "".join(["\\u%04x" % ord(c) if _surrogate(c) else c for c in msg])


def _only(s, chars):
    for c in s:
        if c not in chars:
            return False
    return True


class _Check:
    """Collects messages. `secret` (secrets.json): messages never quote a string value."""

    def __init__(self, errors, secret=False):
        self.errors = errors
        self.secret = secret

    def bad(self, path, msg):
        self.errors.append(_clean(path + ": " + msg))

    def obj(self, path, v, known, what="an object"):
        """A dict with only `known` keys (unknown ones reported); None if not a dict."""
        if v is _REQUIRED:
            self.bad(path, "missing: expected " + what)
            return None
        if not isinstance(v, dict):
            self.bad(path or "config", "expected %s, got %s" % (what, _kind(v)))
            return None
        unknown = sorted([str(k) for k in v if k not in known])
        for k in unknown:
            self.bad(_join(path, k), "unknown key (known keys: %s)" % ", ".join(known))
        return v

    def missing(self, path, default, what):
        if default is _REQUIRED:
            self.bad(path, "missing: expected " + what)
        return default if default is not _REQUIRED else None

    def int(self, path, v, lo, hi, default=_REQUIRED):
        what = "an integer from %d to %d" % (lo, hi)
        if v is _REQUIRED:
            return self.missing(path, default, what)
        if not _is_int(v):
            self.bad(path, "expected %s, got %s" % (what, _kind(v)))
            return None
        if v < lo:
            self.bad(path, "%d is below the minimum %d" % (v, lo))
            return None
        if v > hi:
            self.bad(path, "%d is above the maximum %d" % (v, hi))
            return None
        return v

    def bool(self, path, v, default=_REQUIRED):
        if v is _REQUIRED:
            return self.missing(path, default, "true or false")
        if not isinstance(v, bool):
            self.bad(path, "expected true or false, got " + _kind(v))
            return None
        return v

    def str(self, path, v, lo, hi, default=_REQUIRED, what=None):
        what = what or "a string of %d-%d characters" % (lo, hi)
        if v is _REQUIRED:
            return self.missing(path, default, what)
        if not isinstance(v, str):
            self.bad(path, "expected %s, got %s" % (what, _kind(v)))
            return None
        if not _text_ok(v):
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

    def choice(self, path, v, options, default=_REQUIRED):
        names = ", ".join([str(o) for o in options])
        if v is _REQUIRED:
            return self.missing(path, default, "one of " + names)
        # Exact type: `True in (1, 2)` and `1.0 in (1, 2)` are true in Python, yet neither a
        # bool nor a decimal is a valid UART id.
        same_type = type(v) is type(options[0])
        if same_type and v in options:
            return v
        if not same_type:
            self.bad(path, "expected one of %s, got %s" % (names, _kind(v)))
        elif self.secret:
            self.bad(path, "expected one of " + names)
        else:
            shown = "'%s'" % v if isinstance(v, str) else str(v)
            self.bad(path, "%s is not one of %s" % (shown, names))
        return None

    def list(self, path, v, lo, hi, what):
        if v is _REQUIRED:
            self.bad(path, "missing: expected " + what)
            return None
        if not isinstance(v, list):
            self.bad(path, "expected %s, got %s" % (what, _kind(v)))
            return None
        if len(v) < lo:
            self.bad(path, "expected %s, got an empty list" % what if not v else
                     "expected %s, got %d" % (what, len(v)))
            return None
        if len(v) > hi:
            self.bad(path, "%d entries is above the maximum %d" % (len(v), hi))
            return None
        return v

    def hex(self, path, v, lo, hi, default=_REQUIRED, what=None):
        """Hex digits, an even number of them (whole bytes), lo..hi characters."""
        what = what or ("%d hex characters" % lo if lo == hi else "%d-%d hex characters" % (lo, hi))
        if v is _REQUIRED:
            return self.missing(path, default, what)
        if not isinstance(v, str) or not lo <= len(v) <= hi or len(v) % 2 or not _only(v, _HEX):
            self.bad(path, "expected " + what)
            return None
        return v


class _Pins:
    """The board's pin map (boards/<name>/pins.json), checked and turned into sets."""

    def __init__(self, p, c):
        self.ok = False
        known = ("board", "mcu", "module", "gpio", "input_only", "no_pull", "adc", "forbidden",
                 "strapping", "notes")
        if c.obj("pins", p, known) is None:
            return
        n0 = len(c.errors)
        self.name = c.str("pins.board", p.get("board", _REQUIRED), 1, 32)
        c.str("pins.mcu", p.get("mcu", _REQUIRED), 1, 32)
        c.str("pins.module", p.get("module", _REQUIRED), 1, 64, default="")
        self.gpio = self._ints(c, "pins.gpio", p.get("gpio", _REQUIRED), None)
        self.input_only = self._ints(c, "pins.input_only", p.get("input_only", _REQUIRED), self.gpio)
        self.no_pull = self._ints(c, "pins.no_pull", p.get("no_pull", _REQUIRED), self.gpio)
        self.adc = self._ints(c, "pins.adc", p.get("adc", _REQUIRED), self.gpio)
        self.forbidden = self._reasons(c, "pins.forbidden", p.get("forbidden", _REQUIRED), "reason")
        self.strapping = self._strapping(c, p.get("strapping", _REQUIRED))
        notes = p.get("notes", [])
        if not isinstance(notes, list):
            c.bad("pins.notes", "expected a list of strings, got " + _kind(notes))
        else:
            for i, n in enumerate(notes):
                c.str("pins.notes[%d]" % i, n, 0, 1000, what="a string")
        self.ok = len(c.errors) == n0

    def _ints(self, c, path, v, within):
        out = set()
        if c.list(path, v, 0, 64, "a list of GPIO numbers") is None:
            return out
        for i, n in enumerate(v):
            if not _is_int(n) or n < 0 or n > 99:
                c.bad("%s[%d]" % (path, i), "expected a GPIO number, got " + _kind(n))
            elif within is not None and n not in within:
                c.bad("%s[%d]" % (path, i), "GPIO %d is not in pins.gpio" % n)
            else:
                out.add(n)
        return out

    def _strapping(self, c, v):
        """Strapping pins: gpio -> (what its level at reset does, uses an installer may confirm
        with config `strapping_override`: a subset of "in", "out"; empty: never)."""
        out = {}
        if c.list("pins.strapping", v, 0, 64, "a list of {gpio, boot, override}") is None:
            return out
        for i, e in enumerate(v):
            p = "pins.strapping[%d]" % i
            if c.obj(p, e, ("gpio", "boot", "override")) is None:
                continue
            n = c.int(p + ".gpio", e.get("gpio", _REQUIRED), 0, 99)
            text = c.str(p + ".boot", e.get("boot", _REQUIRED), 1, 200)
            uses = e.get("override", [])
            if not isinstance(uses, list):
                c.bad(p + ".override", "expected a list of \"in\", \"out\"")
                uses = []
            for j, u in enumerate(uses):
                if u not in ("in", "out"):
                    c.bad("%s.override[%d]" % (p, j), "expected \"in\" or \"out\"")
                    uses = []
                    break
            if n is not None and text is not None:
                out[n] = (text, uses)
        return out

    def _reasons(self, c, path, v, text_key):
        out = {}
        if c.list(path, v, 0, 64, "a list of {gpio, %s}" % text_key) is None:
            return out
        for i, e in enumerate(v):
            p = "%s[%d]" % (path, i)
            if c.obj(p, e, ("gpio", text_key)) is None:
                continue
            n = c.int(p + ".gpio", e.get("gpio", _REQUIRED), 0, 99)
            text = c.str(p + "." + text_key, e.get(text_key, _REQUIRED), 1, 200)
            if n is not None and text is not None:
                out[n] = text
        return out


class _Config:
    def __init__(self, cfg, pins, errors):
        self.c = _Check(errors)
        self.pins = pins if pins is not None and pins.ok else None
        self.used = {}   # gpio -> the path that took it
        self.strap_override = []
        self.out = self.build(cfg)

    # -- pins ---------------------------------------------------------------------------
    def pin(self, path, v, need="in", default=_REQUIRED):
        """A GPIO number that exists on the board, is not reserved, can do `need` ('in',
        'out' or 'adc') and is not used by anything else."""
        c = self.c
        if v is _REQUIRED:
            return c.missing(path, default, "a GPIO number")
        if not _is_int(v):
            c.bad(path, "expected a GPIO number, got " + _kind(v))
            return None
        b = self.pins
        if b is not None:
            if v not in b.gpio:
                c.bad(path, "GPIO %d does not exist on %s" % (v, b.name))
                return None
            if v in b.forbidden:
                c.bad(path, "GPIO %d is reserved on %s: %s" % (v, b.name, b.forbidden[v]))
                return None
            if need == "out" and v in b.input_only:
                c.bad(path, "GPIO %d is input-only on %s" % (v, b.name))
                return None
            if v in b.strapping and not self._strap_ok(path, v, need):
                return None
            if need == "adc" and v not in b.adc:
                c.bad(path, "GPIO %d is not an ADC pin on %s (use one of %s)" % (
                    v, b.name, ", ".join([str(n) for n in sorted(b.adc)])))
                return None
        elif v < 0 or v > 99:
            c.bad(path, "expected a GPIO number, got %d" % v)
            return None
        if v in self.used:
            c.bad(path, "GPIO %d is already used by %s" % (v, self.used[v]))
            return None
        self.used[v] = path
        return v

    def _strap_ok(self, path, v, need):
        """A strapping pin (its level at reset picks the boot mode or the flash voltage) is
        refused unless the installer lists it in `strapping_override` and the board's pins.json
        says that use cannot disturb the boot (README "Strapping pins")."""
        b = self.pins
        text, uses = b.strapping[v]
        use = "out" if need == "out" else "in"
        if v not in self.strap_override:
            hint = ""
            if use in uses:
                hint = ", or list it in strapping_override once the wiring keeps that level"
            self.c.bad(path, "GPIO %d is a strapping pin on %s (%s): use another pin%s" % (
                v, b.name, text, hint))
            return False
        if use not in uses:
            self.c.bad(path, "GPIO %d is a strapping pin on %s (%s): strapping_override cannot "
                       "allow it as an %s" % (v, b.name, text, "output" if use == "out" else "input"))
            return False
        return True

    def strapping_override(self, v):
        c = self.c
        out = []
        if v is _REQUIRED:
            return out
        if c.list("strapping_override", v, 0, 16, "a list of GPIO numbers") is None:
            return out
        for i, n in enumerate(v):
            if not _is_int(n):
                c.bad("strapping_override[%d]" % i, "expected a GPIO number, got " + _kind(n))
            elif self.pins is not None and n not in self.pins.strapping:
                c.bad("strapping_override[%d]" % i, "GPIO %d is not a strapping pin on %s" % (
                    n, self.pins.name))
            else:
                out.append(n)
        return out

    # -- sections -------------------------------------------------------------------------
    def build(self, cfg):
        c = self.c
        known = ("version", "site_id", "board", "utc_offset_min", "zones", "timers", "comms",
                 "outputs", "supervision", "strapping_override")
        if c.obj("", cfg, known) is None:
            return None
        out = {}
        self.strap_override = self.strapping_override(cfg.get("strapping_override", _REQUIRED))
        out["strapping_override"] = self.strap_override
        v = cfg.get("version", _REQUIRED)
        if v is _REQUIRED:
            c.bad("version", "missing: expected %d" % VERSION)
        elif not _is_int(v) or v != VERSION:
            c.bad("version", "expected %d, got %s" % (VERSION, v if _is_int(v) else _kind(v)))
        out["version"] = VERSION
        site = cfg.get("site_id", _REQUIRED)
        rule = "1-32 characters of a-z, 0-9, _ and -"
        if site is _REQUIRED:
            c.bad("site_id", "missing: expected " + rule)
        elif not isinstance(site, str):
            c.bad("site_id", "expected %s, got %s" % (rule, _kind(site)))
        elif not 1 <= len(site) <= 32 or not _only(site, _SITE_CHARS):
            c.bad("site_id", "'%s' must be %s" % (site, rule))
        out["site_id"] = site
        board = c.str("board", cfg.get("board", _REQUIRED), 1, 32)
        if board is not None and self.pins is not None and board != self.pins.name:
            c.bad("board", "'%s' does not match the pin map, which is for %s" % (board, self.pins.name))
        out["board"] = board
        out["utc_offset_min"] = c.int("utc_offset_min", cfg.get("utc_offset_min", _REQUIRED),
                                      -720, 840, default=540)
        out["zones"] = self.zones(cfg.get("zones", _REQUIRED))
        out["outputs"] = self.outputs(cfg.get("outputs", _REQUIRED))
        out["comms"] = self.comms(cfg.get("comms", _REQUIRED))
        out["supervision"] = self.supervision(cfg.get("supervision", {}))
        out["timers"] = self.timers(cfg.get("timers", {}))
        return out

    def zones(self, v):
        c = self.c
        zones = []
        if c.list("zones", v, 1, MAX_ZONES, "a non-empty list of zones") is None:
            return zones
        ids = {}
        for i, z in enumerate(v):
            zone = self.zone("zones[%d]" % i, z)
            if zone is None:
                continue
            zid = zone["id"]
            if zid is not None:
                if zid in ids:
                    c.bad("zones[%d].id" % i, "%d is already used by %s" % (zid, ids[zid]))
                else:
                    ids[zid] = "zones[%d]" % i
            zones.append(zone)
        return zones

    def zone(self, p, z):
        c = self.c
        known = ("id", "name", "type", "gpio", "wiring", "pull", "debounce_ms", "modes",
                 "entry_route", "always_armed", "detector", "follower", "sounder")
        if c.obj(p, z, known) is None:
            return None
        g = z.get
        t = c.choice(p + ".type", g("type", _REQUIRED), ZONE_TYPES)
        zone = {
            "id": c.int(p + ".id", g("id", _REQUIRED), 1, 999),
            "name": c.str(p + ".name", g("name", _REQUIRED), 1, 32),
            "type": t,
            "gpio": self.pin(p + ".gpio", g("gpio", _REQUIRED), "in"),
            "wiring": c.choice(p + ".wiring", g("wiring", _REQUIRED), ("NC", "NO"), default="NC"),
            "pull": c.choice(p + ".pull", g("pull", _REQUIRED), ("up", "down", "none"),
                             default="up"),
            "debounce_ms": c.int(p + ".debounce_ms", g("debounce_ms", _REQUIRED), 10, 5000,
                                 default=50),
        }
        b = self.pins
        gpio, pull = zone["gpio"], zone["pull"]
        if b is not None and gpio is not None and pull in ("up", "down") and gpio in b.no_pull:
            c.bad(p + ".pull", "GPIO %d has no internal pull resistor on %s: set \"none\" and "
                  "fit an external resistor" % (gpio, b.name))
        zone["modes"] = self.modes(p + ".modes", g("modes", _REQUIRED),
                                   list(DEFAULT_MODES.get(t, ())))
        route = c.bool(p + ".entry_route", g("entry_route", _REQUIRED), default=False)
        if route and t is not None and t not in ENTRY_ROUTE_TYPES:
            c.bad(p + ".entry_route", "only magnet and space zones can be entry routes, "
                  "not a %s zone" % t)
        zone["entry_route"] = route
        follower = c.bool(p + ".follower", g("follower", _REQUIRED), default=False)
        if follower and t is not None and t not in FOLLOWER_TYPES:
            c.bad(p + ".follower", "only magnet and space zones can be followers, not a %s "
                  "zone" % t)
        elif follower and route:
            c.bad(p + ".follower", "an entry_route zone starts the entry delay, a follower "
                  "follows it: set one of them")
        zone["follower"] = follower
        sounder = g("sounder", _REQUIRED)
        if t in SOUNDER_TYPES:
            zone["sounder"] = c.choice(p + ".sounder", sounder, SOUNDERS, default="buzzer")
        else:
            if sounder is not _REQUIRED and t is not None:
                c.bad(p + ".sounder", "only fire and gas zones have a sounder, not a %s zone" % t)
            zone["sounder"] = None
        armed = c.bool(p + ".always_armed", g("always_armed", _REQUIRED), default=None)
        if t in ALWAYS_ARMED:
            if armed is False:
                c.bad(p + ".always_armed", "a %s zone is a 24-hour zone and is always armed: "
                      "remove always_armed or set it to true" % t)
            armed = True
        elif t in NEVER_ALWAYS_ARMED:
            if armed is True:
                c.bad(p + ".always_armed", "a %s zone cannot be a 24-hour zone" % t)
            armed = False
        elif armed is None:
            armed = False
        zone["always_armed"] = armed
        det = g("detector", _REQUIRED)
        if t == "fire":
            zone["detector"] = c.choice(p + ".detector", det, DETECTORS, default="generic")
        else:
            if det is not _REQUIRED and t is not None:
                c.bad(p + ".detector", "only fire zones have a detector, not a %s zone" % t)
            zone["detector"] = None
        return zone

    def modes(self, p, v, default):
        c = self.c
        if v is _REQUIRED:
            return default
        if c.list(p, v, 0, 3, "a list of away, stay, partial") is None:
            return None
        seen = []
        for i, m in enumerate(v):
            if c.choice("%s[%d]" % (p, i), m, MODES) is None:
                continue
            if m in seen:
                c.bad("%s[%d]" % (p, i), "'%s' is listed twice" % m)
            else:
                seen.append(m)
        return seen

    def outputs(self, v):
        c = self.c
        if c.obj("outputs", v, OUTPUTS_REQUIRED + OUTPUTS_OPTIONAL,
                 "an object with siren, flash_light and buzzer") is None:
            return None
        out = {}
        for k in OUTPUTS_REQUIRED:
            out[k] = self.pin("outputs." + k, v.get(k, _REQUIRED), "out")
        for k in OUTPUTS_OPTIONAL:
            out[k] = self.pin("outputs." + k, v.get(k, _REQUIRED), "out", default=None)
        return out

    def comms(self, v):
        c = self.c
        if c.obj("comms", v, ("mqtt", "landline", "paths"), "an object with mqtt") is None:
            return None
        line = self.landline(v.get("landline", {}))
        return {"mqtt": self.mqtt(v.get("mqtt", _REQUIRED)), "landline": line,
                "paths": self.paths(v.get("paths", _REQUIRED), bool(line and line["enabled"]))}

    def paths(self, v, line_on):
        """comms.paths: the report paths in priority order, each with the report kinds it
        carries (null: every kind). Default: MQTT for everything, then the landline (when
        enabled) for LINE_KINDS. README "Architecture"."""
        c = self.c
        p = "comms.paths"
        if v is _REQUIRED:
            out = [{"name": "mqtt", "kinds": None}]
            return out + [{"name": "landline", "kinds": LINE_KINDS}] if line_on else out
        if not isinstance(v, list) or not v:
            c.bad(p, "expected a list of {name, kinds}, mqtt among them, got %s" % _kind(v))
            return None
        out = []
        for i, x in enumerate(v):
            q = "%s[%d]" % (p, i)
            if c.obj(q, x, ("name", "kinds"), "an object with name") is None:
                continue
            name = c.choice(q + ".name", x.get("name", _REQUIRED), PATH_NAMES)
            if name is not None and name in [o["name"] for o in out]:
                c.bad(q + ".name", "'%s' is listed twice" % name)
            if name == "landline" and not line_on:
                c.bad(q + ".name", "landline is not enabled (comms.landline.enabled)")
            k = x.get("kinds")
            if k is not None and (not isinstance(k, list) or not k or
                                  [j for j in k if j not in REPORT_KINDS]):
                c.bad(q + ".kinds", "expected null or a list of %s" % ", ".join(REPORT_KINDS))
                k = None
            out.append({"name": name, "kinds": tuple(k) if k is not None else None})
        if "mqtt" not in [o["name"] for o in out]:
            c.bad(p, "mqtt must be listed (the state, Home Assistant and commands use it)")
        return out

    def mqtt(self, v):
        c = self.c
        p = "comms.mqtt"
        known = ("host", "port", "tls", "ca_file", "tls_name", "keepalive_s", "ack_deadline_s",
                 "topic_prefix")
        if c.obj(p, v, known, "an object with at least host") is None:
            return None
        host = c.str(p + ".host", v.get("host", _REQUIRED), 1, 253)
        if host is not None and (" " in host or "/" in host):
            c.bad(p + ".host", "'%s' must be a host name or an IP address" % host)
        tls = c.bool(p + ".tls", v.get("tls", _REQUIRED), default=False)
        # TLS without the broker's CA would encrypt to whoever answers: refused, not weakened.
        ca = c.str(p + ".ca_file", v.get("ca_file", _REQUIRED), 1, 64, default=None)
        if tls and "ca_file" not in v:
            c.bad(p + ".ca_file", "required when tls is true: the path on flash of the broker's "
                  "CA certificate (PEM or DER), e.g. /ca.pem")
        # The name the broker's certificate must carry, when it is not the host dialled (an IP
        # address dialled to avoid DNS, a certificate issued for the broker's DNS name).
        tls_name = c.str(p + ".tls_name", v.get("tls_name", _REQUIRED), 1, 253, default=None)
        if tls_name is not None and (" " in tls_name or "/" in tls_name):
            c.bad(p + ".tls_name", "'%s' must be a host name" % tls_name)
        prefix = c.str(p + ".topic_prefix", v.get("topic_prefix", _REQUIRED), 1, 64,
                       default="mimamori/v1")
        if prefix is not None and ("+" in prefix or "#" in prefix or " " in prefix
                                   or prefix[0] == "/" or prefix[-1] == "/"):
            c.bad(p + ".topic_prefix", "'%s' must not hold spaces, the MQTT wildcards + and #, "
                  "or a leading or trailing /" % prefix)
        return {
            "host": host,
            "port": c.int(p + ".port", v.get("port", _REQUIRED), 1, 65535,
                          default=8883 if tls else 1883),
            "tls": tls,
            "ca_file": ca,
            "tls_name": tls_name,
            "keepalive_s": c.int(p + ".keepalive_s", v.get("keepalive_s", _REQUIRED), 10, 3600,
                                 default=60),
            "ack_deadline_s": c.int(p + ".ack_deadline_s", v.get("ack_deadline_s", _REQUIRED),
                                    5, 120, default=20),
            "topic_prefix": prefix,
        }

    def landline(self, v):
        c = self.c
        p = "comms.landline"
        if c.obj(p, v, ("enabled", "account", "centre_number", "uart")) is None:
            return None
        on = c.bool(p + ".enabled", v.get("enabled", _REQUIRED), default=False)
        # Disabled: the other keys may stay (checked all the same, typos included) but none is
        # required.
        need = _REQUIRED if on else None
        out = {"enabled": on, "account": None, "centre_number": None, "uart": None}
        acc = v.get("account", _REQUIRED)
        rule = "4 characters of 0-9 and B-F"
        if acc is _REQUIRED:
            c.missing(p + ".account", need, rule)
        elif not isinstance(acc, str):
            c.bad(p + ".account", "expected %s, got %s" % (rule, _kind(acc)))
        elif len(acc) != 4 or not _only(acc, _ACCOUNT_CHARS):
            c.bad(p + ".account", "'%s' must be %s (Contact ID account)" % (acc, rule))
        else:
            out["account"] = acc
        num = v.get("centre_number", _REQUIRED)
        rule = "1-20 dial characters of 0-9, * and #"
        if num is _REQUIRED:
            c.missing(p + ".centre_number", need, rule)
        elif not isinstance(num, str):
            c.bad(p + ".centre_number", "expected %s, got %s" % (rule, _kind(num)))
        elif not 1 <= len(num) <= 20 or not _only(num, _DIAL_CHARS):
            c.bad(p + ".centre_number", "'%s' must be %s" % (num, rule))
        else:
            out["centre_number"] = num
        u = v.get("uart", _REQUIRED)
        if u is _REQUIRED:
            c.missing(p + ".uart", need, "an object with id, tx, rx and baud")
        elif c.obj(p + ".uart", u, ("id", "tx", "rx", "baud")) is not None:
            q = p + ".uart"
            out["uart"] = {
                "id": c.choice(q + ".id", u.get("id", _REQUIRED), (1, 2)),
                "tx": self.pin(q + ".tx", u.get("tx", _REQUIRED), "out"),
                "rx": self.pin(q + ".rx", u.get("rx", _REQUIRED), "in"),
                "baud": c.choice(q + ".baud", u.get("baud", _REQUIRED), BAUDS),
            }
        return out

    def supervision(self, v):
        c = self.c
        p = "supervision"
        out = {"line_voltage": None, "battery": None, "ac_sense_gpio": None}
        if c.obj(p, v, ("line_voltage", "battery", "ac_sense_gpio")) is None:
            return out
        lv = v.get("line_voltage", _REQUIRED)
        if lv is not _REQUIRED and c.obj(p + ".line_voltage", lv, ("gpio", "cut_below_mv")) is not None:
            q = p + ".line_voltage"
            out["line_voltage"] = {
                "gpio": self.pin(q + ".gpio", lv.get("gpio", _REQUIRED), "adc"),
                "cut_below_mv": c.int(q + ".cut_below_mv", lv.get("cut_below_mv", _REQUIRED),
                                      500, 60000, default=3000),
            }
        bat = v.get("battery", _REQUIRED)
        if bat is not _REQUIRED and c.obj(p + ".battery", bat, ("gpio", "low_mv", "ok_mv")) is not None:
            q = p + ".battery"
            low = c.int(q + ".low_mv", bat.get("low_mv", _REQUIRED), 1000, 60000, default=11500)
            ok = c.int(q + ".ok_mv", bat.get("ok_mv", _REQUIRED), 1000, 60000, default=12200)
            if low is not None and ok is not None and ok <= low:
                # Without a gap the trouble would flap on and off at the threshold.
                c.bad(q + ".ok_mv", "%d must be above low_mv %d (hysteresis)" % (ok, low))
            out["battery"] = {"gpio": self.pin(q + ".gpio", bat.get("gpio", _REQUIRED), "adc"),
                              "low_mv": low, "ok_mv": ok}
        out["ac_sense_gpio"] = self.pin(p + ".ac_sense_gpio", v.get("ac_sense_gpio", _REQUIRED),
                                        "in", default=None)
        return out

    def timers(self, v):
        c = self.c
        out = {}
        known = tuple([t[0] for t in TIMERS])
        if c.obj("timers", v, known) is None:
            v = {}
        for name, default, lo, hi in TIMERS:
            out[name] = c.int("timers." + name, v.get(name, _REQUIRED), lo, hi, default=default)
        return out


class _Secrets:
    def __init__(self, s, config, errors):
        self.c = _Check(errors, secret=True)
        self.out = self.build(s, config)

    def build(self, s, config):
        c = self.c
        if c.obj("secrets", s, ("wifi", "mqtt", "site_key", "users", "cards")) is None:
            return None
        out = {"wifi": None, "mqtt": None}
        w = s.get("wifi", _REQUIRED)
        if c.obj("secrets.wifi", w, ("ssid", "password"),
                 "an object with ssid and password") is not None:
            ssid = w.get("ssid", _REQUIRED)
            # The 802.11 limit is 32 bytes, and a Japanese SSID takes 3 bytes per character.
            if ssid is _REQUIRED:
                c.bad("secrets.wifi.ssid", "missing: expected a string of 1-32 bytes (UTF-8)")
            elif not isinstance(ssid, str) or not _text_ok(ssid) or not 1 <= len(ssid.encode()) <= 32:
                c.bad("secrets.wifi.ssid", "expected a string of 1-32 bytes (UTF-8)")
                ssid = None
            out["wifi"] = {"ssid": ssid,
                           "password": c.str("secrets.wifi.password", w.get("password", _REQUIRED),
                                             8, 63)}
        m = s.get("mqtt", _REQUIRED)
        if m is not _REQUIRED and c.obj("secrets.mqtt", m, ("username", "password")) is not None:
            out["mqtt"] = {
                "username": c.str("secrets.mqtt.username", m.get("username", _REQUIRED), 1, 64),
                "password": c.str("secrets.mqtt.password", m.get("password", _REQUIRED), 0, 128),
            }
            self.cleartext(config)
        out["site_key"] = c.hex("secrets.site_key", s.get("site_key", _REQUIRED), 64, 64,
                                what="64 hex characters (a 32-byte key)")
        out["users"] = self.users(s.get("users", _REQUIRED))
        out["cards"] = self.cards(s.get("cards", []), out["users"])
        return out

    def cleartext(self, config):
        """Broker credentials must not cross the network in clear text: TLS, or loopback."""
        try:
            mq = config["comms"]["mqtt"]
            host, tls = mq["host"], mq["tls"]
        except (KeyError, TypeError, IndexError):
            return   # no (valid) config to compare with: its own errors say why
        if tls is False and isinstance(host, str) and not (
                host == "localhost" or host.startswith("127.")):
            self.c.bad("secrets.mqtt", "the broker password would cross the network in clear "
                       "text: set comms.mqtt.tls to true")

    def hashed(self, p, v, kind, tool_arg):
        c = self.c
        if isinstance(v, (str, int)) and not isinstance(v, bool):
            c.bad(p, "store the hash, not the %s: run tools/hash_secret.py %s" % (kind, tool_arg))
            return None
        if c.obj(p, v, ("salt", "hash", "iter"),
                 "{salt, hash, iter} from tools/hash_secret.py " + tool_arg) is None:
            return None
        return {
            "salt": c.hex(p + ".salt", v.get("salt", _REQUIRED), 16, 64,
                          what="16-64 hex characters (8-32 bytes)"),
            "hash": c.hex(p + ".hash", v.get("hash", _REQUIRED), 64, 64,
                          what="64 hex characters (SHA-256)"),
            "iter": c.int(p + ".iter", v.get("iter", _REQUIRED), MIN_ITERATIONS, MAX_ITERATIONS,
                          default=ITERATIONS),
        }

    def users(self, v):
        c = self.c
        users = []
        if c.list("secrets.users", v, 1, 99, "a non-empty list of users") is None:
            return users
        ids = {}
        residents = 0
        for i, u in enumerate(v):
            p = "secrets.users[%d]" % i
            if c.obj(p, u, ("id", "name", "role", "code")) is None:
                continue
            user = {"id": c.int(p + ".id", u.get("id", _REQUIRED), 1, 99),
                    "name": c.str(p + ".name", u.get("name", _REQUIRED), 1, 32),
                    "role": c.choice(p + ".role", u.get("role", _REQUIRED), ROLES),
                    "code": self.hashed(p + ".code", u.get("code", _REQUIRED), "code", "code")}
            if user["id"] is not None:
                if user["id"] in ids:
                    c.bad(p + ".id", "%d is already used by %s" % (user["id"], ids[user["id"]]))
                else:
                    ids[user["id"]] = p
            if user["role"] == "resident":
                residents += 1
            users.append(user)
        if not residents:
            c.bad("secrets.users", "at least one user must have the role resident")
        return users

    def cards(self, v, users):
        c = self.c
        cards = []
        if c.list("secrets.cards", v, 0, 99, "a list of cards") is None:
            return cards
        user_ids = [u["id"] for u in users]
        ids = {}
        for i, k in enumerate(v):
            p = "secrets.cards[%d]" % i
            if c.obj(p, k, ("id", "user", "uid")) is None:
                continue
            card = {"id": c.int(p + ".id", k.get("id", _REQUIRED), 1, 999),
                    "user": c.int(p + ".user", k.get("user", _REQUIRED), 1, 99),
                    "uid": self.hashed(p + ".uid", k.get("uid", _REQUIRED), "card id", "card")}
            if card["id"] is not None:
                if card["id"] in ids:
                    c.bad(p + ".id", "%d is already used by %s" % (card["id"], ids[card["id"]]))
                else:
                    ids[card["id"]] = p
            if card["user"] is not None and card["user"] not in user_ids:
                c.bad(p + ".user", "no user with id %d in secrets.users" % card["user"])
            cards.append(card)
        return cards


def validate_pins(pins_dict):
    errors = []
    _Pins(pins_dict, _Check(errors))
    if errors:
        raise ConfigError(errors)
    return pins_dict


def validate_config(cfg_dict, pins_dict):
    """The config with every default filled in, or ConfigError listing every problem (the pin
    map's included)."""
    errors = []
    pins = _Pins(pins_dict, _Check(errors))
    out = _Config(cfg_dict, pins, errors).out
    if errors:
        raise ConfigError(errors)
    return out


def validate_secrets(secrets_dict, config_dict=None):
    """Secrets with defaults filled in, or ConfigError. `config_dict` (validated) enables the
    cross-checks: broker credentials only over TLS or loopback."""
    errors = []
    out = _Secrets(secrets_dict, config_dict, errors).out
    if errors:
        raise ConfigError(errors)
    return out


def warnings(config):
    """Advice on a validated config, not errors (it boots and guards): "<path>: <why>" lines,
    shown by boot and the installer tools."""
    from mimamori.proto.dns import is_ipv4
    out = []
    host = config["comms"]["mqtt"]["host"]
    if not is_ipv4(host):
        out.append("comms.mqtt.host: '%s' is a host name: the controller asks DNS for it (in "
                   "the background, the loop never waits), so a DNS outage or a wrong answer "
                   "keeps reports off MQTT; an IP address needs no DNS (with TLS, put the "
                   "certificate's name in comms.mqtt.tls_name)" % host)
    return out


def _exists(path):
    # Asked of the directory rather than read from the errno: ENOENT is 2 on the ESP32 but 44
    # under Emscripten (the WebAssembly test interpreter), whatever its errno module says.
    cut = path.rfind("/")
    folder, name = (path[:cut] or "/", path[cut + 1:]) if cut >= 0 else (".", path)
    try:
        return name in os.listdir(folder)
    except OSError:
        return False


def read_json(path, errors):
    """The parsed file, or None with a message naming the file (and the position, where the
    parser gives one: CPython does, MicroPython's json does not)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        if not _exists(path):
            errors.append("%s: file not found" % path)
        else:
            errors.append("%s: cannot be read (OSError %s)" % (path, e.args[0] if e.args else "?"))
        return None
    try:
        text = raw.decode("utf-8")
    except Exception:  # noqa: BLE001 - UnicodeError on CPython, the same or ValueError here
        errors.append("%s: not UTF-8 text" % path)
        return None
    if text[:1] == "\ufeff":
        text = text[1:]   # a byte-order mark from a Windows editor is harmless: skip it
    try:
        return json.loads(text)
    except Exception as e:  # noqa: BLE001 - ValueError; also RecursionError on deep nesting
        line = getattr(e, "lineno", None)
        if line is not None:
            errors.append("%s: not valid JSON at line %d, column %d: %s" % (
                path, line, e.colno, e.msg))
        else:
            errors.append("%s: not valid JSON: %s" % (path, e))
        return None


def load(config_path="config.json", secrets_path="secrets.json", pins_path="pins.json"):
    """(config, secrets), validated with defaults filled in, or ConfigError naming every
    problem in all three files."""
    errors = []
    pins_raw = read_json(pins_path, errors)
    cfg_raw = read_json(config_path, errors)
    sec_raw = read_json(secrets_path, errors)
    pins = _Pins(pins_raw, _Check(errors)) if pins_raw is not None else None
    config = _Config(cfg_raw, pins, errors).out if cfg_raw is not None else None
    secrets = _Secrets(sec_raw, config, errors).out if sec_raw is not None else None
    if errors:
        raise ConfigError(errors)
    return config, secrets
