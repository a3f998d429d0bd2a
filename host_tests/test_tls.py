# TLS to the broker, end to end: the controller (the App on the virtual board, config
# `tls: true` with the broker's CA on flash) dials the shipped mosquitto configuration's TLS
# listener, whose certificate a throwaway CA made at test time (openssl) signed. The right CA
# connects, the boot report reaches the centre's receiver and Home Assistant sees the state and
# discovery (all through the shipped ACLs); a wrong CA and a wrong host name
# are refused, and the controller keeps guarding and retrying.
import json
import os
import shutil
import sys
import tempfile
import time

import paho.mqtt.client as paho
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import broker as broker_mod  # noqa: E402
import hostclock  # noqa: E402
import receiver as R  # noqa: E402
import vboard  # noqa: E402
from fake_dns import DnsServer  # noqa: E402
from mqtt_broker import SiteBroker  # noqa: E402
from mimamori.comms import mqtt as M  # noqa: E402
from mimamori.store.config import validate_config, validate_secrets  # noqa: E402

BOARD = os.path.join(ROOT, "boards", "esp32-devkitc")


@pytest.fixture(scope="module")
def tls_broker():
    sec = json.load(open(os.path.join(BOARD, "secrets.sample.json"), encoding="utf-8"))
    b = SiteBroker(sites={sec["mqtt"]["username"]: sec["mqtt"]["password"]},
                   ha_sites=[sec["mqtt"]["username"]]).start()
    yield b
    b.close()


def short_path(path):
    """A copy at a short path: comms.mqtt.ca_file is a path on the board's flash (<= 64)."""
    d = tempfile.mkdtemp(prefix="ca")
    dst = os.path.join(d, os.path.basename(path)[-20:])
    shutil.copy(path, dst)
    return dst


def site(b, ca_file, host="127.0.0.1", **mq):
    ca_file = short_path(ca_file)
    cfg = json.load(open(os.path.join(BOARD, "config.sample.json"), encoding="utf-8"))
    pins = json.load(open(os.path.join(BOARD, "pins.json"), encoding="utf-8"))
    # the house's own secrets (the shipped samples raise a trouble of their own)
    sec = vboard.own_secrets(json.load(open(os.path.join(BOARD, "secrets.sample.json"),
                                            encoding="utf-8")))
    cfg["comms"]["mqtt"].update({"host": host, "port": b.tls_port, "tls": True,
                                 "ca_file": ca_file}, **mq)
    config = validate_config(cfg, pins)
    return config, validate_secrets(sec, config)


def run_until(board, cond, real_timeout=10.0):
    end = time.monotonic() + real_timeout
    while time.monotonic() < end:
        board.run(10, real_sleep_s=0.001)
        if cond():
            return True
    return False


def test_right_ca_connects_and_a_report_reaches_the_centre(tls_broker, tmp_path):
    b = tls_broker
    hostclock.use_virtual(0)
    config, secrets = site(b, b.ca_file)         # the CA as PEM, as openssl wrote it
    store = R.Store(str(tmp_path / "centre.db"))
    store.add_site(config["site_id"], secrets["site_key"])
    lines = []
    rx = R.Receiver(store, b.host, b.port, *b.login("centre"), out=lines.append).start()
    assert rx.wait_connected()
    board = vboard.VirtualBoard(config, secrets, str(tmp_path / "flash"), log=lambda m: None)
    try:
        assert run_until(board, lambda: board.app.link.connected), board.app.link.last_error
        # the boot report (305) goes out over TLS and the centre's signed ack comes back
        assert run_until(board, lambda: board.app.journal.pending_count() == 0)
        assert [r[2:4] for r in store.reports(config["site_id"])] == [("status", "再起動")]
        assert any("再起動" in line for line in lines)
        # the house's Home Assistant (its own broker user) sees the retained state and the
        # discovery the controller published through the ACL
        ha = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="ha")
        ha.username_pw_set(*b.login("ha-sample-house"))
        seen = {}
        ha.on_message = lambda c, u, m: seen.setdefault(m.topic, m.payload)
        ha.on_connect = lambda c, u, f, rc, p: c.subscribe(
            [("mimamori/v1/sample-house/state", 1), ("homeassistant/#", 1)])
        ha.connect(b.host, b.port)
        ha.loop_start()
        try:
            # (the discovery messages arrive one after another: wait for all of them, a loaded
            # machine may deliver the panel's before its sensors')
            assert run_until(board, lambda: "mimamori/v1/sample-house/state" in seen and
                             "homeassistant/alarm_control_panel/sample-house/config" in seen
                             and any(t.startswith("homeassistant/binary_sensor/sample-house/")
                                     for t in list(seen)))
        finally:
            ha.loop_stop()
            ha.disconnect()
    finally:
        rx.stop()


def test_a_der_ca_file_works_too(tls_broker, tmp_path):
    b = tls_broker
    der = str(tmp_path / "ca.der")
    with open(b.ca_file, "rb") as f:
        pem = f.read()
    import ssl
    with open(der, "wb") as f:
        f.write(ssl.PEM_cert_to_DER_cert(pem.decode()))
    hostclock.use_virtual(0)
    config, secrets = site(b, der)
    board = vboard.VirtualBoard(config, secrets, str(tmp_path / "flash"), log=lambda m: None)
    assert run_until(board, lambda: board.app.link.connected), board.app.link.last_error


def refused(board, seconds=3.0):
    """The link never comes up; the loop keeps running (the controller keeps guarding)."""
    end = time.monotonic() + seconds
    steps = board.app.steps
    while time.monotonic() < end:
        board.run(10, real_sleep_s=0.001)
        assert not board.app.link.connected
    return board.app.link.drops >= 1 and board.app.steps > steps


def test_a_wrong_ca_is_refused(tls_broker, tmp_path):
    b = tls_broker
    other_ca, _key = broker_mod.make_ca(str(tmp_path), "someone else's CA")
    hostclock.use_virtual(0)
    config, secrets = site(b, other_ca)
    board = vboard.VirtualBoard(config, secrets, str(tmp_path / "flash"), log=lambda m: None)
    assert refused(board)
    assert "oserror" in board.app.link.last_error


def test_a_certificate_for_another_host_name_is_refused(tls_broker, tmp_path):
    # The broker's certificate names 127.0.0.1 and localhost; the controller is told the
    # broker is broker.example.net (at that address): a man in the middle with a certificate
    # from the same CA for another name must not pass.
    b = tls_broker
    hostclock.use_virtual(0)
    config, secrets = site(b, b.ca_file, tls_name="broker.example.net")
    board = vboard.VirtualBoard(config, secrets, str(tmp_path / "flash"), log=lambda m: None)
    assert refused(board)
    assert "oserror" in board.app.link.last_error


def _link_over_dns(b, host, dns):
    with open(b.ca_file, "rb") as f:
        ca = f.read()
    user, password = b.login("sample-house")
    return M.MqttLink("sample-house", host, b.tls_port, user, password, tls=True,
                      keepalive_s=30, ssl_params={"cadata": ca}, dns=dns.addr)


def _pump(link, cond, timeout):
    end = time.monotonic() + timeout
    t = 0
    while time.monotonic() < end and not cond():
        t += 10
        link.poll(t)
        time.sleep(0.002)
    return cond()


def test_a_host_name_looked_up_in_dns_is_checked_on_the_certificate(tls_broker):
    # The certificate names localhost: dialling "localhost" (DNS answers 127.0.0.1) connects;
    # dialling "impostor.test", which DNS also points at 127.0.0.1, is refused: a lying DNS
    # cannot send the controller to a broker that is not the one named.
    b = tls_broker
    dns = DnsServer()
    try:
        good = _link_over_dns(b, "localhost", dns)
        assert _pump(good, lambda: good.connected, 8), good.last_error
        good.close()
        bad = _link_over_dns(b, "impostor.test", dns)
        was_up = []
        _pump(bad, lambda: was_up.append(1) if bad.connected else bad.drops >= 1, 8)
        assert not was_up and bad.drops >= 1           # refused in the handshake, never up
        assert "oserror" in bad.last_error
    finally:
        dns.close()
