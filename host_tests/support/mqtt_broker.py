# Fixtures: a real mosquitto broker (tools/broker.py, the launcher the simulator and the bench
# use too) on a free loopback port, with per-site users when asked. stop()/start() keep the
# port, so a test can take the broker away for a while and bring it back. Also puts lib/ (the
# fetched umqtt.simple) on the path, as the firmware image freezes it on a board.
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _p in (os.path.join(ROOT, "lib"), os.path.join(ROOT, "tools")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from broker import Mosquitto as Broker, free_port  # noqa: E402,F401 - one launcher for all


@pytest.fixture
def broker():
    b = Broker().start()
    yield b
    b.close()


@pytest.fixture
def auth_broker():
    b = Broker(users={"site-001": "s1-secret", "centre": "c-secret"}).start()
    yield b
    b.close()
