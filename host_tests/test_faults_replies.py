# Every command gets exactly one reply, also in a flood (issue 9.12). The soak's fuzz found it:
# commands arrive faster than the link's send queue (4 KB) drains - a 16 KB read per step is
# dozens of commands - and a reply that found the queue full was dropped: the centre never
# learnt the command was refused. Replies that find no room wait (bounded) and go out first in
# the next polls, in order. A link double with a queue of `room` messages.
import os

from mimamori.comms import delivery as D
from mimamori.proto import frame as F
from mimamori.store.journal import Journal

RUNS_ON_MICROPYTHON = True

KEY = F.site_key("00112233445566778899aabbccddeeff" * 2)
SITE = "site-001"
_n = [0]


def _tmpdir():
    try:
        import tempfile
        return tempfile.mkdtemp()
    except ImportError:
        _n[0] += 1
        d = "/fr%d" % _n[0]
        os.mkdir(d)
        return d


class _Link:
    def __init__(self, room):
        self.connected = True
        self.room = room
        self.replies = []        # payloads published on the ack topic, in order
        self.on_message = None
        self.on_up = None

    def topic(self, name):
        return b"mimamori/v1/site-001/" + name.encode()

    def poll(self, now):
        pass

    def can_publish(self, nbytes):
        return self.connected and self.room > 0

    def publish(self, topic, payload, retain=False, qos=0):
        if not self.can_publish(len(payload)):
            return False
        self.room -= 1
        if topic.endswith(b"/ack"):
            self.replies.append(payload)
        return True


def _flood(n, room):
    link = _Link(room)
    logs = []
    d = D.Delivery(Journal(_tmpdir()), link, KEY, SITE,
                   on_command=lambda p, now: b"reply to " + bytes(p), log=logs.append)
    for i in range(n):
        link.on_message(link.topic("cmd"), ("cmd %d" % i).encode())
    return link, d, logs


def test_a_flood_of_commands_gets_every_reply_once_the_queue_has_room():
    link, d, _ = _flood(20, 3)
    assert len(link.replies) == 3          # the queue took three
    link.room = 1000                       # the socket drained it
    for t in range(5):
        d.poll(t * 10)
    assert link.replies == [("reply to cmd %d" % i).encode() for i in range(20)]


def test_replies_wait_while_the_link_is_down_and_go_when_it_is_up():
    link, d, _ = _flood(4, 0)
    link.connected = False
    d.poll(0)
    assert link.replies == []
    link.connected = True
    link.room = 1000
    d.poll(10)
    assert link.replies == [("reply to cmd %d" % i).encode() for i in range(4)]


def test_past_the_bound_a_reply_is_dropped_counted_and_logged_never_raises():
    n = D.REPLIES_MAX + 5
    link, d, logs = _flood(n, 0)
    assert d.replies_dropped == 5
    assert any("reply" in ln and "dropped" in ln for ln in logs)
    link.room = 1000
    d.poll(0)
    assert len(link.replies) == D.REPLIES_MAX
