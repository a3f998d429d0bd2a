"""kill -9 at random points: the controller (the real App on the virtual board, in a child
process), the centre's receiver (tools/receiver.py run, a child process) and the broker (a real
mosquitto), while the controller raises 異常. Invariant: every event the controller journalled
is eventually shown at the centre exactly once - none lost, none shown twice, none only stored.

    figures, failures = run(controller_kills=20, receiver_kills=6, broker_kills=6, seed=1)

What the controller journalled is read from its own log ("event <seq> ...", printed right after
the append) and, after every kill of it, from its flash (a kill can fall between the append and
the log line). What the centre showed is the receiver's console ("... site=<id> seq=<n> ..."),
kept in one file across its restarts, as an operator's screen would show it.
"""
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import broker as broker_mod  # noqa: E402
import soak_site  # noqa: E402

PY = sys.executable


class Child:
    """A child process whose output goes (appended) to one file across restarts."""

    def __init__(self, name, argv, out_path, env=None):
        self.name = name
        self.argv = argv
        self.env = env          # extra environment (the receiver's broker password)
        self.out_path = out_path
        self.proc = None
        self.starts = 0
        self.kills = 0
        self.crashes = []       # (exit code, last lines) of exits nobody asked for

    def start(self):
        with open(self.out_path, "ab") as out:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT,
                                         cwd=soak_site.hostpath.ROOT,
                                         env=dict(os.environ, **(self.env or {})))
        self.starts += 1
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check(self):
        """Record an exit nobody asked for (a crash), and start it again."""
        if self.proc is not None and self.proc.poll() is not None:
            self.crashes.append((self.proc.returncode, self.tail()))
            self.start()

    def kill9(self):
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.kills += 1
        if self.proc is not None:
            self.proc.wait()
        self.proc = None

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
        self.proc = None

    def text(self):
        try:
            with open(self.out_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def tail(self, n=15):
        return "\n".join(self.text().splitlines()[-n:])


class BrokerChild:
    """mosquitto killed with SIGKILL and started again on the same port. By default the shipped
    deployment config (tools/broker.py SiteBroker: deploy/mosquitto's passwords, per-site ACLs,
    client id bound to the user): the controller logs in as its site, the receiver as the
    centre. users: {name: password}: a plain lab broker with those users instead."""

    def __init__(self, users=None, site=None, site_password=None):
        if users:
            self.b = broker_mod.Mosquitto(users=users)
        else:
            self.b = broker_mod.SiteBroker(sites={site: site_password})
        self.kills = 0
        self.crashes = []

    def start(self):
        self.b.start()
        return self

    def kill9(self):
        p = self.b.proc
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            self.kills += 1
        if p is not None:
            p.wait()
        self.b.proc = None

    def check(self):
        if self.b.proc is not None and self.b.proc.poll() is not None:
            self.crashes.append((self.b.proc.returncode, self.b.log()[-2000:]))
            self.b.proc = None
        if self.b.proc is None:
            self.b.start()

    def stop(self):
        self.b.close()


def _last_status(text):
    for line in reversed(text.splitlines()):
        if line.startswith("STATUS "):
            return dict(kv.split("=") for kv in line.split()[1:])
    return None


def run(controller_kills=20, receiver_kills=6, broker_kills=6, seed=1, gap_s=(0.1, 1.2),
        press_every_ms=400, settle_s=60.0, workdir=None, say=None, broker_users=None,
        rx_auth=None):
    """The campaign. Returns (figures dict, failures list of strings)."""
    say = say or (lambda *_: None)
    rnd = random.Random(seed)
    own_dir = workdir is None
    work = tempfile.mkdtemp(prefix="mimamori-soak-kill-") if own_dir else workdir
    site, key = soak_site.site_and_key()
    flash = os.path.join(work, "flash")
    go = os.path.join(work, "go")
    db = os.path.join(work, "centre.db")
    figures = {"seed": seed}
    failures = []
    journalled = {}
    conflicts = []
    kids = []
    t0 = time.monotonic()

    def note_flash():
        for seq, kc in soak_site.journalled(flash).items():
            old = journalled.get(seq)
            if old is not None and old[0] != kc[0]:
                conflicts.append((seq, old, kc))
            journalled[seq] = kc

    try:
        import receiver as R
        R.Store(db).add_site(site, key)
        brk = BrokerChild(broker_users, site, soak_site.mqtt_password()).start()
        kids.append(brk)
        port = brk.b.port
        open(go, "w").close()
        ctl = Child("controller", [PY, os.path.join(HERE, "soak_controller.py"), "--dir", flash,
                                   "--port", str(port), "--go", go,
                                   "--press-every-ms", str(press_every_ms)],
                    os.path.join(work, "controller.log"))
        cred = []
        rx_env = {}
        if rx_auth or os.environ.get("SOAK_RX_USER"):
            # A broker with ACLs: the receiver logs in as the centre (password: environment)
            u, pw = rx_auth or (os.environ["SOAK_RX_USER"], os.environ.get("SOAK_RX_PASSWORD"))
            cred = ["--user", u]
            rx_env["MIMAMORI_MQTT_PASSWORD"] = pw or ""
        elif brk.b.secure:
            cred = ["--user", "centre"]
            rx_env["MIMAMORI_MQTT_PASSWORD"] = brk.b.login("centre")[1]
        rx = Child("receiver", [PY, os.path.join(HERE, "receiver.py"), "--db", db, "--port",
                                str(port)] + cred + ["run", "--name", "soak-rx",
                                                     "--silent-every", "1e9"],
                   os.path.join(work, "receiver.log"), env=rx_env)
        kids += [ctl, rx]
        rx.start()
        ctl.start()
        victims = (["controller"] * controller_kills + ["receiver"] * receiver_kills +
                   ["broker"] * broker_kills)
        rnd.shuffle(victims)
        by_name = {"controller": ctl, "receiver": rx, "broker": brk}
        for i, v in enumerate(victims):
            time.sleep(rnd.uniform(*gap_s))
            for k in kids:
                k.check()
            by_name[v].kill9()
            if v == "controller":
                note_flash()
            time.sleep(rnd.uniform(0, 0.2))     # down for a moment, then back
            if v == "broker":
                brk.b.start()
            else:
                by_name[v].start()
            if (i + 1) % 100 == 0:
                say("  kills %d/%d  events journalled so far %d" % (i + 1, len(victims),
                                                                    len(journalled)))
        os.remove(go)                           # no more presses: let everything drain
        figures["kill_phase_s"] = round(time.monotonic() - t0, 1)
        end = time.monotonic() + settle_s
        stored_since = None
        while time.monotonic() < end:
            for k in kids:
                k.check()
            st = _last_status(ctl.text())
            known = dict(journalled)
            known.update(soak_site.events_in_log(ctl.text()))
            shown = set(soak_site.shown_in_console(rx.text(), site))
            if st is not None and st.get("pending") == "0" and set(known) <= shown:
                time.sleep(1.0)                 # a late duplicate would show now
                break
            stored = set(s for _, s, _, _, _ in R.Store(db).reports(site))
            if st is not None and st.get("pending") == "0" and set(known) <= stored:
                # Everything is acked and stored: what is not shown by now waits for the
                # receiver's ordering hold at most, then it is lost to the operator.
                stored_since = stored_since or time.monotonic()
                if time.monotonic() - stored_since > R.HOLD_S + 3:
                    break
            time.sleep(0.25)
        figures["settle_s"] = round(time.monotonic() - t0 - figures["kill_phase_s"], 1)
        st = _last_status(ctl.text()) or {}
        ctl.kill9()
        ctl.kills -= 1                          # the end of the run, not one of the kills
        note_flash()
        rx.stop()
    finally:
        for k in kids:
            try:
                k.stop()
            except Exception as e:  # noqa: BLE001 - the others must still be stopped
                failures.append("cleanup %r" % (e,))
    # ---- the invariant ------------------------------------------------------------------------
    logged = soak_site.events_in_log(ctl.text())
    for seq, kc in logged.items():
        old = journalled.get(seq)
        if old is not None and old[0] != kc[0]:
            conflicts.append((seq, old, kc))
        journalled.setdefault(seq, kc)
    shown_list = soak_site.shown_in_console(rx.text(), site)
    shown = {}
    for s in shown_list:
        shown[s] = shown.get(s, 0) + 1
    import receiver as R
    stored = set(s for _, s, _, _, _ in R.Store(db).reports(site))
    alarms = set(s for s, (k, _) in journalled.items() if k == "alarm")
    lost = sorted(s for s in journalled if s not in shown)
    dup = sorted(s for s, n in shown.items() if n > 1)
    phantom = sorted(s for s in shown if s not in journalled)
    stored_not_shown = sorted(s for s in stored if s not in shown)
    figures.update({
        "kills_controller": ctl.kills, "kills_receiver": rx.kills, "kills_broker": brk.kills,
        "kills_total": ctl.kills + rx.kills + brk.kills,
        "controller_boots": ctl.starts, "events_journalled": len(journalled),
        "alarms_journalled": len(alarms), "shown": len(shown),
        "lost": len(lost), "alarms_lost": len(alarms.intersection(lost)),
        "shown_twice": len(dup), "stored_not_shown": len(stored_not_shown),
        "pending_at_end": int(st.get("pending", -1)),
        "crashes": len(ctl.crashes) + len(rx.crashes) + len(brk.crashes),
        "seconds": round(time.monotonic() - t0, 1),
    })
    if lost:
        failures.append("%d journalled events never shown at the centre (%d of them 異常): "
                        "seqs %s%s" % (len(lost), len(alarms.intersection(lost)), lost[:20],
                                       " (stored at the centre but not shown: %d)" %
                                       len(stored_not_shown) if stored_not_shown else ""))
    if dup:
        failures.append("%d events shown twice at the centre: seqs %s" % (len(dup), dup[:20]))
    if phantom:
        failures.append("the centre showed seqs the controller never journalled: %s" % phantom[:20])
    if conflicts:
        failures.append("a seq was used for two different events: %s" % conflicts[:5])
    # the centre flags the same seq with a different report (通番重複) and a new epoch: a kill
    # gives it no reason to do either (the first report of the run starts the epoch at the
    # centre: that one flag is expected)
    flags = soak_site.flags_in_console(rx.text(), site)
    regress = [ln for ln in flags if "通番重複" in ln]
    figures["centre_seq_regressions"] = len(regress)
    figures["centre_new_epochs"] = len(flags) - len(regress)
    if regress:
        failures.append("the centre flagged %d seq regressions (same seq, another report): %s"
                        % (len(regress), regress[:3]))
    if len(flags) - len(regress) > 1:
        failures.append("the centre saw %d new epochs: %s" % (len(flags) - len(regress),
                                                               flags[:3]))
    # seq is unique within an epoch (the centre keys reports by site, epoch, seq): a kill -9
    # must never lose the installation's epoch (a new one would let seqs restart)
    epochs = soak_site.epochs_in_log(ctl.text())
    figures["epochs"] = len(set(epochs))
    if len(set(epochs)) > 1:
        failures.append("the controller's epoch changed across kills (seq high-water mark "
                        "lost): %s" % sorted(set(epochs)))
    # seq never goes backwards: each boot starts above every seq journalled before it
    boots = [int(m.group(1)) for m in map(re.compile(r"^BOOT next_seq=(\d+)").match,
                                          ctl.text().splitlines()) if m]
    back = [(a, b) for a, b in zip(boots, boots[1:]) if b < a]
    if back:
        failures.append("a reboot made seq go backwards (next_seq at boot %s)" % back[:5])
    if figures["pending_at_end"] != 0:
        failures.append("the controller still had %s reports pending at the end"
                        % figures["pending_at_end"])
    for k in (ctl, rx, brk):
        for code, tail in k.crashes:
            failures.append("%s exited by itself (code %s):\n%s" % (
                getattr(k, "name", "broker"), code, tail))
    if failures:
        failures.append("seed %d; logs kept in %s" % (seed, work))
    elif own_dir:
        shutil.rmtree(work, ignore_errors=True)
    return figures, failures
