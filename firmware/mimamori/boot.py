# What main.py runs on the board: configuration -> watchdog -> Wi-Fi -> App -> asyncio loop.
#
# A bad configuration stops here with every problem printed (the installer reads them over
# mpremote; the watchdog is not started yet, so the REPL stays usable to fix it). From then on
# the watchdog runs first: a boot that hangs (a slow journal scan, Wi-Fi) resets the board
# instead of leaving the house unguarded. Whatever is on the flash, the App is built: the App
# itself refuses damaged saved files and boots fail-secure (README "Power cut and damaged
# flash"); if building it still fails, the data directory is set aside and the App is built on
# an empty one, in the fail-secure state, reporting the damage (307). Only if that fails too does
# main stop feeding the watchdog, so the board resets and tries again.
import asyncio

from mimamori.compat import ticks_ms, sleep_ms
from mimamori.store.config import load, ConfigError, warnings

CONFIG = "/config.json"
SECRETS = "/secrets.json"
PINS = "/pins.json"
DATA = "/data"
LOG = "/log.txt"     # in the data directory: the controller's warnings on flash (mimamori/log.py)


def main(machine_module=None, data=DATA, config_paths=(CONFIG, SECRETS, PINS), wifi=True,
         run=True, log=None):
    """The board's boot. The arguments are for tests (a fake machine, a scratch data directory,
    no Wi-Fi, return the App instead of running it). The log: printed (the REPL, mpremote), and
    kept in the log ring, warnings also on flash (mimamori/log.py; service.logs() reads it)."""
    if log is None:
        from mimamori.log import Logger, Ring
        log = Logger(print, ring=Ring(data + LOG))
    try:
        config, secrets = load(*config_paths)
    except ConfigError as e:
        log("mimamori: configuration refused, the controller is NOT guarding:")
        log(str(e))
        return None
    for w in warnings(config):
        log("mimamori: warning: " + w)
    if machine_module is None:
        import machine as machine_module
    from mimamori.app import App, WDT_TIMEOUT_MS
    wdt = machine_module.WDT(timeout=WDT_TIMEOUT_MS)   # before anything that can hang
    w = None
    if wifi:
        from mimamori.io.wifi import Wifi
        w = Wifi(secrets["wifi"]["ssid"], secrets["wifi"]["password"])
    app = build_app(App, config, secrets, data, machine_module, w, wdt, log)
    del secrets   # the app keeps what it needs (hashes, key); the plain dict goes
    if app is None:
        # Nothing could be built: stop feeding the watchdog; it resets the board to try again.
        while True:
            sleep_ms(1000)
    if not run:
        return app
    from mimamori import usbrepl
    usbrepl.lock(app)         # a guarding board ignores Ctrl-C, but in installer mode
    try:
        asyncio.run(app.run())
    except KeyboardInterrupt:
        usbrepl.stop_for_installer(app, machine_module)


def build_app(App, config, secrets, data, machine_module, wifi, wdt, log):
    """The App on `data`; if that raises, on an empty directory with the old one set aside as
    <data>.bad (the App then boots fail-secure and reports the damage). None if both fail."""
    try:
        return App(config, secrets, data, ticks_ms(), machine_module=machine_module,
                   wifi=wifi, log=log, wdt=wdt)
    except Exception as e:   # noqa: BLE001 - the house must be guarded whatever the flash holds
        first = "boot failed on %s: %r" % (data, e)
        log("mimamori: " + first)
    wdt.feed()
    import os
    try:
        _remove_tree(data + ".bad")
    except OSError:
        pass
    try:
        os.rename(data, data + ".bad")
    except OSError as e:
        log("mimamori: cannot set %s aside: %r" % (data, e))
    try:
        return App(config, secrets, data, ticks_ms(), machine_module=machine_module,
                   wifi=wifi, log=log, wdt=wdt, findings=[first + "; set aside as .bad"])
    except Exception as e:   # noqa: BLE001
        log("mimamori: boot failed again, the watchdog will reset the board: %r" % (e,))
        return None


def _remove_tree(path):
    import os
    for name in os.listdir(path):
        p = path + "/" + name
        try:
            os.remove(p)
        except OSError:
            _remove_tree(p)
    os.rmdir(path)
