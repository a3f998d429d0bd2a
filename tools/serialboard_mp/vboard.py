# The virtual board's side of the chip (tools/serialboard.mjs): runs first in every fresh
# interpreter (power-on, soft and hard reset) and makes it look like a mimamori ESP32 to the
# firmware and to mpremote. Module names a board has but the WebAssembly interpreter lacks or has
# differently are put in sys.modules:
#   machine, network   the host fakes (host_tests/fakes), pins driven by the control channel
#   time               sleep_ms & co. sleep in the chip runner, which watches the serial line
#                      (Ctrl-C -> KeyboardInterrupt) and the sensors meanwhile
#   asyncio            the interpreter's own is the browser event loop (no asyncio.run): a small
#                      run() that sleeps between awaits, which is all app.run() needs
#   socket, usocket    TCP through the chip runner to the host's bridge (vsocket.py)
#   select, uselect    poll() that understands those sockets
#   os, open           OSError numbers mapped from Emscripten's to the ESP32's (ENOENT 44 -> 2)
#   vfs                rom_ioctl: the ROMFS partition, so `mpremote romfs deploy` writes it
import sys
import json
import _vb


def install():
    import vtime
    import vos
    import vvfs
    import vasyncio
    import vsocket
    import vselect
    sys.modules["time"] = vtime
    sys.modules["utime"] = vtime
    sys.modules["os"] = vos
    sys.modules["uos"] = vos
    sys.modules["vfs"] = vvfs
    sys.modules["asyncio"] = vasyncio
    sys.modules["socket"] = vsocket
    sys.modules["usocket"] = vsocket
    sys.modules["select"] = vselect
    sys.modules["uselect"] = vselect
    import builtins
    builtins.open = vos.open_mapped
    # The interpreter changes into /rom when it mounts a ROMFS; a board's working directory is
    # its flash, where mpremote's relative paths (":config.json") must land.
    vos.chdir("/")
    import hostclock
    import machine
    import network
    chip = _read_json("/pins.json").get("mcu", "esp32")
    try:
        machine.reset_all(chip)
    except KeyError:
        machine.reset_all("esp32")
    machine.reset = _hard_reset
    _set_rtc(machine, vtime)
    sec = _read_json("/secrets.json")
    wifi = sec.get("wifi") if isinstance(sec.get("wifi"), dict) else {}
    if wifi.get("ssid"):
        network.set_ap(wifi["ssid"], wifi.get("password", ""))
    global _zones, _reader
    config = _read_json("/config.json")
    _reader = _card_reader(config)
    _zones = {}
    for z in config.get("zones", ()):
        try:
            _zones[int(z["id"])] = z
        except (KeyError, TypeError, ValueError):
            pass
    for zid in _zones:
        _drive_zone(zid, 0)
    apply(_vb.pins_all())
    del hostclock


_zones = {}
_reader = None


def _card_reader(config):
    """The fake PN532 (host_tests/fakes/pn532_chip.py, when present) on the I2C bus and address
    the config names, as tools/vboard.py wires it."""
    cr = config.get("card_reader")
    if not isinstance(cr, dict):
        return None
    try:
        from pn532_chip import PN532Chip
    except ImportError:
        return None
    i2c = config.get("i2c") if isinstance(config.get("i2c"), dict) else {}
    try:
        return PN532Chip().attach(i2c.get("id", 0), cr.get("addr", 0x24))
    except Exception:   # noqa: BLE001 - a config the firmware will refuse anyway
        return None


def _card(value):
    if _reader is None:
        return
    _reader.remove()
    if value:
        from pn532_chip import Felica, Mifare
        uid, _, kind = value.partition(":")
        try:
            _reader.place(Felica(uid) if kind == "felica" else Mifare(uid))
        except (AssertionError, ValueError, IndexError):
            pass


def _read_json(path):
    try:
        with open(path) as f:
            d = json.load(f)
        return d if isinstance(d, dict) else {}
    except (OSError, ValueError):
        return {}


def _set_rtc(machine, vtime):
    # The RTC keeps the time across resets on a board: here it starts at the host's UTC time.
    try:
        t = vtime.gmtime()
        machine.RTC().datetime((t[0], t[1], t[2], 0, t[3], t[4], t[5], 0))
    except Exception:   # noqa: BLE001 - a board without a set clock still boots
        pass


def _hard_reset():
    import machine
    _vb.hard_reset()
    raise machine.BoardReset("machine.reset()")


def level_for(z, active):
    """The pin level a zone shows (as tools/vboard.py VirtualBoard.level_for)."""
    idle = 1 if z.get("pull", "up") in ("up", "none") else 0
    nc = z.get("wiring", "NC") == "NC"
    contact_closed = (not active) if nc else active
    return (1 - idle) if contact_closed else idle


def _drive_zone(zid, active):
    z = _zones.get(zid)
    if z is not None:
        _drive(z.get("gpio"), level_for(z, active))


def _drive(gpio, level):
    import machine
    try:
        machine.Pin(gpio).drive(level)
    except (ValueError, TypeError):
        pass


def apply(cmds):
    """Control-channel commands "Z3=1;P4=0": zone 3 active, GPIO 4 at level 0."""
    for c in cmds.split(";"):
        if "=" not in c:
            continue
        k, v = c.split("=")
        if k == "C":
            _card(v)
        elif k[0] == "Z":
            _drive_zone(int(k[1:]), int(v))
        else:
            _drive(int(k[1:]), int(v))


def sleep_ms(ms):
    _vb.sleep(ms if ms > 0 else 0)
    p = _vb.pins()
    if p:
        apply(p)
    _fire_timers()


def _fire_timers():
    import hostclock
    import machine
    clk = hostclock.clock
    now = clk.now_ms
    for w in list(clk._waiters):
        if isinstance(w, machine.Timer):   # the WDT is not emulated: the wasm loop is slow
            d = w.next_due_ms()
            if d is not None and d <= now:
                w.fire(now)


def run_file(name):
    """Run /boot.py or /main.py as a board does; an exception is printed, the REPL follows."""
    try:
        with open(name) as f:
            src = f.read()
    except OSError:
        return
    try:
        exec(src, {"__name__": "__main__"})
    except BaseException as e:   # noqa: BLE001 - a board prints it and goes to the REPL
        sys.print_exception(e)
