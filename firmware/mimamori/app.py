# The controller: wires io -> core -> store -> comms and runs the loop.
#
#   app = App(config, secrets, "/data", ticks_ms())    # restores the saved state
#   app.step(ticks_ms())                               # one loop iteration, bounded work
#   asyncio.run(app.run())                             # on the board (main.py)
#
# One step: drain debounced zone edges (each with its own timestamp) into the alarm core and the
# supervisor; advance their timers; read the analogue inputs; deliver reports (non-blocking
# MQTT); render the outputs; persist what changed; feed the watchdog. Steady state (nothing
# happening) allocates nothing and writes nothing to flash.
#
# Every event the core or the supervisor decides is appended to the journal (seq and wall time
# stamped) before anything tries to send it; the Router (comms/paths.py) hands it to the report
# paths of comms.paths, and it leaves the outbox when every path it was handed to has the
# centre's acknowledgement.
from mimamori.compat import const, ticks_add, ticks_diff, ticks_ms
from mimamori.log import Logger
from mimamori.operations import Operations
from mimamori.core import events as ev
from mimamori.core import outputs as out
from mimamori.core import panel
from mimamori.core.arming import AlarmCore
from mimamori.core.auth import Authenticator
from mimamori.core.commands import CommandVerifier, ha_token
from mimamori.core.samples import sample_secrets
from mimamori.core.supervision import Supervisor
from mimamori.core.zones import MODE_LABELS
from mimamori.store.journal import Journal
from mimamori.store.statefile import StateFile, DAMAGED
from mimamori.store.health import StorageHealth, state_problem
from mimamori.comms.paths import Router
from mimamori.comms.path_mqtt import MqttPath
from mimamori.comms.discovery import state_payload, iter_payloads, ha_state
from mimamori.core.troubles import code as trouble_code
from mimamori.proto import frame

# a verified remote command's verb (core/commands.py) -> its operation (mimamori/operations.py)
REMOTE = {"arm": "arm", "disarm": "disarm", "status": "status", "test": "test",
          "shirasete": "ask", "set_departure": "departure", "revoke_card": "revoke_card"}
LOOP_MS = const(10)          # loop period: edges are timestamped by the IRQ, so this is latency
WDT_TIMEOUT_MS = const(8000)  # a hung loop resets the board; the state file brings it back
RETRY_WRITE_MS = const(5000)  # while the flash refuses writes: try again this often, not per step
FAIL_SECURE_MODE = "away"     # no saved state and no journal can prove the mode (README "Power cut")
PATH_MQTT = "mqtt"


class App:
    def __init__(self, config, secrets, data_dir, now, machine_module=None, link=None,
                 wifi=None, wall=None, log=None, wdt=None, findings=None, paths=None):
        if machine_module is None:
            import machine as machine_module
        from mimamori.io.inputs import ZoneInputs
        from mimamori.io.outputs import Outputs
        from mimamori.io.analog import Analog
        from mimamori.io.clock import WallClock
        self.config = config
        self._machine = machine_module
        self.site = config["site_id"]
        self.log = log or _print_log   # a Logger (mimamori/log.py), still a plain callable
        self.key = frame.site_key(secrets["site_key"])
        self.wall = wall or WallClock(machine_module.RTC(), config.get("utc_offset_min", 540))
        self.wifi = wifi
        self._last_step = now
        self._up_ms = 0
        self.uptime_s = 0
        self.wdt = wdt              # boot.main starts it before the App (a hung boot resets)
        self._ensure_dir(data_dir)
        self.journal = Journal(data_dir + "/journal", feed=wdt.feed if wdt else None)
        self.statefile = StateFile(data_dir + "/state.json")
        self.storage = StorageHealth(self._emit)   # 307 damaged file, 624 flash full
        self._findings = list(findings or ())      # damage found by boot.main (data set aside)
        self._retry_at = now
        timers = config["timers"]
        # The report paths in priority order (comms.paths; comms/paths.py): their names for
        # the supervisor's comm check per path.
        routes = config["comms"].get("paths") or [{"name": PATH_MQTT, "kinds": None}]
        self.paths = tuple([r["name"] for r in routes])
        self.ops = Operations(self)   # one dispatch for keys, cards and remote commands
        self._test_seq = {}         # path -> seq of the test report in flight
        self.core = AlarmCore(config["zones"], timers, self._emit, now)
        saved = self._restore_core(now)
        self.sup = Supervisor(timers, self.paths, self._emit, self._send_test, now,
                              config.get("supervision"), self.core.mode)
        self.auth = Authenticator(secrets, now)
        if saved:
            self._restore_rest(saved, now)     # each section guarded: damage adds a finding
        # Persistence by revision: each component bumps its own when something worth saving
        # moved; _persist saves when one differs from the one last saved. A restored core is at
        # revision 0 ("as saved"); the auth and supervision baselines are taken here and below.
        self._core_saved = 0
        self._auth_saved = self.auth.revision
        self.inputs = ZoneInputs(config["zones"], machine_module)
        self.outputs = Outputs(config["outputs"], machine_module)
        self.analog = Analog(self.sup, config.get("supervision"), now)
        self.rendered = out.OutputState()   # what is on the pins: core + supervision merged
        self._zone_sink = self._on_zone     # bound once: a bound method allocates per use
        self._feed_boot_levels(now)
        if link is None:
            from mimamori.comms.path_mqtt import make_link
            link = make_link(config, secrets, self.wifi, self.log)
        self.link = link
        mq = config["comms"]["mqtt"]
        mqtt = MqttPath(self.journal, link, self.key, self.site, mq["ack_deadline_s"],
                        on_command=self._on_command, log=self.log)
        self.delivery = mqtt.delivery
        self.delivery.on_time = self._on_centre_time
        # Every other path is built by its factory (paths: name -> f(app) -> comms.paths.Path;
        # the landline's below, a test's from host_tests).
        made = {PATH_MQTT: mqtt}
        for name in self.paths:
            if name not in made:
                make = (paths or {}).get(name)
                made[name] = make(self) if make else self._make_path(name)
        self.router = Router(self.journal, [made[n] for n in self.paths],
                             [r["kinds"] for r in routes], now, on_delivered=self._on_delivered,
                             on_late=self._on_late, log=self.log)
        # Home Assistant discovery (alarm panel + a binary sensor per zone), retained, sent at
        # the start of every MQTT session.
        token = ha_token(self.key, self.site)     # HA's proof to the centre's bridge
        self.delivery.publish_retained(lambda: iter_payloads(config, token))
        ctr = self.journal.load_value("cmd_ctr", 0)
        if not isinstance(ctr, int) or isinstance(ctr, bool) or ctr < 0:
            self._findings.append("cmd_ctr: not a counter")   # junk must not stop the boot
            ctr = 0
        self.commands = CommandVerifier(self.key, self.site, self.auth, last_ctr=ctr,
                                        save_ctr=self._save_ctr, log=self.log,
                                        now_unix=self.wall.unix(), now_ms=now)
        # Every boot is reported (305): the centre learns of a power cut or a watchdog reset,
        # and its signed ack brings the time when the RTC lost it.
        self._emit(ev.Event(now, ev.STATUS, ev.CID_SYSTEM_RESET, ev.Q_NEW, 0, 0, "",
                            self.core.mode))
        # The public sample secrets (boards/*/secrets.sample.json) left in place: a trouble on
        # the panel and at the centre (issue 10.12). Names only in the log, never values.
        found = sample_secrets(secrets)
        if found:
            self.log.warn("SAMPLE SECRETS IN USE: %s: replace them (tools/hash_secret.py, a "
                          "new site key)", ", ".join(found))
        sup_rev = self.sup.revision
        self.sup.sample_secrets(len(found) > 0, now)
        # Damage found in any saved file (state, journal, its mark, the command counter): shown
        # and reported once (307), after the 305.
        self._findings += self.journal.damage
        for f in self._findings:
            self.log.warn("storage: %s", f)
        self.storage.boot_damage(self._findings, self._fail_secure, now, self.core.mode)
        self._sup_saved = sup_rev   # a trouble raised or ended at boot is saved by the 1st step
        # any trouble shown (trouble LED and chirp), also one restored or raised at boot
        self._trouble = len(self.sup.troubles()) > 0 or self.storage.active
        self._state_dirty = True    # the retained state topic needs a new frame
        self._ha_key = -1           # what HA's state depends on, as last published (_persist)
        self.steps = 0
        self.errors = 0

    @property
    def log(self):
        return self._log

    @log.setter
    def log(self, f):
        self._log = Logger.wrap(f)    # a Logger, or a plain f(line) (tools swap it in)

    # ---- boot -----------------------------------------------------------------------------------

    @staticmethod
    def _ensure_dir(path):
        import os
        try:
            os.mkdir(path)
        except OSError:
            pass   # exists

    def _make_path(self, name):
        if name == "landline":
            from mimamori.comms.path_landline import make
            return make(self.config["comms"]["landline"], self.journal, self._machine, self.log)
        raise ValueError("comms.paths: no transport for path %r" % (name,))

    # -- restore (h1: flash & boot robustness) --------------------------------------------------
    def _restore_core(self, now):
        """Come back as we were: mode, bypasses, alarm memory, running delays. Time without
        power (from the RTC, when it is set) counts against the running delays.

        Never raises. A saved state that is damaged or implausible is refused as a whole; then
        the mode is the one the journal proves (its newest event), else FAIL_SECURE_MODE (armed
        away, with the exit delay: README "Power cut"). Either way a finding is noted for the
        307 trouble."""
        self._fail_secure = False
        saved = self.statefile.load()
        self._findings.extend(self.statefile.problems)
        why = None
        if saved is not None:
            why = state_problem(saved)
        elif self.statefile.status == DAMAGED:
            why = "no copy of the state checks"
        if why is None and saved is not None:
            since = None
            t = self.wall.unix()
            at = saved.get("saved_at")
            if t is not None and at is not None and t >= at:
                since = (t - at) * 1000
            try:
                self.core.restore(saved["core"], now, since)
                self.log.info("restored: mode %s", self.core.mode)
                return saved
            except Exception as e:   # noqa: BLE001 - whatever slipped past state_problem
                why = "core: %r" % (e,)
                self.core = AlarmCore(self.config["zones"], self.config["timers"], self._emit,
                                      now)
        if why is None and self.journal.fresh and not self._findings:
            return None              # a new installation: disarmed, nothing to report
        if why is not None:
            self._findings.append("state refused: %s" % why)
        mode = self._journal_mode()
        if mode is None:
            self._fail_secure = True
            self._findings.append("no mode provable: fail-secure %s" % FAIL_SECURE_MODE)
            self.core.arm(FAIL_SECURE_MODE, 0, now, True)
        elif mode != self.core.mode:
            snap = self.core.snapshot(now)
            snap["mode"] = mode
            try:
                self.core.restore(snap, now)
            except Exception as e:   # noqa: BLE001
                self._fail_secure = True
                self._findings.append("mode %s not restorable (%r): fail-secure" % (mode, e))
                self.core.arm(FAIL_SECURE_MODE, 0, now, True)
        self.log.info("state not restored (%s): mode %s", why or "none saved", self.core.mode)
        return None

    def _journal_mode(self):
        """The arm mode as of the newest journalled event (every event carries the mode of its
        time; a disarm's 401 opening carries the mode it ended), or None."""
        mode = None
        top = 0
        try:
            for e, _up, _acked in self.journal.history():
                if e.seq > top and (e.kind == ev.OPENING or e.mode in MODE_LABELS):
                    top = e.seq     # by seq: a pending report copied forward is older than it sits
                    mode = "disarmed" if e.kind == ev.OPENING else e.mode
        except Exception as e:   # noqa: BLE001 - an unreadable journal proves nothing
            self.log.error("journal unreadable: %r", e)
            return None
        return mode

    def _restore_rest(self, saved, now):
        sup = saved.get("sup")
        try:
            if sup and not self.sup.restore(sup, now):
                self._findings.append("state: supervision section refused")
        except Exception as e:   # noqa: BLE001 - one bad section must not stop the boot
            self._findings.append("state: supervision %r" % (e,))
        try:
            self.auth.restore(saved.get("auth") or {})
        except Exception as e:   # noqa: BLE001
            self._findings.append("state: lockout %r" % (e,))
    # -- end restore (h1) -------------------------------------------------------------------------

    def _feed_boot_levels(self, now):
        """The levels read at boot go to the core as changes from 'closed': an armed zone found
        open after a power cut is an intrusion; one in alarm that closed meanwhile restores."""
        for i in range(len(self.core.zones)):
            self.core.zone_changed(i, self.inputs.active(i), now)
            z = self.core.zones[i]
            self.sup.zone_fault(z.id, z.name, z.open, now)

    # ---- the loop ---------------------------------------------------------------------------

    def step(self, now):
        # Uptime in whole seconds, accumulated per step: a ticks_diff from boot would wrap after
        # 6.2 days (and 2**30 ms is a heap-allocated int on a 32-bit port).
        d = ticks_diff(now, self._last_step)
        self._last_step = now
        if d > 0:
            self._up_ms += d
            if self._up_ms >= 1000:
                self.uptime_s += self._up_ms // 1000
                self._up_ms %= 1000
        if self.wifi is not None:
            self.wifi.poll(now)
        self.inputs.poll(now, self._zone_sink)
        self.auth.poll(now)
        self.core.tick(now)
        self.sup.tick(now)
        self.analog.poll(now)
        self.router.poll(now)
        self._render(now)
        self._persist(now)
        self._storage_check(now)
        if self.wdt is not None:
            self.wdt.feed()
        self.steps += 1

    async def run(self):
        import asyncio
        if self.wdt is None:         # boot.main normally starts it before the App is built
            from machine import WDT
            self.wdt = WDT(timeout=WDT_TIMEOUT_MS)
        while True:
            try:
                self.step(ticks_ms())
            except Exception as e:   # noqa: BLE001 - one bad step must not stop the guarding;
                self.errors += 1     # a persistent fault starves the watchdog instead
                self.log.error("loop error: %r", e)
            await asyncio.sleep_ms(LOOP_MS)

    # ---- inputs -------------------------------------------------------------------------------

    def _on_zone(self, index, active, edge_ticks):
        z = self.core.zones[index]
        self.core.zone_changed(index, active, edge_ticks)
        self.sup.activity(edge_ticks)
        self.sup.zone_fault(z.id, z.name, active, edge_ticks)
        self._state_dirty = True

    def operate(self, action, now, code=None, card=None, mode=None, force=False):
        """A resident's operation at the panel or card reader: authenticate, then act
        (mimamori/operations.py). Returns the Japanese text the panel shows."""
        if code is not None:
            user = self.auth.check_code(code, now)
        elif card is not None:
            user = self.auth.check_card(card, now)
        else:
            user = None
        self._after_auth(now)
        if user is None:
            return "ロック中です" if self.auth.outcome == "locked" else "暗証番号またはカードが違います"
        return self.ops.run(action, user["id"], now, mode, force).text

    def apply(self, action, user, now, mode=None, force=False):
        """An authorised operation: its panel text (mimamori/operations.py)."""
        return self.ops.run(action, user, now, mode, force).text

    @property
    def prompt(self):
        return self.ops.prompt

    @property
    def last_arm(self):
        return self.ops.last_arm

    def _after_auth(self, now):
        """After anything that may have checked a code or card (a rejected command may not)."""
        if self.auth.lockout_started:
            # 461 Wrong code entry: someone is guessing codes at the panel or over the network.
            # The flag is consumed: it stays set in the Authenticator until its next check.
            self.auth.lockout_started = False
            self._emit(ev.Event(now, ev.ALARM, ev.CID_WRONG_CODE, ev.Q_NEW, 0, 0, "",
                                self.core.mode))

    # ---- remote commands ----------------------------------------------------------------------

    def _on_command(self, payload, now):
        cmd, reply = self.commands.handle(payload, self.wall.unix(), now)
        self._after_auth(now)
        if cmd is None:
            return reply
        uid = cmd.user["id"] if cmd.user else 0
        a = cmd.args
        r = self.ops.run(REMOTE[cmd.name], uid, now, mode=a.get("mode"), time=a.get("time"),
                         card=a.get("card"), message=a.get("message"))
        if cmd.name == "arm" and not r.ok:
            # Refused (a zone armed in that mode is open): the centre must not be told
            # "accepted" while the house stays unarmed.
            self.log.info("remote arm refused: open %s", ", ".join(self.last_arm.open_zones))
            return frame.result_frame(self.key, self.site, cmd.ctr, cmd.name, False, r.reason)
        return reply

    def _save_ctr(self, ctr):
        self.journal.save_value("cmd_ctr", ctr)

    # ---- reports ------------------------------------------------------------------------------

    def _emit(self, e):
        """Every event: journal first (stamps seq and wall), then it is in the outbox."""
        t = self.wall.iso()
        self.journal.append(e, t, self.uptime_s)
        self._state_dirty = True
        self.log.info("event %d %s %03d %s%s" % (e.seq, e.kind, e.cid, e.label,
                                           " " + e.zone_name if e.zone_name else ""))

    def _send_test(self, path, e):
        self._emit(e)
        self._test_seq[path] = e.seq

    def _on_delivered(self, path, seq, now):
        """The centre acknowledged seq on that path (comms/paths.py Router)."""
        self.sup.report_delivered(path, now)
        if self._test_seq.get(path) == seq:
            del self._test_seq[path]
            self.sup.test_result(path, True, now)

    def _on_late(self, path, seq, e, now):
        """seq was not acknowledged on that path within its deadline (the Router hands it to the
        next path carrying its kind, if any): a test report there means the path failed it."""
        if self._test_seq.get(path) == seq:
            del self._test_seq[path]
            self.sup.test_result(path, False, now)

    def _on_centre_time(self, t):
        """The centre's clock from a signed ack. io/clock.py WallClock.centre_time decides:
        set an unset RTC, step it forward, never back for a stale or implausible time (t=0, a
        day old), so report times never run backwards."""
        msg = self.wall.centre_time(t)
        if msg is not None:
            self.log.info(msg)

    # ---- outputs and persistence --------------------------------------------------------------

    def _render(self, now):
        self.outputs.render(panel.merge(self.rendered, self.core.outputs, self.sup,
                                        self._trouble, now), now)

    def _persist(self, now):
        sup_changed = self.sup.revision != self._sup_saved
        if sup_changed:
            self._trouble = len(self.sup.troubles()) > 0 or self.storage.active
            self._state_dirty = True
        # checkpoint_due: a running delay or siren is saved every few seconds (core/arming.py),
        # so a power cut that loses the RTC cannot restart it from an old point.
        if (self.core.revision != self._core_saved or sup_changed
                or self.auth.revision != self._auth_saved or self.core.checkpoint_due(now)):
            # h1: a save the flash refuses never raises; the state stays in RAM, still marked
            # changed, and is tried again every RETRY_WRITE_MS (not every step).
            if not self.statefile.failing or ticks_diff(now, self._retry_at) >= 0:
                if self.statefile.save({"core": self.core.snapshot(now),
                                        "sup": self.sup.snapshot(),
                                        "auth": self.auth.snapshot(),
                                        "saved_at": self.wall.unix()}):
                    self._core_saved = self.core.revision
                    self._sup_saved = self.sup.revision
                    self._auth_saved = self.auth.revision
                else:
                    self._retry_at = ticks_add(now, RETRY_WRITE_MS)
        # Home Assistant's state follows what the panel does: the end of the exit delay or the
        # siren's cut-off emit no event, so watch them here (an int, no allocation).
        o = self.core.outputs
        ha = ((1 if self._sounding() else 0) | (2 if o.arming else 0)
              | (4 if o.buzzer == out.BUZ_ENTRY else 0))
        if ha != self._ha_key:
            self._ha_key = ha
            self._state_dirty = True
        if self._state_dirty:
            self._state_dirty = False
            self.delivery.publish_state(self.state_frame(now))

    # -- storage troubles (h1) ---------------------------------------------------------------------
    def _storage_check(self, now):
        """While the flash refuses writes: retry the journal every RETRY_WRITE_MS; raise or end
        the 624 trouble (once each). Allocation-free and write-free while all is well."""
        j = self.journal
        if j.write_failed and ticks_diff(now, self._retry_at) >= 0:
            self._retry_at = ticks_add(now, RETRY_WRITE_MS)
            j.retry()
        rev = self.storage.revision
        self.storage.update(j.write_failed or self.statefile.failing, now, self.core.mode)
        if self.storage.revision != rev:
            self._trouble = len(self.sup.troubles()) > 0 or self.storage.active
            self._state_dirty = True

    def troubles(self):
        """Every active trouble, [(cid, zone, text)]: the storage's first (a controller that
        booted from damaged flash must say so before anything else), then supervision's."""
        return self.storage.troubles() + self.sup.troubles()
    # -- end storage troubles (h1) ------------------------------------------------------------------

    def _sounding(self):
        return panel.sounding(self.core.outputs)

    def state_frame(self, now=None):
        """The retained state (comms/discovery.py): what the panel is doing for Home Assistant,
        troubles as codes with their panel text beside them."""
        c = self.core
        if now is None:
            now = ticks_ms()
        st = c.status(now)
        ha = ha_state(c.mode, self._sounding(), st["exit_delay"],
                      st["entry_delay"] or st["cancel_window"])
        troubles = self.troubles()
        # alarm_memory mirrors the panel's memory LED (a silent alarm that the panel does not
        # show is not shown to Home Assistant either)
        return state_payload(self.key, self.site, c.mode, c.phase(), c.outputs.alarm_memory,
                             [trouble_code(t[0]) for t in troubles],
                             [z.id for z in c.zones if z.open], self.wall.iso(), ha,
                             [t[2] for t in troubles])

    def display(self, now):
        """The panel's display line (Japanese): core/panel.py."""
        return panel.display(self.prompt, self.core, self.sup.notices(), self.troubles(), now)


def _print_log(msg):
    print(msg)
