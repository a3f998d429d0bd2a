#!/usr/bin/env python3
"""A controller's reporting path on the host: journal + delivery + MQTT link, the firmware's own
code, raising alarms as fast as told. For crash tests (kill -9 it anywhere, start it again on the
same --dir), soaks and benches.

    python tools/reporter_host.py --dir /tmp/j --site site-001 --key <64 hex> \
        --port 1883 --alarms 200 [--rate 0] [--linger 0]
    python tools/reporter_host.py --dir x --site x --key x --port 1883 --bench 500

Raises alarms until the journal holds --alarms of them (so a restart continues where the last
run stopped), delivers them, prints "DONE <n>" when every one is acknowledged, and exits after
--linger seconds. --rate alarms per second (0: as fast as the loop runs).
"""
import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for p in (os.path.join(ROOT, "lib"), os.path.join(ROOT, "host_tests", "fakes"),
          os.path.join(ROOT, "firmware")):
    sys.path.insert(0, p)

from mimamori.core import events as E          # noqa: E402
from mimamori.store.journal import Journal      # noqa: E402
from mimamori.comms.mqtt import MqttLink        # noqa: E402
from mimamori.comms.delivery import Delivery    # noqa: E402
from mimamori.proto import frame                # noqa: E402

ZONES = ["玄関", "台所", "居間の窓", "寝室", "勝手口", "浴室", "二階廊下", "金庫"]
T0 = time.monotonic()


def now_ms():
    return int(time.monotonic() * 1000) & ((1 << 30) - 1)


def wall(t=None):
    """ISO 8601 with the offset, as the RTC would give it (JST)."""
    t = time.time() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%S+09:00", time.gmtime(t + 9 * 3600))


def raise_alarm(journal, i):
    zone = i % len(ZONES) + 1
    ev = E.Event(now_ms(), E.ALARM, E.CID_PERIMETER, E.Q_NEW, zone=zone,
                 zone_name=ZONES[zone - 1], mode="away")
    return journal.append(ev, wall(), int(time.monotonic() - T0))


def _pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def bench(host, port, n=200, user=None, password=None, centre_db=None):
    """Edge -> ack latency: journal append to the centre's signed ack recorded (firmware path,
    with tools/receiver.py as the centre), against a plain umqtt.simple QoS 1 publish (blocking
    until PUBACK). Returns {"ours": (p50, p99) ms, "umqtt_qos1": (p50, p99) ms, "n": n}."""
    import tempfile
    from umqtt.simple import MQTTClient
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import receiver as R
    key_hex = os.urandom(32).hex()
    site = "bench-%d" % os.getpid()
    store = R.Store(centre_db or os.path.join(tempfile.mkdtemp(), "centre.db"))
    store.add_site(site, key_hex)
    rx = R.Receiver(store, host, port, user, password, out=lambda line: None).start()
    rx.wait_connected()
    journal = Journal(tempfile.mkdtemp())
    link = MqttLink(site, host, port, user, password, keepalive_s=30)
    dl = Delivery(journal, link, frame.site_key(key_hex), site)
    while not link.connected:
        dl.poll(now_ms())
        time.sleep(0.001)
    ours = []
    for i in range(n):
        t0 = time.perf_counter()
        raise_alarm(journal, i)
        while journal.pending_count():
            dl.poll(now_ms())
        ours.append((time.perf_counter() - t0) * 1000)
    link.close(now_ms())
    rx.stop()
    c = MQTTClient(site + "-plain", host, port, user, password)
    c.connect()
    plain = []
    payload = b"x" * 300
    for i in range(n):
        t0 = time.perf_counter()
        c.publish(b"bench/plain", payload, qos=1)
        plain.append((time.perf_counter() - t0) * 1000)
    c.disconnect()
    return {"n": n, "ours": (_pct(ours, 0.5), _pct(ours, 0.99)),
            "umqtt_qos1": (_pct(plain, 0.5), _pct(plain, 0.99))}


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--site", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=1883)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--alarms", type=int, default=10)
    p.add_argument("--rate", type=float, default=0)
    p.add_argument("--linger", type=float, default=0)
    p.add_argument("--deadline", type=int, default=20)
    p.add_argument("--bench", type=int, metavar="N",
                   help="print edge->ack latency p50/p99 over N alarms vs plain umqtt QoS 1")
    o = p.parse_args(argv)
    if o.bench:
        r = bench(o.host, o.port, o.bench, o.user, o.password)
        print("edge->signed ack (journal+delivery+receiver): p50 %.2f ms  p99 %.2f ms  (n=%d)" % (
            r["ours"] + (r["n"],)))
        print("plain umqtt.simple publish QoS 1 -> PUBACK:   p50 %.2f ms  p99 %.2f ms" % (
            r["umqtt_qos1"]))
        return 0
    journal = Journal(o.dir)
    link = MqttLink(o.site, o.host, o.port, o.user, o.password, keepalive_s=30)
    handoffs = []
    dl = Delivery(journal, link, frame.site_key(o.key), o.site, handoff=handoffs.append,
                  ack_deadline_s=o.deadline)
    print("START next_seq=%d pending=%d" % (journal.next_seq, journal.pending_count()), flush=True)
    gap = 1.0 / o.rate if o.rate else 0
    last = 0.0
    done_at = None
    while True:
        t = time.monotonic()
        if journal.next_seq <= o.alarms and t - last >= gap:
            seq = raise_alarm(journal, journal.next_seq)
            print("RAISED %d" % seq, flush=True)
            last = t
        dl.poll(now_ms())
        if journal.next_seq > o.alarms and not journal.pending_count():
            if done_at is None:
                done_at = t
                print("DONE %d writes=%d handoffs=%d" % (o.alarms, journal.writes, len(handoffs)),
                      flush=True)
            if t - done_at >= o.linger:
                link.close(now_ms())
                return 0
        time.sleep(0.0005)


if __name__ == "__main__":
    sys.exit(main())
