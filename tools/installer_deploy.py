"""Putting firmware on a board: the ROMFS image (`mpremote romfs deploy`), or, on a board without a
romfs partition, the .mpy files (only those that changed), and `flash` (esptool: erase, write,
verify a MicroPython image the installer supplies).

The firmware package goes to /rom/lib/mimamori (ROMFS: bytecode runs in place from flash, like
frozen code) or /lib/mimamori (.mpy: loaded into RAM); main.py always to the flash's /main.py.
Config, secrets and /data are never touched here: an update keeps the house as it was.
"""
import contextlib
import hashlib
import io
import os
import queue
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from installer_board import BoardError  # noqa: E402
from mpyrun import mpy_cross  # noqa: E402

FIRMWARE = os.path.join(ROOT, "firmware")
# Where esptool writes a MicroPython image (the port's flash layout: the ESP32's second-stage
# bootloader sits at 0x1000, the S2/S3/C3's at 0x0).
IMAGE_OFFSET = {"esp32": 0x1000, "esp32s2": 0x1000, "esp32s3": 0x0, "esp32c3": 0x0}
ESP_IMAGE_MAGIC = 0xE9     # first byte of an ESP-IDF app/bootloader image (esptool's check too)


def firmware_version(firmware=FIRMWARE):
    """VERSION from <firmware>/mimamori/__init__.py, read as text (no import)."""
    with open(os.path.join(firmware, "mimamori", "__init__.py"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("VERSION"):
                return line.split("=", 1)[1].strip().strip("\"'")
    raise BoardError("%s: no VERSION in mimamori/__init__.py" % firmware)


def compile_package(firmware, out_dir):
    """Every firmware/mimamori/**.py as bytecode .mpy under out_dir/tree/lib/mimamori (bytecode:
    it runs on every port and on the virtual board). {board path: host path}. A module whose
    source is unchanged since the last run (out_dir/sources.json: sha256 of each source) is not
    compiled again; a .mpy whose source is gone is removed."""
    import json
    manifest_path = os.path.join(out_dir, "sources.json")
    try:
        with open(manifest_path) as f:
            before = json.load(f)
    except (OSError, ValueError):
        before = {}
    after = {}
    files = {}
    pkg = os.path.join(firmware, "mimamori")
    for dirpath, _dirs, names in os.walk(pkg):
        for name in sorted(names):
            if not name.endswith(".py"):
                continue
            src = os.path.join(dirpath, name)
            rel = os.path.relpath(src, firmware)[:-3] + ".mpy"
            dst = os.path.join(out_dir, "tree", "lib", rel)
            with open(src, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            after[rel] = digest
            files["/lib/" + rel.replace(os.sep, "/")] = dst
            if before.get(rel) == digest and os.path.exists(dst):
                continue
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            p = subprocess.run([mpy_cross(), "-o", dst, "-s", os.path.relpath(src, firmware),
                                src], capture_output=True, text=True)
            if p.returncode:
                raise BoardError("mpy-cross rejects %s: %s" % (rel, p.stderr.strip()))
    for dirpath, _dirs, names in os.walk(os.path.join(out_dir, "tree", "lib")):
        for name in names:
            path = os.path.join(dirpath, name)
            if os.path.relpath(path, os.path.join(out_dir, "tree", "lib")) not in after:
                os.remove(path)
    with open(manifest_path, "w") as f:
        json.dump(after, f)
    return files


def build_dir(firmware, what):
    """build/<what>, or build/<what>-<hash of the path> for another firmware folder (an update
    from elsewhere), so each keeps its own compiled files. $MIMAMORI_BUILD moves build/."""
    name = what
    if os.path.abspath(firmware) != FIRMWARE:
        name += "-" + hashlib.sha256(os.path.abspath(firmware).encode()).hexdigest()[:8]
    return os.path.join(os.environ.get("MIMAMORI_BUILD") or os.path.join(ROOT, "build"), name)


def build_romfs(firmware, image_path):
    """The ROMFS image of the firmware package (mpremote's own writer); its size in bytes."""
    from mpremote.romfs import make_romfs
    stage = build_dir(firmware, "installer-mpy")
    compile_package(firmware, stage)
    with contextlib.redirect_stdout(io.StringIO()):
        image = make_romfs(os.path.join(stage, "tree"), mpy_cross=False)
    os.makedirs(os.path.dirname(os.path.abspath(image_path)), exist_ok=True)
    with open(image_path, "wb") as f:
        f.write(image)
    return len(image)


def mpremote():
    exe = os.path.join(os.path.dirname(sys.executable), "mpremote")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "mpremote"]


def romfs_deploy(port, image_path, timeout, progress):
    """`mpremote romfs deploy IMAGE`, its "Writing at offset N" lines fed to progress(bytes
    done). mpremote waits for ever on a board that stops answering over a pseudo-terminal, so
    `timeout` seconds without a line kill it: BoardError saying how far it got."""
    size = os.path.getsize(image_path)
    proc = subprocess.Popen(mpremote() + ["connect", port, "romfs", "deploy", image_path],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = queue.Queue()

    def reader():
        buf = b""
        while True:
            c = proc.stdout.read(1)
            if not c:
                break
            if c in b"\r\n":
                if buf:
                    lines.put(buf.decode("utf-8", "replace"))
                buf = b""
            else:
                buf += c
        if buf:
            lines.put(buf.decode("utf-8", "replace"))
        lines.put(None)
    threading.Thread(target=reader, daemon=True).start()
    done = 0
    tail = []
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            proc.kill()
            proc.wait()
            raise BoardError("the board stopped answering during deploy (%d of %d bytes "
                             "written): check its power and USB cable, then run deploy again"
                             % (done, size))
        if line is None:
            break
        tail = (tail + [line])[-3:]
        if line.startswith("Writing at offset"):
            done = min(int(line.split()[-1]) + 4096, size)
            progress(done)
    if proc.wait() != 0 or not any("deployed" in t for t in tail):
        raise BoardError("romfs deploy failed: %s" % (tail[-1] if tail else "no output"))
    progress(size)


def changed_files(board, files):
    """The subset of {board path: host path} whose content differs on the board."""
    have = board.hashes("/lib/mimamori")
    out = {}
    for dst, src in files.items():
        with open(src, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if have.get(dst) != digest:
            out[dst] = src
    return out


# --- flash (esptool) ---------------------------------------------------------------------------

def check_image(image):
    if not os.path.isfile(image):
        raise BoardError("no image file %s (build it as README \"Installing a controller\" "
                         "says, or download it)" % image)
    with open(image, "rb") as f:
        head = f.read(1)
    if head != bytes([ESP_IMAGE_MAGIC]):
        raise BoardError("%s is not an ESP32 firmware image (it does not start with 0xE9)"
                         % image)


def esptool():
    exe = os.path.join(os.path.dirname(sys.executable), "esptool")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "esptool"]


def flash_commands(port, image, chip="esp32", baud=460800, connect_attempts=None):
    """The esptool runs of `flash`: erase the whole flash (old firmware, old filesystem: a
    fresh board), write the image, verify it against the file."""
    if chip not in IMAGE_OFFSET:
        raise BoardError("unknown chip %r (one of %s)" % (chip, ", ".join(sorted(IMAGE_OFFSET))))
    base = esptool() + ["--chip", chip, "--port", port, "--baud", str(baud)]
    if connect_attempts is not None:
        base += ["--connect-attempts", str(connect_attempts)]
    offset = "0x%x" % IMAGE_OFFSET[chip]
    return [base + ["erase-flash"],
            base + ["write-flash", offset, image],
            base + ["verify-flash", offset, image]]
