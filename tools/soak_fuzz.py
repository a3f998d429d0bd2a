"""Command and ack fuzz: hostile MQTT messages on the site's cmd and ack topics while the real
App on the virtual board (the simulator's site: a real mosquitto with the shipped deployment
config, the receiver) runs its loop. The broker only lets the centre's users write there, so the
fuzz publishes as them: as `centre-cmd` on cmd, as a second centre receiver (the shipped
`centre` ACL block) on ack - a centre gone rogue, or a resident who read the site key from the
panel and finds a way onto the broker. A stranger (another site's login) publishes valid signed
commands and acks on the site's topics too: none may arrive. The event-topic share goes to the
centre as another site's reports (its own login and key, registered at the centre): a bad frame
from one site must not jam the centre for the others. Invariants: no step raises; no step stalls (more than
STALL_MS of the loop's own time); no command escapes the command handler unanswered; the
session is not dropped for them; afterwards a real 異常 is still delivered and acknowledged,
and a real signed command is still answered.

    figures, failures = run(messages=20000, seed=1)

The messages (seeded, reproducible): random bytes; valid frames (a signed command, a signed
ack) with a few bytes flipped, inserted or deleted; oversize (past the controller's 4 KB packet
limit, under the broker's max_packet_size of 8 KB, which refuses larger ones itself); deep
nesting; and validly signed oddities made with the sample site's key (which any resident can
read from the panel's flash): huge, negative and wrongly typed counters, times and seqs, lone
surrogates, long strings, unknown commands and arguments.
"""
import os
import random
import re
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import hostpath  # noqa: E402,F401
import broker as broker_mod  # noqa: E402

from mimamori.proto import frame as F  # noqa: E402
from mimamori.log import Logger  # noqa: E402
from mimamori.core import commands as C  # noqa: E402
from mimamori.core import sealing as S  # noqa: E402

STALL_MS = 100
# The broker's max_packet_size (deploy/mosquitto) is 8192 bytes: it disconnects a client that
# sends more, so nothing larger reaches anyone. Payloads over this (the packet's header and
# topic take the rest) are drawn again; the controller's own limit (4 KB) is what is fuzzed.
BROKER_PAYLOAD_MAX = 8100
PANIC = 12
# Huge values are far past any sane bound (a fix may bound counters at 2**63 or 20 digits).
ODD_INTS = [0, -1, -2**31, 2**31, 2**32 + 1, 10**30, 10**300, int("9" * 3800)]
ODD_VALUES = ODD_INTS + [True, False, None, "1", "", "\ud800", "x" * 5000, [], [1, 2], {},
                         {"a": {"b": {"c": []}}}, 1.5, -0.0, float("nan")]
NAMES = list(C.COMMANDS) + ["", "reboot", "ARM", "arm\u0000", "\ud800", "x" * 300]
ARGS = [{}, {"mode": "away"}, {"mode": "nowhere"}, {"mode": ["away"]}, {"time": "25:99"},
        {"time": "07:3"}, {"card": -5}, {"card": 10**40}, {"message": "x" * 5000},
        {"message": "\ud800"}, {"a": 1, "b": 2}, [], "away", None, {"mode": {"deep": [[]]}}]


def _signed(key, d):
    """A frame signed with the key when it can be; else the JSON with a mac that looks right
    (the controller still has to get through parsing and checking it)."""
    try:
        return F.sign(key, dict(d))
    except (F.FrameError, UnicodeError, ValueError, TypeError):
        import json
        d = dict(d)
        d["mac"] = "0" * 64
        return json.dumps(d, ensure_ascii=True, allow_nan=True).encode()


class Generator:
    def __init__(self, key, site, seed, now_unix):
        self.key = key
        self.site = site
        self.rnd = random.Random(seed)
        self.now_unix = now_unix      # f() -> the controller's wall clock (fresh timestamps)
        self.ctr = 10 ** 6
        self.over_broker = 0

    def _mutate(self, b):
        b = bytearray(b)
        r = self.rnd
        for _ in range(r.randint(1, 6)):
            op = r.randrange(4)
            i = r.randrange(len(b) + 1)
            if op == 0 and i < len(b):
                b[i] ^= r.randrange(1, 256)
            elif op == 1:
                b[i:i] = bytes([r.randrange(256)])
            elif op == 2 and i < len(b):
                del b[i]
            else:
                j = r.randrange(len(b) + 1)
                b[i:i] = b[min(i, j):max(i, j)][:64]
        return bytes(b)

    def next_ctr(self):
        """A fresh command counter: the command's time in ms (ctr // 1000 is its ts)."""
        self.ctr = max(self.ctr + 1, self.now_unix() * 1000)
        return self.ctr

    def ref(self):
        return "%032x" % self.rnd.getrandbits(128)   # never a real report's (a SHA-256 prefix)

    def valid_cmd(self):
        ctr = self.next_ctr()
        return C.command_frame(self.key, self.site, ctr, ctr // 1000, "status")

    def valid_ack(self):
        return F.ack_frame(self.key, self.site, self.rnd.randint(1, 50), self.ref(),
                           self.now_unix())

    def nesting(self):
        # within the broker's max_packet_size (8 KB): deeper ones never reach anyone
        n = self.rnd.choice([64, 500, 1300, 2000, 4000])
        if self.rnd.random() < 0.5:
            return b"[" * n + b"]" * n
        n = min(n, 1300)
        return b'{"a":' * n + b"1" + b"}" * n

    def oversize(self):
        n = self.rnd.choice([4097, 5000, 6500, 8000])
        pad = b"x" * n
        return b'{"v":1,"site":"' + self.site.encode() + b'","pad":"' + pad + b'"}'

    def odd_cmd(self):
        r = self.rnd
        ctr = self.next_ctr()
        d = {"v": 1, "site": self.site, "ctr": ctr, "ts": ctr // 1000,
             "cmd": r.choice(NAMES), "args": r.choice(ARGS)}
        for field in r.sample(["v", "site", "ctr", "ts", "cmd", "args", "code", "sealed_code"],
                              r.randint(1, 2)):
            d[field] = r.choice(ODD_VALUES)
        if r.random() < 0.15:
            d["code"] = r.choice(["1234", "0000", "", "1" * 5000, "\ud800", 1234])
        if r.random() < 0.2:
            d["sealed_code"] = r.choice(["", "00" * 24, "zz", "0" * 5000, 12, "\ud800",
                                         S.seal_code(self.key, self.site, ctr, "1234",
                                                     bytes(S.NONCE_BYTES))])
        return _signed(self.key, d)

    def odd_ack(self):
        r = self.rnd
        # never the seq of a report that could be pending: an oddity, not a forged ack
        d = {"type": r.choice(["ack", "ack", "result", "ACK", None]), "v": 1,
             "site": self.site, "seq": r.choice([0, -1, 10**9, 2**64, 10**40, "5", 1.5, None, [],
                                                 True, r.randint(1, 50)]),
             "ref": r.choice([self.ref(), self.ref(), "", "0" * 31, "G" * 32, None, 5, []])}
        d["t"] = r.choice(ODD_INTS + [None, "x", 1.5, True, -5])
        if r.random() < 0.3:
            d[r.choice(["v", "site", "type", "ref"])] = r.choice(ODD_VALUES)
        return _signed(self.key, d)

    def valid_event(self):
        from mimamori.core import events as E
        e = E.Event(0, E.ALARM, E.CID_PANIC, E.Q_NEW, 12, 0, "非常ボタン", "away")
        e.seq = self.rnd.randint(10**9, 2 * 10**9)    # never one the controller will use
        e.wall = "2026-12-01T09:00:00+09:00"
        return F.event_frame(self.key, self.site, e, 5, epoch="%08x" % self.rnd.getrandbits(32))

    def odd_event(self):
        r = self.rnd
        d = F.parse(self.valid_event())
        d.pop("mac", None)
        for field in r.sample(["seq", "kind", "service", "zone", "zone_name", "base", "ts",
                               "urgent", "v", "site", "label", "cid", "mode", "user", "up", "epoch",
                               "path"],
                              r.randint(1, 3)):
            d[field] = r.choice(ODD_VALUES)
        if isinstance(d.get("seq"), int) and not isinstance(d["seq"], bool) and \
                0 < d["seq"] < 10**9:
            d["seq"] = 10**9 + d["seq"]     # an oddity, never a seq the controller will use
        return _signed(self.key, d)

    def fitting(self, draw):
        """draw() again until the payload fits the broker's packet limit (over_broker counts
        the ones drawn again)."""
        while True:
            got = draw()
            if len(got[1]) <= BROKER_PAYLOAD_MAX:
                return got
            self.over_broker += 1

    def next_event(self):
        """A hostile report on the event topic, for the centre's receiver."""
        return self.fitting(self._next_event)

    def _next_event(self):
        r = self.rnd
        k = r.random()
        if k < 0.2:
            return "event", bytes(r.randrange(256) for _ in range(r.randint(0, 400))), "random"
        if k < 0.5:
            return "event", self._mutate(self.valid_event()), "mutated"
        if k < 0.55:
            return "event", self.oversize(), "oversize"
        if k < 0.6:
            return "event", self.nesting(), "nesting"
        return "event", self.odd_event(), "signed"

    def next(self):
        """(topic name 'cmd' or 'ack', payload bytes, kind)."""
        return self.fitting(self._next)

    def _next(self):
        r = self.rnd
        topic = "cmd" if r.random() < 0.6 else "ack"
        k = r.random()
        if k < 0.25:
            return topic, bytes(r.randrange(256) for _ in range(r.randint(0, 400))), "random"
        if k < 0.55:
            base = {"cmd": self.valid_cmd, "ack": self.valid_ack,
                    "event": self.valid_event}[topic]()
            return topic, self._mutate(base), "mutated"
        if k < 0.58:
            return topic, self.oversize(), "oversize"
        if k < 0.63:
            return topic, self.nesting(), "nesting"
        return topic, {"cmd": self.odd_cmd, "ack": self.odd_ack,
                       "event": self.odd_event}[topic](), "signed"


FUZZ_SITE = "fuzz-house"      # another house registered at the centre: the event share's sender


def _grant(broker, user, like="centre"):
    """A new login on the running broker with the ACL block of an existing user (mosquitto
    re-reads its password and ACL files on SIGHUP): (user, password)."""
    path = os.path.join(broker.dir, "acl")
    with open(path) as f:
        acl = f.read()
    i = acl.index("user %s\n" % like)
    block = acl[i:acl.find("\n\n", i) if acl.find("\n\n", i) > 0 else len(acl)]
    with open(path, "a") as f:
        f.write("\n\n" + block.replace("user %s\n" % like, "user %s\n" % user, 1) + "\n")
    return broker.add_site(user)


def _client(paho, host, port, login, name, on_message=None, subscribe=None):
    """A paho client logged in as `login` (user, password) or anonymous (None)."""
    connected = threading.Event()
    c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=name)
    if login and login[0]:
        c.username_pw_set(*login)

    def on_connect(cl, u, f, rc, p=None):
        if not rc.is_failure:
            if subscribe:
                cl.subscribe(subscribe, 1)
            connected.set()

    c.on_connect = on_connect
    if on_message:
        c.on_message = on_message
    c.connect(host, port, 30)
    c.loop_start()
    if not connected.wait(10):
        c.loop_stop()
        raise RuntimeError("the fuzz's %s client could not log in to the broker" % name)
    return c


def _counter_saved(site, ago_s=300):
    """A controller that has run before: its command counter saved (a first boot without one
    refuses remote commands for the boot floor's 2 minutes, core/commands.py). A power cut, the
    counter written as the last accepted command left it, the boot."""
    from mimamori.store.journal import Journal
    b = site.board
    now = b.app.wall.unix()
    b.power_cut(1000)
    Journal(os.path.join(b.data_dir, "journal")).save_value("cmd_ctr", (now - ago_s) * 1000)
    b.reboot()


def run(messages=2000, seed=1, batch=50, settle_s=30.0, event_share=0.2, say=None,
        fuzzer_auth=None, strangers=200):
    """`messages` on the cmd and ack topics, and about event_share as many again on the event
    topic (for the centre's receiver). Returns (figures, failures)."""
    say = say or (lambda *_: None)
    import paho.mqtt.client as paho
    from simlib.site import Site
    import soak_flash
    failures = []
    site = Site(clock="virtual")
    errors = []
    stalls = []
    worst = {"wall": 0.0, "cpu": 0.0}
    got = {"n": 0}
    replies = []
    t0 = time.monotonic()

    def step():
        w = time.perf_counter()
        c = time.thread_time()
        try:
            site.board.step()
        except Exception as e:  # noqa: BLE001 - counted: the loop must never raise
            errors.append(repr(e)[:200])
        cpu = (time.thread_time() - c) * 1000
        wall = (time.perf_counter() - w) * 1000
        worst["wall"] = max(worst["wall"], wall)
        worst["cpu"] = max(worst["cpu"], cpu)
        # The loop's own time: preemption by the 2-core machine's other work shows as wall
        # time without CPU time; a blocking call shows as a long wall time at any CPU.
        if cpu > STALL_MS or (wall > STALL_MS and cpu > wall / 2) or wall > 10 * STALL_MS:
            stalls.append((round(wall, 1), round(cpu, 1)))
        soak_flash.release_due(site)
        site.drain()

    def settle(cond, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            step()
            time.sleep(0.001)
            if cond():
                return True
        return False

    clients = []
    try:
        if not settle(site.ready, 15):
            return {"seed": seed}, ["the controller never came up on the broker"]
        _counter_saved(site)
        if not settle(site.ready, 15) or not settle(
                lambda: site.app.journal.pending_count() == 0, 15):
            return {"seed": seed}, ["the controller never came up on the broker"]
        app = site.app
        link = app.link
        orig = link.on_message

        from_stranger = set()

        t_cmd = bytes(link.topic("cmd"))

        def counting(topic, payload):
            got["n"] += 1
            if bytes(topic) == t_cmd:
                got["cmd"] = got.get("cmd", 0) + 1
            if from_stranger and bytes(payload) in from_stranger:
                got["stranger"] = got.get("stranger", 0) + 1
            return orig(topic, payload)

        link.on_message = counting
        logs = []
        app.log = Logger.wrap(logs.append)   # the App's log: what escaped a handler
        app.delivery.log = logs.append
        app.commands.log = logs.append
        key = app.key
        gen = Generator(key, site.site_id, seed, lambda: app.wall.unix() or 0)
        prefix = "mimamori/v1/%s/" % site.site_id
        broker = site.path("mqtt").broker
        host, port = broker.host, broker.port
        # the event share: another house, its own key and login, registered at the centre
        key2 = os.urandom(32).hex()
        site.centre.add_site(FUZZ_SITE, key2)
        gen_ev = Generator(F.site_key(key2), FUZZ_SITE, seed + 1, lambda: app.wall.unix() or 0)
        if broker.secure:
            # the shipped config: only the centre's users may write on a site's cmd and ack
            cmd_login = broker.login("centre-cmd")
            ack_login = _grant(broker, "centre-2")
            ev_login = broker.add_site(FUZZ_SITE)
        else:
            # a lab broker (amqtt, anonymous): everyone writes everywhere
            cmd_login = ack_login = ev_login = fuzzer_auth or (
                os.environ.get("SOAK_FUZZ_USER"), os.environ.get("SOAK_FUZZ_PASSWORD"))
        # replies come on the ack topic, which centre-cmd may read
        fz = _client(paho, host, port, cmd_login, "soak-fuzz-cmd",
                     lambda c, u, m: replies.append(m.payload), prefix + "ack")
        clients.append(fz)
        fz_ack = _client(paho, host, port, ack_login, "soak-fuzz-ack")
        clients.append(fz_ack)
        fz_ev = _client(paho, host, port, ev_login, "soak-fuzz-ev")
        clients.append(fz_ev)
        by_topic = {"cmd": fz, "ack": fz_ack}
        sent_acks = set()
        ev_prefix = "mimamori/v1/%s/" % FUZZ_SITE
        drops0 = link.drops
        drop_reasons = []
        kinds = {}
        sent = 0
        deliverable = 0
        events_sent = 0
        ev_out = []
        ev_kinds = {}
        while sent < messages:
            # the session is up (after a drop: redialled) and subscribed before a batch
            settle(lambda: link.connected, 20)
            for _ in range(20):
                step()
                time.sleep(0.001)
            out = []
            for _ in range(min(batch, messages - sent)):
                topic, payload, kind = gen.next()
                kinds[kind] = kinds.get(kind, 0) + 1
                out.append((len(payload), topic, payload))
                if gen.rnd.random() < event_share:
                    ev_out.append(gen_ev.next_event())
            # small first: a packet the link refuses comes after the others of its batch
            out.sort(key=lambda x: x[0])
            infos = [by_topic[topic].publish(prefix + topic, payload, qos=1)
                     for _, topic, payload in out]
            sent_acks.update(payload for _, topic, payload in out if topic == "ack")
            for topic, payload, kind in ev_out:
                ev_kinds[kind] = ev_kinds.get(kind, 0) + 1
                infos.append(fz_ev.publish(ev_prefix + topic, payload, qos=1))
            events_sent += len(ev_out)
            del ev_out[:]
            sent += len(out)
            deliverable += sum(1 for n, _, _ in out if n < 4000)
            for i in infos:
                i.wait_for_publish(10)
            # let the loop read them, bounded: until no more arrive for a moment
            end = time.monotonic() + 3.0
            last_n, last_t = got["n"], time.monotonic()
            while got["n"] < deliverable and time.monotonic() < end:
                d = link.drops
                step()
                if link.drops != d:
                    drop_reasons.append(link.last_error)
                if got["n"] != last_n:
                    last_n, last_t = got["n"], time.monotonic()
                elif time.monotonic() - last_t > 0.3:
                    break
            deliverable = max(got["n"], 0) if got["n"] < deliverable else deliverable
            if sent % 2000 < batch:
                say("  fuzz %d/%d sent, %d reached the loop" % (sent, messages, got["n"]))
        fuzz_s = time.monotonic() - t0
        drops = link.drops - drops0
        escaped = [ln for ln in logs if "handler failed" in ln or "Error(" in ln
                   or "error:" in ln.lower()]
        esc_kinds = {}
        for ln in escaped:
            m = re.search(r"(\w+Error)\(", ln)
            k = "%s %s" % ("cmd" if "command" in ln else "ack", m.group(1) if m else ln[:40])
            esc_kinds[k] = esc_kinds.get(k, 0) + 1
        # every command that reached the controller got exactly one reply (ok or refused)
        settle(lambda: False, 1.0)
        results = {}
        for p_ in replies:
            if p_ in sent_acks:
                continue                 # the fuzz's own messages on the ack topic
            try:
                d_ = F.parse(p_)
            except F.FrameError:
                continue
            if d_.get("type") == "result":
                results[d_.get("reason")] = results.get(d_.get("reason"), 0) + 1
        cmd_reached = got.get("cmd", 0)
        cmd_replies = sum(results.values())
        fallback = [ln for ln in logs if re.search(r"rejected: malformed \(\w+\)", ln)]
        # ---- a stranger: another site's login, valid signed commands and acks ------------
        stranger = {"sent": 0, "arrived": 0, "replies": 0, "wrong_password": None}
        if broker.secure and strangers:
            ctrs = set()
            for i in range(strangers):
                if i % 2 == 0:
                    ctr = gen.next_ctr()
                    ctrs.add(ctr)
                    topic = "cmd"
                    p_ = C.command_frame(key, site.site_id, ctr, ctr // 1000, "status")
                else:
                    topic = "ack"
                    p_ = gen.valid_ack()
                from_stranger.add(p_)
                fz_ev.publish(prefix + topic, p_, qos=1).wait_for_publish(10)
                stranger["sent"] += 1
            settle(lambda: False, 2.0)
            stranger["arrived"] = got.get("stranger", 0)
            for p_ in list(replies):
                try:
                    if F.parse(p_).get("ctr") in ctrs:
                        stranger["replies"] += 1
                except F.FrameError:
                    pass
            # and a wrong password is refused (5: not authorised)
            stranger["wrong_password"] = broker_mod.mqtt_login(host, port, "centre-cmd", "x")
        # ---- afterwards: a real 異常, a real command -------------------------------------
        first = app.journal.next_seq
        site.press(PANIC, 200)
        settle(lambda: app.journal.next_seq > first, 5)
        alarm_seqs = [s for s in range(first, app.journal.next_seq)
                      if (app.journal.get(s) or (None,))[0] is not None and
                      app.journal.get(s)[0].kind == "alarm"]
        rx = site.path("mqtt").rx
        delivered = bool(alarm_seqs) and settle(
            lambda: app.journal.pending_count() == 0 and all(
                (site.site_id, s) in rx.shown for s in alarm_seqs), settle_s)
        rx_errors = [e[2] for e in site.timeline if e[1] == "センター" and
                     str(e[2]).startswith("receiver: error")]
        rx_kinds = {}
        for ln in rx_errors:
            m = re.search(r"/(\w+): (\w+)\(", ln)
            k = "%s %s" % (m.group(1), m.group(2)) if m else ln[:40]
            rx_kinds[k] = rx_kinds.get(k, 0) + 1
        try:
            db_bytes = os.path.getsize(os.path.join(site.tmp, "centre.db")) + os.path.getsize(
                os.path.join(site.tmp, "centre.db-wal"))
        except OSError:
            db_bytes = -1
        ctr = gen.next_ctr()
        del replies[:]
        fz.publish(prefix + "cmd", C.command_frame(key, site.site_id, ctr, ctr // 1000,
                                                   "status"), qos=1)

        def answered():
            for p in replies:
                try:
                    d = F.parse(p)
                except F.FrameError:
                    continue
                if d.get("type") == "result" and d.get("ctr") == ctr:
                    return d
            return None

        settle(lambda: answered() is not None, 10)
        ans = answered()
        figures = {
            "seed": seed, "messages": sent, "reached_loop": got["n"],
            "kinds": ", ".join("%s %d" % kv for kv in sorted(kinds.items())),
            "event_messages": events_sent,
            "event_kinds": ", ".join("%s %d" % kv for kv in sorted(ev_kinds.items())),
            "receiver_errors": len(rx_errors),
            "receiver_error_kinds": ", ".join("%s %d" % kv for kv in sorted(rx_kinds.items())),
            "centre_db_bytes": db_bytes,
            "step_errors": len(errors), "stalls": len(stalls),
            "max_step_wall_ms": round(worst["wall"], 1), "max_step_cpu_ms": round(worst["cpu"], 1),
            "escaped_handler": len(escaped),
            "cmd_reached": cmd_reached, "cmd_replies": cmd_replies,
            "reply_reasons": ", ".join("%s %d" % kv for kv in sorted(
                results.items(), key=lambda kv: -kv[1])),
            # refused `malformed` by the handler's catch-all (an exception inside it, named)
            "refused_by_catch_all": len(fallback),
            "broker": "%s%s" % (broker.kind, " (deploy/mosquitto config)" if broker.secure
                                else " (anonymous lab broker)"),
            "redrawn_over_broker_limit": gen.over_broker + gen_ev.over_broker,
            "stranger_sent": stranger["sent"], "stranger_arrived": stranger["arrived"],
            "stranger_replies": stranger["replies"],
            "wrong_password_connack": stranger["wrong_password"],
            "escaped_kinds": ", ".join("%s %d" % kv for kv in sorted(esc_kinds.items())),
            "session_drops": drops,
            "alarm_after_delivered": int(bool(delivered)),
            "command_after": (ans or {}).get("reason", "no reply"),
            # the command counter the fuzz left (digits): a huge one freezes remote commands
            "cmd_counter_digits": len(str(getattr(app.commands, "last_ctr", ""))),
            "fuzz_seconds": round(fuzz_s, 1), "seconds": round(time.monotonic() - t0, 1)}
        if errors:
            failures.append("fuzz: %d steps raised, first: %s" % (len(errors), errors[0]))
        if stalls:
            failures.append("fuzz: %d steps stalled over %d ms (wall, cpu ms): %s" % (
                len(stalls), STALL_MS, stalls[:5]))
        if escaped:
            failures.append("fuzz: %d messages escaped their handler (no reply, no clear "
                            "reason: %s), first: %s" % (len(escaped), figures["escaped_kinds"],
                                                        escaped[0][:300]))
        if drops:
            failures.append("fuzz: the MQTT session dropped %d times (reasons %s)" % (
                drops, sorted(set(str(r) for r in drop_reasons))))
        if rx_errors:
            failures.append("fuzz: the centre's receiver failed on %d frames (an exception, "
                            "not a refusal with a reason: %s), first: %s" % (
                                len(rx_errors), figures["receiver_error_kinds"],
                                rx_errors[0][:300]))
        if not delivered:
            failures.append("fuzz: a real 異常 afterwards was not delivered, acknowledged and "
                            "shown "
                            "within %d s (seqs %s, pending %d)" % (
                                settle_s, alarm_seqs, app.journal.pending_count()))
        if cmd_replies != cmd_reached:
            failures.append("fuzz: %d commands reached the controller, %d replies came back "
                            "(every command gets exactly one)" % (cmd_reached, cmd_replies))
        if stranger["arrived"] or stranger["replies"]:
            failures.append("fuzz: %d of %d messages a stranger (another site's login) published "
                            "on the site's cmd/ack topics reached the controller (%d answered)"
                            % (stranger["arrived"], stranger["sent"], stranger["replies"]))
        if broker.secure and stranger["wrong_password"] == 0:
            failures.append("fuzz: the broker accepted a login with a wrong password")
        if ans is None or not ans.get("ok"):
            failures.append("fuzz: a real signed status command afterwards got %s" % (
                ans and ans.get("reason") or "no reply"))
    finally:
        for c in clients:
            c.loop_stop()
            c.disconnect()
        site.close()
    if failures:
        failures.append("seed %d" % seed)
    return figures, failures
