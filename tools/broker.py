"""An MQTT broker on free 127.0.0.1 ports, for the tests, the simulator and the bench.

    b = launch()              # mosquitto when installed, else amqtt inside this process
    b = launch("amqtt")       # force one (MIMAMORI_BROKER=amqtt|mosquitto does the same)
    b = launch(secure=True)   # mosquitto with the shipped deployment config (SiteBroker below)
    b.host, b.port, b.kind    # where the firmware and the receiver connect
    b.stop(); b.start()       # a broker outage and its return, on the same port
    b.close()                 # stopped, temporary files removed

Two kinds of mosquitto:
- Mosquitto: a lab broker, anonymous (or with plain users): for tests of link behaviour where
  access control is not the subject, and for the bench.
- SiteBroker: deploy/mosquitto/mosquitto.conf and deploy/mosquitto/acl exactly as shipped for a
  real deployment (password file, per-site ACLs, client id bound to the user name, anonymous
  refused, a TLS listener), only with paths and ports rewritten. A throwaway CA and server
  certificate are made with openssl for its TLS listener. b.login(user) gives the credentials
  of one of its users (site ids, centre, centre-cmd, ha-<site>); b.add_site() adds a controller.

mosquitto runs as a child process with its config in a temp dir (no root, no system service).
amqtt is pure Python and needs no Debian package: a child process of this Python
(requirements-dev.txt installs it). amqtt accepts anonymous clients and enforces NO access
control (its ACL plugin has no per-site patterns and no client-id binding): launch(secure=True)
with amqtt gives an open broker and says so (b.secure is False). Use mosquitto for anything
that matters.
"""
import logging
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPLOY = os.path.join(ROOT, "deploy", "mosquitto")
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
    secure = False

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

    def login(self, user):
        """(user, password): the lab broker's users, or anonymous (None) when it has none."""
        if not self.users:
            return None, None
        return user, self.users[user]

    def add_site(self, site, password=None):
        return self.login(site) if self.users else (None, None)

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


def make_ca(folder, name="mimamori test CA"):
    """A throwaway CA (EC P-256, 2 days): (cert PEM path, key path)."""
    key = os.path.join(folder, name.replace(" ", "_") + ".key")
    crt = os.path.join(folder, name.replace(" ", "_") + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", "/CN=" + name,
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                   check=True, capture_output=True)
    return crt, key


def make_server_cert(folder, ca, names=("127.0.0.1", "localhost")):
    """A server certificate signed by ca (from make_ca) for the given IPs and DNS names:
    (cert path, key path)."""
    key = os.path.join(folder, "server.key")
    csr = os.path.join(folder, "server.csr")
    crt = os.path.join(folder, "server.crt")
    ext = os.path.join(folder, "server.ext")
    san = ",".join(("IP:" if n.replace(".", "").isdigit() else "DNS:") + n for n in names)
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n" % san)
    subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + names[0]],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
                    "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext],
                   check=True, capture_output=True)
    return crt, key


def ha_acl_block(site, prefix="mimamori/v1"):
    """The acl lines for a house's Home Assistant user (the ha-sample-house block, per site)."""
    return "\n".join([
        "user ha-%s" % site,
        "topic write %s/%s/ha/cmd" % (prefix, site),
        "topic read %s/%s/state" % (prefix, site),
        "topic read %s/%s/status" % (prefix, site),
        "topic read homeassistant/alarm_control_panel/%s/config" % site,
        "topic read homeassistant/binary_sensor/%s/+/config" % site]) + "\n"


def mqtt_login(host, port, user, password, timeout=2.0):
    """One MQTT 3.1.1 CONNECT with these credentials: the CONNACK return code (0 = accepted,
    5 = not authorised), or None when the broker closed without one."""
    body = bytearray(b"\x00\x04MQTT\x04\xc2\x00\x0a")
    for field in ("probe-%d" % os.getpid(), user, password):
        raw = field.encode()
        body += struct.pack("!H", len(raw)) + raw
    with socket.create_connection((host, port), timeout) as s:
        s.sendall(bytes([0x10, len(body)]) + body)
        got = b""
        while len(got) < 4:
            chunk = s.recv(4 - len(got))
            if not chunk:
                return None
            got += chunk
        s.sendall(b"\xe0\x00")
    return got[3]


class SiteBroker(Mosquitto):
    """mosquitto with the shipped deployment config (deploy/mosquitto): see the module doc."""
    secure = True

    def __init__(self, port=None, sites=None, ha_sites=(), centres=("centre", "centre-cmd"),
                 passwords=None):
        """sites: {site id: broker password (None: a random one)}; ha_sites: houses with a
        Home Assistant user (ha-<site>); centres: receiver users (besides the shipped ones,
        each gets the shipped `centre` block); passwords: {user: password} for those (else
        random)."""
        self.host = "127.0.0.1"
        self.port = port or free_port()          # the loopback listener (the centre's)
        self.tls_port = free_port()              # the TLS listener (the controllers')
        self.dir = tempfile.mkdtemp(prefix="mimamori-mosq-")
        self.proc = None
        self.logins = {}
        self.ca_file, ca_key = make_ca(self.dir)
        make_server_cert(self.dir, (self.ca_file, ca_key))
        self.passwd = os.path.join(self.dir, "passwd")
        open(self.passwd, "w").close()
        with open(os.path.join(DEPLOY, "acl")) as f:
            acl = f.read()
        shipped_centre = acl[acl.index("user centre\n"):acl.index("\n\n", acl.index("user centre\n"))]
        for u in centres:
            if "\nuser %s\n" % u not in "\n" + acl:
                acl += "\n" + shipped_centre.replace("user centre\n", "user %s\n" % u) + "\n"
        for site in ha_sites:
            acl += "\n" + ha_acl_block(site)
        with open(os.path.join(self.dir, "acl"), "w") as f:
            f.write(acl)
        for u in tuple(centres) + tuple("ha-" + s for s in ha_sites):
            self._user(u, (passwords or {}).get(u))
        for site, pw in (sites or {}).items():
            self._user(site, pw)
        conf = []
        with open(os.path.join(DEPLOY, "mosquitto.conf")) as f:
            for line in f:
                line = line.rstrip("\n").replace("/etc/mosquitto/mimamori", self.dir)
                if line == "listener 8883":
                    line = "listener %d %s" % (self.tls_port, self.host)
                elif line == "listener 1883 127.0.0.1":
                    line = "listener %d %s" % (self.port, self.host)
                conf.append(line)
        conf += ["persistence false", "log_dest file %s/mosquitto.log" % self.dir,
                 "log_type error", "log_type warning", "log_type notice"]
        if os.getuid() == 0:
            conf.append("user root")   # else it drops to 'mosquitto', locked out of our temp dir
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")

    def _user(self, user, password):
        password = password or secrets.token_hex(12)
        subprocess.run(["mosquitto_passwd", "-b", self.passwd, user, password], check=True,
                       capture_output=True)
        self.logins[user] = password
        return user, password

    def login(self, user):
        """(user name, password) of a user of this broker."""
        return user, self.logins[user]

    def add_site(self, site, password=None, timeout=5.0):
        """A controller login (user name = site id), usable once this returns."""
        user, password = self._user(site, password)
        if self.running:
            self.proc.send_signal(signal.SIGHUP)     # mosquitto re-reads passwd and acl
            end = time.monotonic() + timeout
            while mqtt_login(self.host, self.port, user, password) != 0:
                if time.monotonic() > end:
                    raise RuntimeError("mosquitto did not take the new user %s" % user)
                time.sleep(0.02)
        return user, password


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

    def __init__(self, port=None, **_ignored):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="mimamori-amqtt-")
        self.proc = None

    def login(self, user):
        return user, "amqtt-does-not-check"

    def add_site(self, site, password=None):
        return site, password

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


def launch(kind=None, port=None, secure=False, **kw):
    """Start a broker and return it (see the module docstring). secure: the shipped deployment
    config (SiteBroker; kw: sites, ha_sites, centres) when the broker is mosquitto."""
    if choose(kind) == "mosquitto":
        b = SiteBroker(port, **kw) if secure else Mosquitto(port)
    else:
        b = Amqtt(port)
    try:
        return b.start()
    except Exception:
        b.close()
        raise


if __name__ == "__main__":
    # A broker for a manual session: python tools/broker.py [mosquitto|amqtt] [--site ID ...]
    # With --site: the shipped deployment config (logins printed), else an anonymous lab broker.
    if sys.argv[1:2] == ["--serve-amqtt"]:
        serve_amqtt("127.0.0.1", int(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    args = sys.argv[1:]
    kind = args.pop(0) if args and not args[0].startswith("--") else None
    sites = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--site"]
    b = launch(kind, secure=bool(sites), sites={s: None for s in sites}, ha_sites=sites)
    if b.secure:
        print("mosquitto (deploy/mosquitto config) on %s: %d, TLS %d (CA %s)" % (
            b.host, b.port, b.tls_port, b.ca_file))
        for user, password in sorted(b.logins.items()):
            print("  user %-20s password %s" % (user, password))
    else:
        print("%s listening on %s:%d (anonymous lab broker: deploy/mosquitto is the real "
              "configuration; --site ID runs it)" % (b.kind, b.host, b.port))
    print("Ctrl-C stops it", flush=True)
    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        b.close()
