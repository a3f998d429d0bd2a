# The image (issue 13): our out-of-tree MicroPython board definitions (boards/MIMAMORI_*) and the
# firmware's ROMFS image. The image itself cannot be built here (no ESP-IDF); this checks all that
# can be: the partition tables parse and add up within the flash, the romfs partition holds the
# ROMFS image we build, the manifest and board files say what the README says, every ROMFS module
# is bytecode for the target (xtensawin, ESP32 and ESP32-S3), and the image mounts on the real
# MicroPython interpreter with the firmware running from it.
import os
import re
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import build  # noqa: E402
import mpyrun  # noqa: E402

BOARDS = {"MIMAMORI_ESP32": ("esp32", 4), "MIMAMORI_ESP32_S3": ("esp32s3", 8)}
PARTITION_TABLE = 0x8000         # ESP-IDF's default CONFIG_PARTITION_TABLE_OFFSET, 4 KiB long
FIRST_FREE = PARTITION_TABLE + 0x1000
APP_ALIGN = 0x10000              # ESP-IDF: app partitions on 64 KiB boundaries
DATA_ALIGN = 0x1000              # data partitions on 4 KiB (a flash sector)
MIN_FILESYSTEM = 1024 * 1024     # littlefs after the last partition: /data (journal up to
                                 # 256 KiB, two state copies, the log), config, secrets, pins
XTENSAWIN = 9                    # MP_NATIVE_ARCH_XTENSAWIN in an .mpy header's arch bits


def _board(name, f):
    return os.path.join(ROOT, "boards", name, f)


def _text(name, f):
    with open(_board(name, f), encoding="utf-8") as fh:
        return fh.read()


def partitions(name):
    """The board's CSV as ESP-IDF's gen_esp32part.py reads it: name, type, subtype, offset,
    size (ints), comments and blank lines skipped."""
    rows = []
    for line in _text(name, "partitions-mimamori.csv").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        f = [c.strip() for c in line.split(",")]
        assert len(f) >= 5, line
        rows.append({"name": f[0], "type": f[1], "subtype": f[2], "offset": int(f[3], 0),
                     "size": int(f[4], 0)})
    return rows


def flash_mib(name):
    m = re.search(r"^CONFIG_ESPTOOLPY_FLASHSIZE_(\d+)MB=y$", _text(name, "sdkconfig.board"), re.M)
    return int(m.group(1))


@pytest.fixture(scope="module")
def romfs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("romfs"))
    return build.build_romfs(d, "xtensawin"), d


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_partition_table_parses_aligns_and_fits_the_flash(name):
    rows = partitions(name)
    assert [r["name"] for r in rows] == ["nvs", "phy_init", "factory", "romfs"]
    assert flash_mib(name) == BOARDS[name][1]
    flash = flash_mib(name) * 1024 * 1024
    at = FIRST_FREE
    for r in rows:
        align = APP_ALIGN if r["type"] == "app" else DATA_ALIGN
        assert r["offset"] % align == 0 and r["size"] % DATA_ALIGN == 0, r
        assert r["offset"] >= at, "%s overlaps the partition before it" % r["name"]
        at = r["offset"] + r["size"]
    assert at <= flash
    assert flash - at >= MIN_FILESYSTEM, "only %d KiB left for the filesystem" % ((flash - at) // 1024)
    app = [r for r in rows if r["type"] == "app"][0]
    assert app["size"] >= 0x1D0000      # the port's own ESP32 ROMFS table gives the app this much


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_romfs_partition_holds_the_firmware_image(name, romfs):
    image, _d = romfs
    r = [p for p in partitions(name) if p["name"] == "romfs"][0]
    # the port finds it by name; 0x8f is the subtype its own partitions-4MiB-romfs.csv uses
    assert r["type"] == "data" and int(r["subtype"], 0) == 0x8f
    assert os.path.getsize(image) <= r["size"], "the ROMFS image (%d B) exceeds the partition" % (
        os.path.getsize(image))
    assert r["offset"] % APP_ALIGN == 0    # mapped into the address space in 64 KiB pages


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_board_files_enable_romfs_and_name_their_own_table_and_manifest(name):
    chip = BOARDS[name][0]
    h = _text(name, "mpconfigboard.h")
    assert re.search(r"#define\s+MICROPY_VFS_ROM\s+\(1\)", h)
    cm = _text(name, "mpconfigboard.cmake")
    assert "include(boards/mpconfigboard_%s_common.cmake)" % chip in cm
    assert "${MICROPY_BOARD_DIR}/partitions-mimamori.csv" in cm
    assert "set(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/manifest.py)" in cm
    assert "${MICROPY_BOARD_DIR}/sdkconfig.board" in cm


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_manifest_parses_and_includes_the_ports_manifest(name):
    calls = []

    def rec(kind):
        return lambda *a, **k: calls.append((kind,) + a)
    ns = {k: rec(k) for k in ("include", "freeze", "require", "module", "package", "metadata")}
    exec(compile(_text(name, "manifest.py"), name + "/manifest.py", "exec"), ns)
    assert ("include", "$(PORT_DIR)/boards/manifest.py") in calls
    # nothing of ours frozen: the firmware ships as the ROMFS image
    assert [c for c in calls if c[0] in ("freeze", "module", "package")] == []


def test_every_romfs_module_is_xtensawin_bytecode(romfs):
    _image, d = romfs
    tree = os.path.join(d, "romfs")
    mods = []
    for dirpath, _dirs, files in os.walk(tree):
        for f in files:
            rel = os.path.relpath(os.path.join(dirpath, f), tree)
            if rel == "main.py":
                continue
            with open(os.path.join(dirpath, f), "rb") as fh:
                head = fh.read(4)
            assert head[0:1] == b"M" and head[1] == 6, rel        # .mpy version 6
            # arch bits: 0 = plain bytecode (runs on any port, in place from ROMFS), or xtensawin
            # native code; never another target's
            assert head[2] >> 2 in (0, XTENSAWIN), rel
            assert head[3] <= 31, rel        # small ints fit the ESP32's 31 bits
            mods.append(rel)
    expected = ["lib/" + r[:-3] + ".mpy" for r in build.sources() if r != "main.py"]
    assert sorted(mods) == sorted(expected)


def test_the_firmware_runs_from_the_romfs_image_on_real_micropython(romfs):
    image, _d = romfs
    main = "\n".join([
        "import vfs, sys",
        "f = open('/romfs.img', 'rb'); img = f.read(); f.close()",
        "vfs.mount(vfs.VfsRom(img), '/rom')",
        "sys.path.insert(0, '/rom/lib')",       # the board puts /rom/lib on sys.path itself
        "import mimamori.app, mimamori.service as s",
        "import mimamori",
        "print('FROM', mimamori.app.__file__)",
        "s.ROOT = '/nothing'",
        "s.info()",
    ])
    proc = mpyrun.run(main, "src", [(image, "/romfs.img")])
    assert "FROM /rom/lib/mimamori/app.mpy" in proc.stdout, proc.stdout + proc.stderr
    assert '"romfs": true' in proc.stdout, proc.stdout


def test_build_romfs_cli_writes_the_image(tmp_path):
    import subprocess
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "build.py"), "--romfs",
                           "--out", str(tmp_path)], capture_output=True, text=True, check=True)
    assert "ROMFS image:" in proc.stdout and (tmp_path / "romfs.img").exists()
    with open(tmp_path / "romfs.img", "rb") as f:
        assert f.read(3) == b"\xd2\xcd\x31"          # the ROMFS header mpremote writes
