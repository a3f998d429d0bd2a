# Fixtures: real mosquitto brokers (tools/broker.py, the launcher the simulator and the bench use
# too) on free loopback ports. stop()/start() keep the ports, so a test can take the broker away
# for a while and bring it back. Also puts lib/ (the fetched umqtt.simple) on the path, as the
# firmware image freezes it on a board.
#
# broker       a lab broker, anonymous: for link and delivery behaviour where access control is
#              not the subject.
# site_broker  the shipped deployment config (deploy/mosquitto: passwords, per-site ACLs, client
#              id = user name, anonymous refused, TLS listener on b.tls_port with the throwaway
#              CA b.ca_file). Users: site-001, site-002 (controllers), centre, centre-cmd,
#              ha-site-001, ha-site-002; b.login(user) -> (user, password).
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _p in (os.path.join(ROOT, "lib"), os.path.join(ROOT, "tools")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from broker import Mosquitto as Broker, SiteBroker, free_port  # noqa: E402,F401 - one launcher

SITES = ("site-001", "site-002")


@pytest.fixture
def broker():
    b = Broker().start()
    yield b
    b.close()


@pytest.fixture
def site_broker():
    # the passwords the earlier auth_broker fixture had, for tests written against it
    b = SiteBroker(sites={"site-001": "s1-secret", "site-002": None}, ha_sites=SITES,
                   passwords={"centre": "c-secret"}).start()
    yield b
    b.close()


auth_broker = site_broker    # the name the older tests use
