#!/usr/bin/env python3
"""A controller's reporting path on the host: journal + delivery + MQTT link, the firmware's own
code, raising alarms as fast as told. For crash tests (kill -9 it anywhere, start it again on the
same --dir) and soaks. (The latency figures are `make bench`: tools/bench/latency.py, through
the whole App.)

    python tools/reporter_host.py --dir /tmp/j --site site-001 --key <64 hex> \
        --port 1883 --alarms 200 [--rate 0] [--linger 0]

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
    o = p.parse_args(argv)
    journal = Journal(o.dir)
    link = MqttLink(o.site, o.host, o.port, o.user, o.password, keepalive_s=30)
    handoffs = []
    dl = Delivery(journal, link, frame.site_key(o.key), o.site, handoff=handoffs.append,
                  ack_deadline_s=o.deadline)
    # Alarms already raised: counted in the journal (seq is not a count: a reboot continues
    # above the journal's seq mark, leaving a gap).
    raised = sum(1 for _ in journal.history())
    print("START next_seq=%d pending=%d raised=%d" % (journal.next_seq, journal.pending_count(),
                                                     raised), flush=True)
    gap = 1.0 / o.rate if o.rate else 0
    last = 0.0
    done_at = None
    while True:
        t = time.monotonic()
        if raised < o.alarms and t - last >= gap:
            seq = raise_alarm(journal, raised)
            raised += 1
            print("RAISED %d" % seq, flush=True)
            last = t
        dl.poll(now_ms())
        if raised >= o.alarms and not journal.pending_count():
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
