# The virtual board over a serial port (tools/serialboard.py): the real MicroPython interpreter
# behind a pseudo-terminal, driven here by the unmodified mpremote command line, as an installer
# drives a USB board. One board for the module (each chip boot is a fresh interpreter anyway).
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from serialboard import SerialBoard  # noqa: E402

MPREMOTE = os.path.join(os.path.dirname(sys.executable), "mpremote")


@pytest.fixture(scope="module")
def board():
    d = tempfile.mkdtemp(prefix="vboard-")
    b = SerialBoard(d).start()
    yield b
    b.stop()


def mpremote(board, *args, timeout=60):
    return subprocess.run([MPREMOTE, "connect", board.port] + list(args), capture_output=True,
                          text=True, timeout=timeout)


def test_mpremote_copies_lists_and_reads_files_which_survive_resets_and_power_cuts(board):
    src = os.path.join(board.dir, "note.txt")
    with open(src, "w") as f:
        f.write("見守り\n" * 100)
    r = mpremote(board, "fs", "mkdir", ":notes", "+", "fs", "cp", src, ":notes/note.txt",
                 "+", "fs", "ls", ":notes")
    assert r.returncode == 0, r.stderr
    assert "note.txt" in r.stdout
    r = mpremote(board, "soft-reset", "+", "fs", "cat", ":notes/note.txt")
    assert r.returncode == 0 and r.stdout.count("見守り") == 100
    # the host folder is the flash: written through, and a power cut keeps it
    with open(os.path.join(board.flash, "notes", "note.txt"), encoding="utf-8") as f:
        assert f.read() == "見守り\n" * 100
    board.restart()
    r = mpremote(board, "fs", "cat", ":notes/note.txt")
    assert r.returncode == 0 and r.stdout.count("見守り") == 100
    r = mpremote(board, "fs", "rm", ":notes/note.txt", "+", "fs", "rmdir", ":notes")
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(os.path.join(board.flash, "notes"))


def test_os_errors_carry_the_boards_numbers(board):
    # Emscripten says ENOENT is 44; an ESP32 (and mpremote, and the firmware) say 2.
    r = mpremote(board, "exec", "import os\ntry:\n os.stat('/nothing')\nexcept OSError as e:\n"
                 " print('errno', e.errno)\ntry:\n open('/nothing')\nexcept OSError as e:\n"
                 " print('errno', e.errno)")
    assert r.stdout.split() == ["errno", "2", "errno", "2"]
    r = mpremote(board, "fs", "cat", ":nothing")
    assert r.returncode != 0 and "No such file" in r.stderr + r.stdout


def test_main_py_runs_at_power_on_ctrl_c_stops_it_and_the_sensors_reach_the_pins(board):
    main = os.path.join(board.dir, "main.py")
    with open(main, "w") as f:
        f.write("import machine, time\n"
                "p = machine.Pin(4, machine.Pin.IN, machine.Pin.PULL_UP)\n"
                "f = open('/levels.txt', 'w')\n"
                "f.write('start %d\\n' % p.value())\n"
                "f.close()\n"
                "while True:\n"
                "    time.sleep_ms(20)\n"
                "    f = open('/levels.txt', 'a')\n"
                "    f.write('%d\\n' % p.value())\n"
                "    f.close()\n")
    r = mpremote(board, "fs", "cp", main, ":main.py", "+", "reset")
    assert r.returncode == 0, r.stderr
    time.sleep(0.5)
    board.control("P4=0")         # the contact closes to ground
    time.sleep(0.5)
    # mpremote interrupts the running main.py with Ctrl-C, as on a board
    t = time.monotonic()
    r = mpremote(board, "exec", "print(open('/levels.txt').read().split())", timeout=20)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t < 5
    levels = eval(r.stdout.strip())
    assert levels[:2] == ["start", "1"] and levels[-1] == "0"
    r = mpremote(board, "fs", "rm", ":main.py", "+", "fs", "rm", ":levels.txt")
    assert r.returncode == 0, r.stderr


def test_romfs_deploy_is_mounted_at_rom_after_a_reset(board):
    src = os.path.join(board.dir, "romsrc", "lib", "greeting")
    os.makedirs(src)
    with open(os.path.join(src, "__init__.py"), "w") as f:
        f.write("TEXT = 'from the romfs partition'\n")
    r = mpremote(board, "romfs", "deploy", os.path.join(board.dir, "romsrc"))
    assert r.returncode == 0 and "ROMFS image deployed" in r.stdout, r.stdout + r.stderr
    assert mpremote(board, "reset").returncode == 0    # a new connection after it, as on USB
    r = mpremote(board, "exec",
                 "import greeting, os\nprint(greeting.TEXT, greeting.__file__, os.getcwd())")
    assert r.stdout.split() == ["from", "the", "romfs", "partition",
                                "/rom/lib/greeting/__init__.mpy", "/"], r.stdout + r.stderr


def test_make_vboard_prints_the_port_to_give_mpremote(tmp_path):
    # `make vboard` runs this: the first line names the port; mpremote works on it at once
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "tools", "serialboard.py"),
                          "--dir", str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        first = p.stdout.readline().split()
        assert first[:2] == ["vboard:", "port"] and first[2].startswith("/dev/pts/")
        r = subprocess.run([MPREMOTE, "connect", first[2], "exec",
                            "import sys; print(sys.platform)"], capture_output=True, text=True,
                           timeout=60)
        assert r.stdout.strip() == "webassembly"
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=10)
    assert p.returncode == 0
