# The board's pin map (boards/<name>/pins.json) and the pin rules drawn from it: which GPIOs
# exist, are reserved, are input-only or without pulls, read analogue, or strap the boot. These
# board rules live in pins.json and here only: the drivers take the validated config as it is.
from mimamori.store.config_check import REQUIRED, is_int, kind


class Pins:
    """The board's pin map (boards/<name>/pins.json), checked and turned into sets."""

    def __init__(self, p, c):
        self.ok = False
        known = ("board", "mcu", "module", "gpio", "input_only", "no_pull", "adc", "forbidden",
                 "strapping", "i2c", "notes")
        if c.obj("pins", p, known) is None:
            return
        n0 = len(c.errors)
        self.name = c.str("pins.board", p.get("board", REQUIRED), 1, 32)
        c.str("pins.mcu", p.get("mcu", REQUIRED), 1, 32)
        c.str("pins.module", p.get("module", REQUIRED), 1, 64, default="")
        self.gpio = self._ints(c, "pins.gpio", p.get("gpio", REQUIRED), None)
        self.input_only = self._ints(c, "pins.input_only", p.get("input_only", REQUIRED), self.gpio)
        self.no_pull = self._ints(c, "pins.no_pull", p.get("no_pull", REQUIRED), self.gpio)
        self.adc = self._ints(c, "pins.adc", p.get("adc", REQUIRED), self.gpio)
        self.forbidden = self._reasons(c, "pins.forbidden", p.get("forbidden", REQUIRED), "reason")
        self.strapping = self._strapping(c, p.get("strapping", REQUIRED))
        # the I2C controllers' ids (optional; store/config_bus.py assumes 0 and 1 without it)
        self.i2c = self._ints(c, "pins.i2c", p.get("i2c", []), None)
        notes = p.get("notes", [])
        if not isinstance(notes, list):
            c.bad("pins.notes", "expected a list of strings, got " + kind(notes))
        else:
            for i, n in enumerate(notes):
                c.str("pins.notes[%d]" % i, n, 0, 1000, what="a string")
        self.ok = len(c.errors) == n0

    def _ints(self, c, path, v, within):
        out = set()
        if c.list(path, v, 0, 64, "a list of GPIO numbers") is None:
            return out
        for i, n in enumerate(v):
            if not is_int(n) or n < 0 or n > 99:
                c.bad("%s[%d]" % (path, i), "expected a GPIO number, got " + kind(n))
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
            n = c.int(p + ".gpio", e.get("gpio", REQUIRED), 0, 99)
            text = c.str(p + ".boot", e.get("boot", REQUIRED), 1, 200)
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
            n = c.int(p + ".gpio", e.get("gpio", REQUIRED), 0, 99)
            text = c.str(p + "." + text_key, e.get(text_key, REQUIRED), 1, 200)
            if n is not None and text is not None:
                out[n] = text
        return out



class PinUse:
    """Hands out the board's pins to the config's sections, one use each."""

    def __init__(self, c, pins):
        self.c = c
        self.pins = pins if pins is not None and pins.ok else None
        self.used = {}   # gpio -> the path that took it
        self.strap_override = []

    def pin(self, path, v, need="in", default=REQUIRED):
        """A GPIO number that exists on the board, is not reserved, can do `need` ('in',
        'out' or 'adc') and is not used by anything else."""
        c = self.c
        if v is REQUIRED:
            return c.missing(path, default, "a GPIO number")
        if not is_int(v):
            c.bad(path, "expected a GPIO number, got " + kind(v))
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
        if v is REQUIRED:
            return out
        if c.list("strapping_override", v, 0, 16, "a list of GPIO numbers") is None:
            return out
        for i, n in enumerate(v):
            if not is_int(n):
                c.bad("strapping_override[%d]" % i, "expected a GPIO number, got " + kind(n))
            elif self.pins is not None and n not in self.pins.strapping:
                c.bad("strapping_override[%d]" % i, "GPIO %d is not a strapping pin on %s" % (
                    n, self.pins.name))
            else:
                out.append(n)
        return out



# ---- the panel: keypad and display (issue 14) ------------------------------------------------
# Each is optional: absent (or null) means the controller has none. The validator fills in every
# default; io/keypad.py and io/ssd1306.py get Pin and I2C objects built from what is here. The
# I2C bus itself (`i2c`, shared with the card reader) is store/config_bus.py's.
KEYPAD_DEDICATED = ("panic", "medical", "cancel")


def _pulled_in(k, path, v, default=REQUIRED):
    """An input that relies on the internal pull-up (keypad columns and keys to GND)."""
    if v is None and default is None:
        return None
    g = k.pin(path, v, "in", default=default)
    b = k.pins
    if g is not None and b is not None and g in b.no_pull:
        k.c.bad(path, "GPIO %d has no internal pull resistor on %s: a keypad input needs one"
                % (g, b.name))
    return g


def keypad(k, v):
    """`keypad`: a 4x4 matrix (rows: open-drain outputs, cols: inputs with pull-ups) and the
    dedicated 非常 / 救急 / キャンセル keys (inputs with pull-ups, buttons to GND)."""
    c = k.c
    if v is REQUIRED or v is None:
        return None
    if c.obj("keypad", v, ("rows", "cols", "debounce_ms") + KEYPAD_DEDICATED,
             "an object with rows and cols") is None:
        return None
    out = {}
    for name, need in (("rows", "out"), ("cols", "in")):
        path = "keypad." + name
        lst = v.get(name, REQUIRED)
        pins = []
        if c.list(path, lst, 4, 4, "a list of 4 GPIO numbers") is not None:
            for i, g in enumerate(lst):
                p = "%s[%d]" % (path, i)
                pins.append(_pulled_in(k, p, g) if need == "in" else k.pin(p, g, "out"))
        out[name] = pins
    for name in KEYPAD_DEDICATED:
        out[name] = _pulled_in(k, "keypad." + name, v.get(name, REQUIRED), default=None)
    out["debounce_ms"] = c.int("keypad.debounce_ms", v.get("debounce_ms", REQUIRED), 5, 200,
                               default=30)
    return out


def display(k, v, bus):
    """`display`: the SSD1306 128x64 OLED on the `i2c` bus."""
    c = k.c
    if v is REQUIRED or v is None:
        return None
    if c.obj("display", v, ("type", "address", "contrast", "sleep_min"), "an object") is None:
        return None
    if bus is None:
        c.bad("display", "the display is on the I2C bus: configure i2c (sda, scl) as well")
    out = {"type": c.choice("display.type", v.get("type", REQUIRED), ("ssd1306",),
                            default="ssd1306")}
    addr = c.int("display.address", v.get("address", REQUIRED), 0, 127, default=0x3C)
    if addr is not None and addr not in (0x3C, 0x3D):
        c.bad("display.address", "%d is not an SSD1306 address: 60 (0x3C, SA0 low) or 61 "
              "(0x3D, SA0 high)" % addr)
    out["address"] = addr
    out["contrast"] = c.int("display.contrast", v.get("contrast", REQUIRED), 0, 255,
                            default=207)
    # dark after this many quiet minutes (OLED burn-in), lit at the next change or key; 0: never
    out["sleep_min"] = c.int("display.sleep_min", v.get("sleep_min", REQUIRED), 0, 60,
                             default=10)
    return out
