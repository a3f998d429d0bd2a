# What main.py runs on the board: configuration -> Wi-Fi -> App -> asyncio loop.
import asyncio

from mimamori.compat import ticks_ms
from mimamori.store.config import load, ConfigError, warnings

CONFIG = "/config.json"
SECRETS = "/secrets.json"
PINS = "/pins.json"
DATA = "/data"


def main():
    try:
        config, secrets = load(CONFIG, SECRETS, PINS)
    except ConfigError as e:
        print("mimamori: configuration refused, the controller is NOT guarding:")
        print(e)
        return
    for w in warnings(config):
        print("mimamori: warning: " + w)
    from mimamori.io.wifi import Wifi
    from mimamori.app import App
    wifi = Wifi(secrets["wifi"]["ssid"], secrets["wifi"]["password"])
    app = App(config, secrets, DATA, ticks_ms(), wifi=wifi)
    del secrets   # the app keeps what it needs (hashes, key); the plain dict goes
    asyncio.run(app.run())
