# A real mosquitto broker for the tests: its own config, on a free loopback port, with per-site
# users (mosquitto_passwd) when asked. stop()/start() keep the port, so a test can take the
# broker away for a while and bring it back. Also puts lib/ (the fetched umqtt.simple) on the
# path, as the firmware image freezes it on a board.
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.join(ROOT, "lib")
if LIB not in sys.path:
    sys.path.insert(0, LIB)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, users=None):
        self.host = "127.0.0.1"
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="mosq-")
        self.users = users or {}
        self.proc = None
        conf = ["listener %d 127.0.0.1" % self.port, "persistence false", "set_tcp_nodelay true",
                "log_dest file %s/mosquitto.log" % self.dir, "log_type error",
                "log_type warning", "log_type notice", "max_queued_messages 10000"]
        if os.getuid() == 0:
            conf.append("user root")   # else mosquitto drops to 'mosquitto', locked out of dir
        if self.users:
            pw = os.path.join(self.dir, "passwd")
            open(pw, "w").close()
            for u, p in self.users.items():
                subprocess.run(["mosquitto_passwd", "-b", pw, u, p], check=True,
                               capture_output=True)
            conf += ["allow_anonymous false", "password_file %s" % pw]
        else:
            conf += ["allow_anonymous true"]
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")

    def start(self, timeout=10):
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        end = time.time() + timeout
        while time.time() < end:
            try:
                socket.create_connection((self.host, self.port), 0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("mosquitto exited: %s" % self.log())
                time.sleep(0.02)
        raise RuntimeError("mosquitto did not listen on %d" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log(self):
        try:
            with open(os.path.join(self.dir, "mosquitto.log")) as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


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
