# The board's USB REPL (mimamori/usbrepl.py, issue 13): closed while the controller guards, opened
# for a while by the installer's code at the panel; when the installer's Ctrl-C stops the loop the
# centre is told (627) and the watchdog brings the board back to guarding. On both runtimes.
RUNS_ON_MICROPYTHON = True

import machine

from sample_board import Board, INSTALLER_CODE, RESIDENT_CODE
from mimamori import usbrepl
from mimamori.core import events as ev


class _Kbd:
    """micropython.kbd_intr as the board has it: the character that raises KeyboardInterrupt."""

    def __init__(self):
        self.calls = []

    def __call__(self, c):
        self.calls.append(c)

    @property
    def ctrl_c(self):
        return self.calls[-1] == 3


def _board(name):
    b = Board(name)
    kbd = _Kbd()
    b.app.repl = usbrepl.UsbRepl(kbd)        # what usbrepl.lock does on a real ESP32
    b.run(500)
    return b, kbd


def test_a_guarding_board_ignores_ctrl_c():
    b, kbd = _board("repl_closed")
    assert kbd.calls == [-1]
    b.run(60000)
    assert not kbd.ctrl_c


def test_only_the_installers_code_opens_it_and_only_for_a_while():
    b, kbd = _board("repl_open")
    text = b.app.operate("installer_mode", b.now(), code=RESIDENT_CODE)
    assert text == "施工モードは施工者コードで開始します" and not kbd.ctrl_c
    text = b.app.operate("installer_mode", b.now(), code=INSTALLER_CODE)
    assert text == "施工モード: 5分以内にUSBで接続してください"
    assert kbd.ctrl_c
    b.run(usbrepl.OPEN_MS - 1000)
    assert kbd.ctrl_c
    b.run(2000)                        # nobody connected: closed again
    assert not kbd.ctrl_c and b.app.repl.open_until is None


def test_stopping_for_the_installer_tells_the_centre_and_arms_the_watchdog():
    b, kbd = _board("repl_stop")
    usbrepl.stop_for_installer(b.app, machine)
    last = b.events()[-1]
    assert (last.cid, last.kind, last.label) == (627, ev.STATUS, "施工モード(監視停止)")
    assert machine.WDT(timeout=usbrepl.SESSION_MS).timeout == usbrepl.SESSION_MS


def test_the_test_interpreter_is_not_locked():
    b = Board("repl_host")
    usbrepl.lock(b.app)                # sys.platform is not "esp32" here
    assert b.app.repl is None
    text = b.app.operate("installer_mode", b.now(), code=INSTALLER_CODE)
    assert text.startswith("施工モード:")
