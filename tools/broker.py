"""An MQTT broker on a free 127.0.0.1 port, for the simulator and the bench.

    b = launch()              # mosquitto when installed, else amqtt inside this process
    b = launch("amqtt")       # force one (MIMAMORI_BROKER=amqtt|mosquitto does the same)
    b.host, b.port, b.kind    # where the firmware and the receiver connect
    b.stop(); b.start()       # a broker outage and its return, on the same port
    b.close()                 # stopped, temporary files removed

mosquitto runs as a child process with its own config in a temp dir (no root, no system
service). amqtt is pure Python and needs no Debian package: a child process of this Python
(requirements-dev.txt installs it). Both accept anonymous clients; the firmware's credentials
are ignored.
"""
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ENV = "MIMAMORI_BROKER"
KINDS = ("mosquitto", "amqtt")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(host, port, timeout, alive):
    """Until the port accepts a TCP connection; alive() False means the broker died."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection((host, port), 0.2).close()
            return
        except OSError:
            if not alive():
                raise RuntimeError("broker exited before listening on %d" % port)
            time.sleep(0.02)
    raise RuntimeError("broker did not listen on %d within %.0f s" % (port, timeout))


class Mosquitto:
    kind = "mosquitto"

    def __init__(self, port=None, users=None):
        """users: {name: password} - then anonymous clients are refused (per-site credentials)."""
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="mimamori-mosq-")
        self.proc = None
        self.users = users or {}
        conf = ["listener %d %s" % (self.port, self.host),
                "persistence false", "set_tcp_nodelay true",
                "log_dest file %s/mosquitto.log" % self.dir,
                "log_type error", "log_type warning", "log_type notice",
                "max_queued_messages 10000"]
        if os.getuid() == 0:
            conf.append("user root")   # else it drops to 'mosquitto', locked out of our temp dir
        if self.users:
            pw = os.path.join(self.dir, "passwd")
            open(pw, "w").close()
            for u, p in self.users.items():
                subprocess.run(["mosquitto_passwd", "-b", pw, u, p], check=True,
                               capture_output=True)
            conf += ["allow_anonymous false", "password_file %s" % pw]
        else:
            conf.append("allow_anonymous true")
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")

    def start(self, timeout=10):
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        try:
            _wait_listening(self.host, self.port, timeout, lambda: self.proc.poll() is None)
        except RuntimeError as e:
            raise RuntimeError("%s; mosquitto log:\n%s" % (e, self.log()))
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(os.path.join(self.dir, "mosquitto.log")) as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _amqtt_broker_class():
    """amqtt's Broker, taught MQTT 5 shared subscriptions ($share/<group>/<filter>), which the
    receiver uses and amqtt (0.12) does not know: it would treat the filter as a literal topic
    and deliver nothing. With one subscriber per group (the simulator's case) a shared
    subscription is just its inner filter; several members of a group would each get a copy
    instead of splitting the load. _matches is amqtt's private matcher: the version is pinned in
    requirements-dev.txt and test_sim checks delivery through it end to end."""
    from amqtt.broker import Broker

    class SharedSubBroker(Broker):
        def _matches(self, topic, a_filter):
            if a_filter.startswith("$share/"):
                parts = a_filter.split("/", 2)
                if len(parts) == 3:
                    a_filter = parts[2]
            return super()._matches(topic, a_filter)

    return SharedSubBroker


def serve_amqtt(host, port, log_path):
    """The amqtt child process: serve until terminated."""
    import asyncio
    # amqtt logs every connection at INFO; warnings and errors go to a file, as mosquitto's do.
    logging.basicConfig(filename=log_path, level=logging.WARNING)
    config = {
        "listeners": {"default": {"type": "tcp", "bind": "%s:%d" % (host, port)}},
        # anonymous clients only: no $SYS publisher, no packet logger
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }

    async def serve():
        await _amqtt_broker_class()(config).start()
        await asyncio.Event().wait()

    asyncio.run(serve())


class Amqtt(Mosquitto):
    """amqtt in a child process of this Python (no Debian package, no root). Not in this
    process: amqtt 0.12.1's Broker.shutdown() sometimes hangs in its broadcast loop (seen in 2
    of 5 runs of the outage scenario), while a terminated process always closes every client
    socket at once, which is what an outage must look like to the controller and the centre."""
    kind = "amqtt"

    def __init__(self, port=None):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="mimamori-amqtt-")
        self.proc = None

    def start(self, timeout=20):
        log = os.path.join(self.dir, "amqtt.log")
        with open(log, "ab") as err:      # a crash at import shows up in the log too
            self.proc = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "--serve-amqtt", str(self.port), log],
                stdout=subprocess.DEVNULL, stderr=err)
        try:
            _wait_listening(self.host, self.port, timeout, lambda: self.proc.poll() is None)
        except RuntimeError as e:
            self.stop()
            raise RuntimeError("%s; amqtt log:\n%s" % (e, self.log()))
        return self

    def log(self):
        try:
            with open(os.path.join(self.dir, "amqtt.log")) as f:
                return f.read()
        except OSError:
            return ""


def choose(kind=None):
    """The broker kind to run: the one asked for (argument, then $MIMAMORI_BROKER), else
    mosquitto when it is on PATH, else amqtt."""
    kind = kind or os.environ.get(ENV) or None
    if kind is None:
        return "mosquitto" if shutil.which("mosquitto") else "amqtt"
    if kind not in KINDS:
        raise ValueError("unknown broker %r (one of %s)" % (kind, ", ".join(KINDS)))
    return kind


def launch(kind=None, port=None):
    """Start a broker and return it (see the module docstring)."""
    cls = Mosquitto if choose(kind) == "mosquitto" else Amqtt
    b = cls(port)
    try:
        return b.start()
    except Exception:
        b.close()
        raise


if __name__ == "__main__":     # a broker for a manual session: python tools/broker.py [kind]
    if sys.argv[1:2] == ["--serve-amqtt"]:
        serve_amqtt("127.0.0.1", int(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    b = launch(sys.argv[1] if len(sys.argv) > 1 else None)
    print("%s listening on %s:%d (Ctrl-C stops it)" % (b.kind, b.host, b.port), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        b.close()
