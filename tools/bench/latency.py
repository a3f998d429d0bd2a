"""Sensor edge -> centre ack latency through the whole firmware, on loopback with a real broker.

The real App runs on the virtual board (fake ESP32 pins) in real time; the centre is
tools/receiver.py. For each sample a window contact opens (the pin changes), and we time:
  edge -> ack      from the pin change to the centre's signed ack recorded in the journal;
  decision -> ack  from the alarm decision (after the zone's debounce) to that ack: the
                   reporting path itself, which the p99 <= 10 ms target is about.
Then a plain umqtt.simple QoS 1 publish (blocking until PUBACK) on the same broker, same run.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import vboard  # noqa: E402  (puts firmware/, fakes and lib/ on the path)
import broker as broker_mod  # noqa: E402
import receiver as R  # noqa: E402
import hostclock  # noqa: E402

from mimamori.store.config import validate_config, validate_secrets  # noqa: E402

BOARD = os.path.join(vboard.hostpath.ROOT, "boards", "esp32-devkitc")
ZONE = 3          # リビング窓 (magnet, 50 ms debounce)


def _pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def _site(port):
    cfg = json.load(open(os.path.join(BOARD, "config.sample.json"), encoding="utf-8"))
    pins = json.load(open(os.path.join(BOARD, "pins.json"), encoding="utf-8"))
    sec = json.load(open(os.path.join(BOARD, "secrets.sample.json"), encoding="utf-8"))
    cfg["comms"]["mqtt"]["port"] = port
    cfg["timers"]["exit_delay_s"] = 0
    config = validate_config(cfg, pins)
    return config, validate_secrets(vboard.own_secrets(sec), config)


def _spin(board, cond, timeout=5.0):
    """Run the loop flat out (real clock) until cond()."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        board.app.step(hostclock.ticks_ms())
        if cond():
            return True
    raise SystemExit("bench: timed out waiting for the centre")


def measure(n=200):
    b = broker_mod.launch()
    tmp = tempfile.mkdtemp(prefix="mm-bench-")
    try:
        config, secrets = _site(b.port)
        # The centre in its own process, as in the field: in this process its network thread
        # would wait for the GIL behind the firmware loop (5 ms switch interval).
        db = os.path.join(tmp, "centre.db")
        R.Store(db).add_site(config["site_id"], secrets["site_key"])
        rx = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(HERE), "receiver.py"),
                               "--db", db, "--host", b.host, "--port", str(b.port), "run"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        hostclock.use_real()
        board = vboard.VirtualBoard(config, secrets, os.path.join(tmp, "flash"),
                                    log=lambda m: None)
        app = board.app
        _spin(board, lambda: app.link.connected and app.journal.pending_count() == 0, 15.0)
        app.operate("arm", hostclock.ticks_ms(), code="1234", mode="away")
        _spin(board, lambda: app.journal.pending_count() == 0)
        edge, decision = [], []
        for i in range(n):
            before = app.journal.next_seq
            t0 = time.perf_counter()
            board.set_zone(ZONE, True)
            _spin(board, lambda: app.journal.next_seq > before)
            t1 = time.perf_counter()
            _spin(board, lambda: app.journal.pending_count() == 0)
            t2 = time.perf_counter()
            edge.append((t2 - t0) * 1000)
            decision.append((t2 - t1) * 1000)
            board.set_zone(ZONE, False)           # restore (reported too), then re-arm
            _spin(board, lambda: app.journal.pending_count() == 0 and not app.core.zones[2].open)
            app.operate("arm", hostclock.ticks_ms(), code="1234", mode="away")
            _spin(board, lambda: app.journal.pending_count() == 0)
        app.link.close(hostclock.ticks_ms())
        rx.terminate()
        rx.wait(10)
        from umqtt.simple import MQTTClient
        c = MQTTClient("bench-plain", b.host, b.port)
        c.connect()
        plain = []
        payload = b"x" * 300
        for i in range(n):
            t0 = time.perf_counter()
            c.publish(b"bench/plain", payload, qos=1)
            plain.append((time.perf_counter() - t0) * 1000)
        c.disconnect()
        return {"n": n, "broker": b.kind,
                "edge": (_pct(edge, 0.5), _pct(edge, 0.99)),
                "decision": (_pct(decision, 0.5), _pct(decision, 0.99)),
                "plain": (_pct(plain, 0.5), _pct(plain, 0.99))}
    finally:
        hostclock.use_virtual(0)
        b.close()


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 100)))
