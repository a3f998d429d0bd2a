# The controller: wires io -> core -> store -> comms and runs the loop.
#
#   app = App(config, secrets, "/data", ticks_ms())    # restores the saved state
#   app.step(ticks_ms())                               # one loop iteration, bounded work
#   asyncio.run(app.run())                             # on the board (main.py)
#
# One step: drain debounced zone edges (each with its own timestamp) into the alarm core and the
# supervisor; advance their timers; read the analogue inputs; deliver reports (non-blocking);
# render the outputs; persist what moved; feed the watchdog. Steady state (nothing happening)
# allocates nothing and writes nothing to flash. The parts live in their own modules: restore.py
# (boot, fail-secure), operations.py (keys, cards, remote commands), reports.py (journal first,
# the Router's callbacks), persist.py (revisions, storage troubles), status.py (pins, display,
# state frame), comms/routes.py (the report paths).
from mimamori.compat import const, ticks_diff, ticks_ms
from mimamori.log import Logger
from mimamori import frontpanel, restore, status
from mimamori.operations import Operations
from mimamori.persist import Keeper
from mimamori.reports import Reports
from mimamori.core import outputs as out
from mimamori.core.arming import AlarmCore
from mimamori.core.auth import Authenticator
from mimamori.core.commands import CommandVerifier
from mimamori.core.supervision import Supervisor
from mimamori.store.journal import Journal
from mimamori.store.statefile import StateFile
from mimamori.store.health import StorageHealth
from mimamori.comms import routes
from mimamori.proto import frame

LOOP_MS = const(10)          # loop period: edges are timestamped by the IRQ, so this is latency
WDT_TIMEOUT_MS = const(8000)  # a hung loop resets the board; the state file brings it back


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
        self.log = Logger.wrap(log or print)   # a Logger (mimamori/log.py) or a plain f(line)
        self.key = frame.site_key(secrets["site_key"])
        self.wall = wall or WallClock(machine_module.RTC(), config["utc_offset_min"])
        if self.log.ring is not None and self.log.ring.clock is None:
            self.log.ring.clock = self.wall.iso     # the log ring's times: wall time when set
        self.wifi = wifi
        self.wdt = wdt              # boot.main starts it before the App (a hung boot resets)
        self._last_step = now
        self._up_ms = 0
        self.uptime_s = 0
        self.steps = 0
        self.errors = 0
        restore.ensure_dir(data_dir)
        self.journal = Journal(data_dir + "/journal", feed=wdt.feed if wdt else None)
        self.statefile = StateFile(data_dir + "/state.json")
        self.reports = Reports(self)
        self._emit = self.reports.emit              # every event: journal first
        self.storage = StorageHealth(self._emit)   # 307 damaged file, 624 flash full
        self._findings = list(findings or ())      # damage found by boot.main (data set aside)
        self.keeper = Keeper(self, now)
        timers = config["timers"]
        self.paths = tuple([r["name"] for r in routes.routes(config)])  # for the comm checks
        self.ops = Operations(self)   # one dispatch for keys, cards and remote commands
        self.operate, self.apply = self.ops.operate, self.ops.apply
        # what the panel and Home Assistant show (status.py)
        self.troubles = lambda: status.troubles(self)
        self.display = lambda now: status.display(self, now)
        self.state_frame = lambda now=None: status.state_frame(self, now)
        self.core = AlarmCore(config["zones"], timers, self._emit, now)
        saved = restore.restore_core(self, now)
        self.sup = Supervisor(timers, self.paths, self._emit, self.reports.send_test, now,
                              config["supervision"], self.core.mode)
        self.auth = Authenticator(secrets, now)
        if saved:
            restore.restore_rest(self, saved, now)   # each section guarded: damage, a finding
        self.keeper.auth_saved = self.auth.revision
        self.inputs = ZoneInputs(config["zones"], machine_module)
        self.outputs = Outputs(config["outputs"], machine_module)
        self.analog = Analog(self.sup, config["supervision"], now)
        self.rendered = out.OutputState()   # what is on the pins: core + supervision merged
        self._zone_sink = self._on_zone     # bound once: a bound method allocates per use
        restore.feed_boot_levels(self, now)
        if link is None:
            from mimamori.comms.path_mqtt import make_link
            link = make_link(config, secrets, self.wifi, self.log)
        self.link = link
        self.router = routes.build(self, link, paths, now)   # sets self.delivery (MQTT's)
        self.commands = CommandVerifier(
            self.key, self.site, self.auth, last_ctr=restore.command_counter(self),
            save_ctr=lambda c: self.journal.save_value("cmd_ctr", c), log=self.log,
            now_unix=self.wall.unix(), now_ms=now)
        # keypad, OLED, card reader; keys, taps, watch-over calls, door chime (resident.py)
        frontpanel.attach(self, machine_module, now)
        restore.announce(self, secrets, now)   # 305, sample secrets, the findings (307)
        self._trouble = status.any_trouble(self)   # trouble LED and chirp
        self._state_dirty = True    # the retained state topic needs a new frame
        self._ha_key = -1           # what HA's state depends on, as last published
        self.repl = None            # the USB REPL's lock on a real board (usbrepl.py)

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
        if self.keypad is not None:
            self.keypad.poll(now, self.on_key)     # a stored bound method: no allocation
        if self.cards is not None:
            self.cards.step(now)
        self.auth.poll(now)
        self.core.tick(now)
        self.resident.tick(now)
        self.sup.tick(now)
        self.analog.poll(now)
        self.router.poll(now)
        if self.repl is not None:
            self.repl.poll(now)
        status.render(self, now)
        if self.screen is not None:
            self.screen.poll(self, now)     # before publish, which clears _state_dirty
        # save what moved, then the storage check: both every step (| evaluates both, not `or`)
        status.publish(self, self.keeper.save(now) | self.keeper.storage_check(now), now)
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

    def _on_zone(self, index, active, edge_ticks):
        z = self.core.zones[index]
        self.core.zone_changed(index, active, edge_ticks)
        self.sup.activity(edge_ticks)
        self.sup.zone_fault(z.id, z.name, active, edge_ticks)
        self.resident.zone(z, active, edge_ticks)
        self._state_dirty = True
