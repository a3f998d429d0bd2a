"""The installer's line to a board: mpremote's own serial transport (the raw REPL), the board's
service entry points (firmware/mimamori/service.py, the interface of issue 13), files written
as a temporary name then renamed, and every failure turned into one clear sentence.

    with Board.open(port, timeout=10) as b:
        info = b.info()                       # {"firmware": "mimamori", "version": ...}
        for obj in b.service("status"): ...
        b.write_file("/config.json", data)
        b.restart()                           # soft reset with main.py: the firmware runs again
"""
import json
import os
import time

from mpremote.transport import TransportError, TransportExecError
from mpremote.transport_serial import SerialTransport

CANDIDATE_PORTS = ("/dev/ttyUSB0", "/dev/ttyACM0", "/dev/ttyUSB1", "/dev/ttyACM1",
                   "/dev/cu.usbserial-0001", "/dev/cu.usbmodem1101")


PIECE = 4096        # bytes of a file per raw-REPL command


class BoardError(Exception):
    """One line for the installer: what went wrong and what to do."""


def find_port(port=None):
    """The port given, $MIMAMORI_PORT, or the first USB serial port present."""
    port = port or os.environ.get("MIMAMORI_PORT")
    if port:
        return port
    for p in CANDIDATE_PORTS:
        if os.path.exists(p):
            return p
    raise BoardError("no board connected: no USB serial port found (plug the board in, or "
                     "give --port)")


class Board:
    def __init__(self, port, timeout=10, stay=False):
        self.port = port
        self.timeout = timeout
        self.stay = stay            # restart() leaves the firmware stopped (installer mode)
        self._made = set()          # folders made on the board in this session
        if not os.path.exists(port):
            raise BoardError("no board connected on %s (is the USB cable in? see --port)" % port)
        try:
            # timeout: a read gives up after 1 s, so a board that stops answering is noticed
            # (on a pseudo-terminal pyserial would otherwise wait for ever)
            self.t = SerialTransport(port, baudrate=115200, timeout=1)
        except TransportError as e:
            raise BoardError("cannot open %s: %s (another program using it?)" % (port, e))
        try:
            self.t.enter_raw_repl(soft_reset=True, timeout_overall=timeout)
        except TransportError:
            self.close()
            raise BoardError("no MicroPython REPL answers on %s: a guarding mimamori board keeps "
                             "it closed (enter the installer's code at the panel for installer "
                             "mode, then run this again within 5 minutes); else it is not a "
                             "MicroPython board, or it is busy" % port)

    @classmethod
    def open(cls, port=None, timeout=10, stay=False):
        return cls(find_port(port), timeout, stay)

    def close(self):
        try:
            self.t.close()
        except Exception:   # noqa: BLE001 - closing a dead line must not hide the real error
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _stopped(self, doing):
        return BoardError("the board stopped answering (%s): check its power and USB cable, "
                          "then run the same command again" % doing)

    # --- running code ---------------------------------------------------------------------
    def run(self, code, on_line=None, timeout=None, doing="running a command"):
        """Run `code` in the raw REPL; each output line goes to on_line (if given). Returns
        (output text, traceback text). `timeout`: seconds of silence that mean a dead board
        (None: the instance's; 0: wait for ever, as a walk test waits for the installer)."""
        timeout = self.timeout if timeout is None else (timeout or None)
        buf = bytearray()
        lines = []

        def consume(b):
            buf.extend(b.replace(b"\x04", b""))     # the raw REPL's end-of-output mark
            while b"\n" in buf:
                i = buf.index(b"\n")
                line = bytes(buf[:i]).decode("utf-8", "replace").rstrip("\r")
                del buf[:i + 1]
                lines.append(line)
                if on_line is not None:
                    on_line(line)
        try:
            self.t.exec_raw_no_follow(code)
            out, err = self._follow(timeout, consume)
        except TransportError:
            raise self._stopped(doing)
        except OSError:
            raise BoardError("the board disappeared (%s): the USB cable came out?" % doing)
        if buf:
            consume(b"\n")
        return "\n".join(lines), err.decode("utf-8", "replace")

    def _follow(self, timeout, consume):
        """mpremote's follow(), with a Ctrl-C of the installer passed on to the board (the
        walk test ends that way) and the rest of the board's answer still read."""
        while True:
            try:
                return self.t.follow(timeout, consume)
            except KeyboardInterrupt:
                self.t.serial.write(b"\x03")

    def eval(self, expr):
        out, err = self.run("print(repr(%s))" % expr)
        if err:
            raise BoardError("the board failed: %s" % _last_line(err))
        import ast
        return ast.literal_eval(out.strip())

    def service(self, verb, *args, on_object=None, timeout=None):
        """Call mimamori.service.<verb>(*args) on the board; its JSON lines as a list (without
        the final {"done": true}); BoardError on {"error": ...} or a traceback."""
        objs = []
        result = {}

        def line(text):
            text = text.strip()
            if not text.startswith("{"):
                return
            try:
                o = json.loads(text)
            except ValueError:
                return
            if "done" in o or ("error" in o and len(o) == 1):
                result.update(o)
                return
            objs.append(o)
            if on_object is not None:
                on_object(o)
        code = "import mimamori.service as s\ns.%s(%s)\n" % (verb, ", ".join(repr(a) for a in args))
        _out, err = self.run(code, on_line=line, timeout=timeout, doing=verb)
        if err:
            if "ImportError" in err and "mimamori" in err:
                raise BoardError("the board does not run mimamori firmware (no mimamori.service):"
                                 " run deploy first")
            raise BoardError("the board failed during %s: %s" % (verb, _last_line(err)))
        if "error" in result:
            raise BoardError("%s: %s" % (verb, result["error"]))
        if not result.get("done"):
            raise BoardError("%s: the board's answer ended early" % verb)
        return objs

    def info(self):
        got = self.service("info")
        if not got or got[0].get("firmware") != "mimamori":
            raise BoardError("the board does not run mimamori firmware: run deploy first")
        return got[0]

    # --- files ------------------------------------------------------------------------------
    def write_file(self, path, data, progress=None):
        """Write `data` to `path` on the board: a temporary name, then renamed, so a cut cable
        leaves the old file whole (the next run writes it again). Sent base64 in PIECE-byte
        pieces (mpremote's own fs_writefile sends 256-byte Python literals: slow on a big file
        without raw-paste). progress(bytes done, total) after each piece."""
        import binascii
        tmp = path + ".part"
        folder = path.rsplit("/", 1)[0]
        if folder and folder not in self._made:
            self.mkdirs(folder, doing="writing %s" % path)
            self._made.add(folder)
        for i in range(0, max(len(data), 1), PIECE):
            piece = binascii.b2a_base64(data[i:i + PIECE]).strip()     # bytes: any binascii
            code = ("from binascii import a2b_base64\nf=open(%r,%r)\nf.write(a2b_base64(%r))\n"
                    "f.close()\n" % (tmp, "wb" if i == 0 else "ab", piece))
            _out, err = self.run(code, doing="writing %s" % path)
            if err:
                raise BoardError("cannot write %s on the board: %s" % (path, _last_line(err)))
            if progress is not None:
                progress(min(i + PIECE, len(data)), len(data))
        _out, err = self.run("import os\nos.rename(%r, %r)\n" % (tmp, path),
                             doing="writing %s" % path)
        if err:
            raise BoardError("cannot write %s on the board: %s" % (path, _last_line(err)))

    def mkdirs(self, folder, doing=None):
        code = ("import os\np=''\nfor d in %r.strip('/').split('/'):\n p+='/'+d\n try:\n"
                "  os.mkdir(p)\n except OSError:\n  pass\n" % folder)
        self.run(code, doing=doing or "making %s" % folder)

    def hashes(self, folder):
        """{path: sha256 hex} of every file under `folder` on the board ({} if it is absent)."""
        code = ("import os,hashlib,binascii\n"
                "def w(d):\n"
                " try:\n  es=list(os.ilistdir(d))\n except OSError:\n  return\n"
                " for e in es:\n"
                "  p=d+'/'+e[0]\n"
                "  if e[1]&0x4000:\n   w(p)\n  else:\n"
                "   h=hashlib.sha256()\n   f=open(p,'rb')\n"
                "   while True:\n    b=f.read(512)\n    if not b:\n     break\n    h.update(b)\n"
                "   f.close()\n   print(p, binascii.hexlify(h.digest()).decode())\n"
                "w(%r)\n" % folder)
        out, err = self.run(code, doing="reading the files")
        if err:
            raise BoardError("cannot read the board's files: %s" % _last_line(err))
        return dict(line.rsplit(" ", 1) for line in out.splitlines() if " " in line)

    def remove_tree(self, folder):
        code = ("import os\n"
                "def rm(d):\n"
                " try:\n  es=list(os.ilistdir(d))\n except OSError:\n  return\n"
                " for e in es:\n  p=d+'/'+e[0]\n  if e[1]&0x4000:\n   rm(p)\n  else:\n"
                "   os.remove(p)\n os.rmdir(d)\n"
                "rm(%r)\n" % folder)
        self.run(code, doing="removing %s" % folder)

    def romfs_size(self):
        """Bytes of the board's ROMFS partition; 0 when it has none."""
        out, err = self.run("import vfs\nd=vfs.rom_ioctl(2,0) if hasattr(vfs,'rom_ioctl') and "
                            "vfs.rom_ioctl(1) else -1\nprint(-1 if isinstance(d,int) else "
                            "len(d))\n", doing="asking for the ROMFS partition")
        try:
            return max(int(out.strip().splitlines()[-1]), 0) if not err else 0
        except (ValueError, IndexError):
            return 0

    def restart(self):
        """Soft reset in the friendly REPL: the board runs main.py, so the firmware starts with
        what was just written (and a guarding board closes its REPL again). The line is closed
        afterwards. With `stay` the board is left as it is: the firmware stopped, the REPL open
        for the next verb (the board's own watchdog ends that within 30 minutes)."""
        if self.stay:
            if not getattr(self, "_told", False):
                import sys
                sys.stderr.write("the board stays in installer mode (not guarding) until a verb "
                                 "without --stay, or its watchdog, restarts it\n")
                self._told = True
            self.close()
            return
        try:
            self.t.exit_raw_repl()
            self.t.serial.write(b"\x04")
            time.sleep(0.2)
        except Exception:   # noqa: BLE001 - the board restarts either way
            pass
        self.close()


def _last_line(text):
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no answer"
