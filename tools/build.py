"""Compile every firmware module with mpy-cross and print a size table; optionally pack the
firmware as a ROMFS image.

    python tools/build.py [--march xtensawin] [--out build] [--romfs]

Each firmware/*.py becomes build/<same path>.mpy. A module mpy-cross rejects stops the build
with its message. The table lists bytes per module and the total (the .mpy target is <= 96 KB).

--romfs also writes build/romfs.img (mpremote's ROMFS writer, the same as `mpremote romfs build`)
from that .mpy build: the package under lib/ (the board mounts the image at /rom and has
/rom/lib on sys.path) and main.py at its root. `mpremote romfs deploy build/romfs.img` writes it
to the board's romfs partition, where the bytecode runs in place from flash (README "The image").
`--march none` builds plain bytecode (the WebAssembly interpreter of the tests and the bench).
"""
import argparse
import contextlib
import io
import os
import shutil
import subprocess

from mpyrun import FIRMWARE, ROOT, firmware_files, mpy_cross


def sources():
    return [os.path.relpath(p, FIRMWARE) for p in firmware_files()]


def compile_all(out_dir, march=None):
    """Compile every module; return [(relative path, source bytes, mpy bytes)] or raise."""
    rows = []
    for rel in sorted(sources()):
        src = os.path.join(FIRMWARE, rel)
        dst = os.path.join(out_dir, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        cmd = [mpy_cross(), "-o", dst, "-s", rel]
        if march and march != "none":
            cmd.append("-march=" + march)
        proc = subprocess.run(cmd + [src], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit("mpy-cross rejects %s:\n%s" % (rel, proc.stderr.strip()))
        rows.append((rel, os.path.getsize(src), os.path.getsize(dst)))
    return rows


ROMFS_IMAGE = "romfs.img"


def romfs_tree(mpy_dir, tree_dir):
    """Lay the .mpy build out as the ROMFS holds it: lib/<package>.mpy, main.py at the root
    (main.py stays source: the board runs /main.py from its filesystem, this is its reference)."""
    if os.path.isdir(tree_dir):
        shutil.rmtree(tree_dir)
    for rel in sources():
        if rel == "main.py":
            continue
        src = os.path.join(mpy_dir, rel[:-3] + ".mpy")
        dst = os.path.join(tree_dir, "lib", rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
    shutil.copyfile(os.path.join(FIRMWARE, "main.py"), os.path.join(tree_dir, "main.py"))


def build_romfs(out_dir, march="xtensawin"):
    """Compile, lay out and pack the firmware; returns the image's path. The image is bytes of
    mpremote's VfsRomWriter (mpremote.romfs.make_romfs, what `mpremote romfs build` runs)."""
    from mpremote.romfs import make_romfs
    mpy_dir = os.path.join(out_dir, "mpy-" + march)
    compile_all(mpy_dir, march)
    tree = os.path.join(out_dir, "romfs")
    romfs_tree(mpy_dir, tree)
    with contextlib.redirect_stdout(io.StringIO()):      # it prints the tree it packs
        image = make_romfs(tree, mpy_cross=False)
    path = os.path.join(out_dir, ROMFS_IMAGE)
    with open(path, "wb") as f:
        f.write(image)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--march", default="xtensawin",
                    help="mpy-cross -march (ESP32 and ESP32-S3: xtensawin; none: bytecode only)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build"))
    ap.add_argument("--romfs", action="store_true",
                    help="also write <out>/romfs.img for `mpremote romfs deploy`")
    args = ap.parse_args()
    if args.romfs:
        path = build_romfs(args.out, args.march)
        print("ROMFS image: %s (%d bytes, -march=%s)" % (path, os.path.getsize(path), args.march))
        return
    rows = compile_all(args.out, args.march)
    width = max(len(r[0]) for r in rows)
    print("%-*s  %9s  %9s" % (width, "module (-march=%s)" % args.march, "source B", ".mpy B"))
    for rel, s, m in rows:
        print("%-*s  %9d  %9d" % (width, rel, s, m))
    total_src = sum(r[1] for r in rows)
    total_mpy = sum(r[2] for r in rows)
    print("%-*s  %9d  %9d" % (width, "total (%d modules)" % len(rows), total_src, total_mpy))
    print("compiled .mpy total: %.1f KB (target <= 96 KB) in %s" % (total_mpy / 1024, args.out))


if __name__ == "__main__":
    main()
