"""Compile every firmware module with mpy-cross and print a size table.

    python tools/build.py [--march xtensawin] [--out build]

Each firmware/*.py becomes build/<same path>.mpy. A module mpy-cross rejects stops the build
with its message, and so does a panel text with a glyph the display font lacks (tools/font.py:
the generated io/font_ja.py must be what the texts need). The table lists bytes per module and the total (the .mpy target is <= 96 KB).
"""
import argparse
import os
import subprocess

from mpyrun import FIRMWARE, ROOT, firmware_files, mpy_cross


def sources():
    return [os.path.relpath(p, FIRMWARE) for p in firmware_files()]


def check_font():
    """The display font holds every glyph the texts use (SystemExit naming what is missing)."""
    import font
    try:
        text = font.build()
    except font.FontError as e:
        raise SystemExit("font: %s" % e)
    with open(font.OUT, encoding="utf-8") as f:
        if f.read() != text:
            raise SystemExit("font: %s is out of date (a text uses a glyph it lacks, or the "
                             "glyph list changed): run python tools/font.py" % os.path.relpath(
                                 font.OUT, ROOT))


def compile_all(out_dir, march=None):
    """Compile every module; return [(relative path, source bytes, mpy bytes)] or raise."""
    check_font()
    rows = []
    for rel in sorted(sources()):
        src = os.path.join(FIRMWARE, rel)
        dst = os.path.join(out_dir, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        cmd = [mpy_cross(), "-o", dst, "-s", rel]
        if march:
            cmd.append("-march=" + march)
        proc = subprocess.run(cmd + [src], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit("mpy-cross rejects %s:\n%s" % (rel, proc.stderr.strip()))
        rows.append((rel, os.path.getsize(src), os.path.getsize(dst)))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--march", default="xtensawin", help="mpy-cross -march (ESP32: xtensawin)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
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
