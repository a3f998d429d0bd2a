"""The virtual board over a serial port: the real MicroPython interpreter (WebAssembly, under
Node: tools/serialboard.mjs) behind a pseudo-terminal, so unmodified mpremote - and so the
installer CLI - works against it as against an ESP32 on USB serial.

    python tools/serialboard.py [--dir DIR] [--rom-size BYTES] [--chip esp32]

prints `vboard: port /dev/pts/N` and runs until stopped (Ctrl-C). DIR (default build/vboard)
keeps what a board keeps across power cuts:
    DIR/flash/       the board's / (config.json, secrets.json, pins.json, main.py, data/, lib/)
    DIR/romfs.img    the ROMFS partition (`mpremote romfs deploy` writes it; mounted at /rom)
    DIR/sensors      control channel: write lines "Z<zone>=1" (zone active: door open, button
                     pressed), "Z<zone>=0" (idle), "P<gpio>=<level>", or "C=<card id>" (a
                     MIFARE card held on the reader; "C=<IDm>:felica", "C=" takes it away), e.g.
                     echo Z3=1 > build/vboard/sensors
    DIR/port         the serial port's path
The board reaches the network through a TCP bridge in this process (vsocket on the board side):
the firmware's MQTT connection to the centre is a real TCP connection from this host.

Library use (tests): `with SerialBoard(dir) as b: b.port; b.sensor(3, True); b.kill()`.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RUNNER = os.path.join(HERE, "serialboard.mjs")
BOARD_SIDE = os.path.join(HERE, "serialboard_mp")
FAKES = os.path.join(ROOT, "host_tests", "fakes")
ROM_SIZE = 0x40000             # the romfs partition of boards/MIMAMORI_ESP32 (partitions-mimamori.csv)
HEAP_BYTES = 1024 * 1024


def _lib_files():
    files = [os.path.join(BOARD_SIDE, f) for f in sorted(os.listdir(BOARD_SIDE))
             if f.endswith(".py")]
    # the fake PN532 card reader chip, where the card-reader issue has brought it
    fakes = ("hostclock.py", "machine.py", "network.py", "pn532_chip.py")
    return files + [os.path.join(FAKES, f) for f in fakes if os.path.exists(os.path.join(FAKES, f))]


def _mkfifo(path):
    if os.path.exists(path):
        os.remove(path)
    os.mkfifo(path)


class _NetBridge(threading.Thread):
    """Reads the chip's socket requests (net_out) and answers on net_in; one TCP socket each."""

    def __init__(self, out_path, in_path):
        super().__init__(daemon=True)
        self._out = os.open(out_path, os.O_RDWR)
        self._in = os.open(in_path, os.O_RDWR)
        self._lock = threading.Lock()
        self._socks = {}
        self.connections = 0          # TCP connections the board opened (for tests)

    def _send(self, line):
        data = (line + "\n").encode()
        with self._lock:
            while data:
                data = data[os.write(self._in, data):]

    def run(self):
        tail = b""
        while True:
            try:
                chunk = os.read(self._out, 65536)
            except OSError:
                return
            if not chunk:
                return
            tail += chunk
            *lines, tail = tail.split(b"\n")
            for line in lines:
                self._handle(line.decode().split(" "))

    def _handle(self, parts):
        op, sid = parts[0], int(parts[1])
        if op == "O":
            threading.Thread(target=self._connect, args=(sid, parts[2], int(parts[3])),
                             daemon=True).start()
        elif op == "S":
            s = self._socks.get(sid)
            if s is not None:
                try:
                    s.sendall(bytes.fromhex(parts[2]))
                except OSError as e:
                    self._send("E %d %d" % (sid, e.errno or 104))
        elif op == "C":
            s = self._socks.pop(sid, None)
            if s is not None:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def _connect(self, sid, host, port):
        try:
            s = socket.create_connection((host, port), timeout=5)
        except OSError as e:
            self._send("E %d %d" % (sid, e.errno or 113))
            return
        s.settimeout(None)
        self._socks[sid] = s
        self.connections += 1
        self._send("K %d" % sid)
        while True:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                if self._socks.pop(sid, None) is not None:
                    self._send("E %d 0" % sid)
                return
            self._send("D %d %s" % (sid, data.hex()))


class SerialBoard:
    """A virtual board on a pseudo-terminal (see the module's docstring)."""

    def __init__(self, dir, rom_size=ROM_SIZE, heap_bytes=HEAP_BYTES, log=None):
        self.dir = os.path.abspath(dir)
        self.flash = os.path.join(self.dir, "flash")
        self.rom_file = os.path.join(self.dir, "romfs.img")
        self.sensors = os.path.join(self.dir, "sensors")
        self.rom_size = rom_size
        self.heap_bytes = heap_bytes
        self.log = log
        self.proc = None
        self.port = None
        self.net = None

    def start(self):
        os.makedirs(self.flash, exist_ok=True)
        _mkfifo(self.sensors)
        net_out = os.path.join(self.dir, ".net_out")
        net_in = os.path.join(self.dir, ".net_in")
        _mkfifo(net_out)
        _mkfifo(net_in)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)              # a USB serial line: bytes as they are
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)
        with open(os.path.join(self.dir, "port"), "w") as f:
            f.write(self.port + "\n")
        cfg = {"serial_fd": self._master, "flash": self.flash, "rom_file": self.rom_file,
               "rom_size": self.rom_size, "pins_fifo": self.sensors, "net_out": net_out,
               "net_in": net_in, "lib_files": _lib_files(), "heapsize": self.heap_bytes}
        cfg_path = os.path.join(self.dir, ".chip.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        self.net = _NetBridge(net_out, net_in)
        self.net.start()
        self.proc = subprocess.Popen(["node", RUNNER, cfg_path], cwd=ROOT,
                                     pass_fds=(self._master,), stdin=subprocess.DEVNULL,
                                     stdout=self.log or subprocess.DEVNULL,
                                     stderr=self.log or subprocess.DEVNULL)
        return self

    def sensor(self, zone, active):
        """The house: zone `zone`'s sensor goes active (door open, button held) or idle."""
        self.control("Z%d=%d" % (zone, 1 if active else 0))

    def card(self, card_id=None, kind="mifare"):
        """A card held on the board's reader (None: taken away); needs the fake PN532."""
        self.control("C=" + ("" if card_id is None else card_id + ":" + kind))

    def control(self, line):
        fd = os.open(self.sensors, os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """The board stops answering (unplugged, crashed): the chip process dies at once."""
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        self.kill()
        for fd in (getattr(self, "_master", None), getattr(self, "_slave", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None

    def restart(self):
        """Power back on after kill(): a new chip on the same port, flash and partition."""
        self.kill()
        cfg_path = os.path.join(self.dir, ".chip.json")
        self.proc = subprocess.Popen(["node", RUNNER, cfg_path], cwd=ROOT,
                                     pass_fds=(self._master,), stdin=subprocess.DEVNULL,
                                     stdout=self.log or subprocess.DEVNULL,
                                     stderr=self.log or subprocess.DEVNULL)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=os.path.join(ROOT, "build", "vboard"),
                    help="the board's flash folder, ROMFS partition and control channel")
    ap.add_argument("--rom-size", type=int, default=ROM_SIZE,
                    help="ROMFS partition bytes (0: a board without one: .mpy files on flash)")
    args = ap.parse_args(argv)
    board = SerialBoard(args.dir, rom_size=args.rom_size, log=sys.stderr)
    board.start()
    print("vboard: port %s" % board.port)
    print("vboard: e.g. mpremote connect %s    sensors: echo Z3=1 > %s" % (board.port,
                                                                           board.sensors))
    sys.stdout.flush()
    try:
        while board.alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        board.stop()


if __name__ == "__main__":
    main()
