# The board's USB REPL gives full control of the panel (stop the loop, read the flash, rewrite
# config.json), so on a board that guards it is closed, and opens only in installer mode:
#
# - Guarding: Ctrl-C is ignored (micropython.kbd_intr(-1)): nobody at the USB port can stop the
#   controller, and mpremote cannot get in. The watchdog runs (8 s).
# - Installer mode: the installer's code at the panel (operation `installer_mode`) accepts Ctrl-C
#   for OPEN_MS; nobody connects in that time, the REPL closes again. The controller keeps guarding
#   until mpremote's Ctrl-C arrives; then it reports Contact ID 627 (program mode entry: the
#   centre knows this panel is not guarding), sets the watchdog to SESSION_MS and leaves the
#   REPL to the installer. However the session ends (the CLI's reset, a forgotten laptop), the
#   watchdog restarts the board within SESSION_MS and it guards again (its 305 boot report tells
#   the centre).
# - A board whose config is missing or refused never starts the loop or the watchdog: its REPL
#   is open, so a new board is set up without a code.
# The lock applies on a real board (sys.platform "esp32"); the test interpreter and the virtual
# board leave Ctrl-C alone. Cost to the installer: README "The image".
from mimamori.compat import const, sleep_ms, ticks_add, ticks_diff, ticks_ms
from mimamori.core import events as ev

OPEN_MS = const(300000)          # after the installer's code: Ctrl-C accepted for 5 minutes
SESSION_MS = const(1800000)      # after Ctrl-C: the watchdog restarts the board within 30 minutes
_CTRL_C = const(3)


class UsbRepl:
    def __init__(self, kbd_intr=None):
        self._kbd = kbd_intr          # micropython.kbd_intr on a board; None: nothing to lock
        self.open_until = None        # ticks until which Ctrl-C is accepted, or None (closed)
        self.close()

    def close(self):
        self.open_until = None
        if self._kbd is not None:
            self._kbd(-1)

    def open(self, now):
        self.open_until = ticks_add(now, OPEN_MS)
        if self._kbd is not None:
            self._kbd(_CTRL_C)

    def poll(self, now):
        """From the loop: close again when the installer did not connect in time."""
        if self.open_until is not None and ticks_diff(now, self.open_until) >= 0:
            self.close()


def lock(app):
    """Close the REPL of a guarding real board (boot.main, before the loop runs)."""
    import sys
    if sys.platform == "esp32":
        import micropython
        app.repl = UsbRepl(micropython.kbd_intr)


def stop_for_installer(app, machine_module):
    """Ctrl-C reached the loop (installer mode, or a board without the lock): report that the
    panel stops guarding (627), give the report a moment to go out, and leave the REPL with the
    watchdog set to restart the board within SESSION_MS."""
    now = ticks_ms()
    app._emit(ev.Event(now, ev.STATUS, ev.CID_PROGRAM_MODE, ev.Q_NEW, 0, 0, "", app.core.mode))
    app.log.warn("stopped for the installer: the watchdog restarts the board within %d min",
                 SESSION_MS // 60000)
    start = ticks_ms()
    try:
        while app.journal.pending_count() and ticks_diff(ticks_ms(), start) < 2000:
            app.step(ticks_ms())
            sleep_ms(10)
    except KeyboardInterrupt:
        pass
    machine_module.WDT(timeout=SESSION_MS)
