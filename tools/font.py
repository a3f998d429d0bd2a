#!/usr/bin/env python3
"""Build step: the panel's Japanese bitmap font (firmware/mimamori/io/font_ja.py).

MicroPython's framebuf only has an 8x8 ASCII font, so the display draws with a font generated
here from 美咲フォント (fonts-misaki, Debian), an 8x8 Japanese bitmap font: its TTF carries the
bitmaps themselves as an embedded 8-pixel strike (EBLC/EBDT tables), which this script reads
directly (no rasteriser, no Pillow: the pixels are the font designer's own). Kanji and kana are
8x8 (16 per line on the 128-pixel OLED), ASCII 4x8 (32 per line).

Only the glyphs the panel can show are kept:
- every character of every string constant in firmware/ (the resident texts: core/texts.py,
  core/vocab.py labels, the event and trouble labels wherever they still are; docstrings and
  comments are not texts and are skipped);
- printable ASCII, hiragana, katakana and the punctuation below;
- ROOM_KANJI: the kanji an installer may use in zone names (room and sensor words, listed and
  documented in README "Display"); a config zone name with a character outside the font is
  refused by the validator (store/config_zones.py);
- the zone names of the sample configs (boards/*/config*.json).
A needed character the source font does not have FAILS THE BUILD, naming the text it is in: the
board never meets a glyph it cannot draw.

    python tools/font.py            # write firmware/mimamori/io/font_ja.py
    python tools/font.py --check    # exit 1 if the checked-in module is not what would be built

The module is three bytes blobs: CODES (2 bytes per glyph, big-endian code points, sorted, for a
binary search), OFFS (2 bytes per glyph + 1: where each glyph starts in GLYPHS; the difference is
its width) and GLYPHS (one byte per pixel column, least significant bit at the top: the SSD1306's
GDDRAM layout and framebuf's MONO_VLSB, so a glyph is copied into a page as it is).
"""
import argparse
import ast
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIRMWARE = os.path.join(ROOT, "firmware")
OUT = os.path.join(FIRMWARE, "mimamori", "io", "font_ja.py")
SOURCE_FONT = "/usr/share/fonts/truetype/misaki/misaki_gothic.ttf"   # Debian fonts-misaki
HEIGHT = 8

ASCII = "".join(chr(c) for c in range(0x20, 0x7F))
HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x3094))
KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30F7)) + "ー"
PUNCTUATION = "、。・「」『』（）〔〕［］【】〜！？：；／＋－＝％＃＊＆＠…‥々〇→←↑↓○●◎□■△▲▽▼◇◆☆★※　"
FULLWIDTH_DIGITS = "０１２３４５６７８９"
# Kanji for zone names (rooms, places, sensors, floors), beyond what the texts already use. An
# installer naming a zone with a kanji outside the font gets a validator error naming the zone;
# add the kanji here, run this script, and commit the regenerated module.
ROOM_KANJI = (
    "玄関勝手口居間台所和洋室寝子供客間書斎浴風呂洗面脱衣場便所手洗廊下階段上下"
    "一二三四五六七八九十百階地屋根裏納戸倉庫物置車庫駐輪車門塀庭裏表前後左右東西南北中"
    "奥側大小新旧主親父母祖兄弟姉妹息娘離店事務所作業応接仏茶食堂家族共用"
    "窓扉戸口出入雨錠鍵金庫振動熱煙感知器空間赤外線人体ガ硝子破壊非常救急取消本体"
    "電源盤分電気水道湯給湯器機械警報設備装置監視番号第棟号室制御"
)
EXTRA = ASCII + HIRAGANA + KATAKANA + PUNCTUATION + FULLWIDTH_DIGITS + ROOM_KANJI


class FontError(Exception):
    pass


# ---- the source font: cmap + the embedded 8-pixel bitmap strike --------------------------

def _tables(d):
    if d[:4] not in (b"\x00\x01\x00\x00", b"true"):
        raise FontError("not a TrueType font")
    n = struct.unpack(">H", d[4:6])[0]
    out = {}
    for i in range(n):
        tag, _cs, off, _ln = struct.unpack(">4sIII", d[12 + 16 * i:28 + 16 * i])
        out[tag.decode("latin-1")] = off
    return out


def _cmap(d, o):
    """Unicode BMP -> glyph id, from the (3, 1) format 4 subtable."""
    nt = struct.unpack(">H", d[o + 2:o + 4])[0]
    for i in range(nt):
        pid, eid, off = struct.unpack(">HHI", d[o + 4 + 8 * i:o + 12 + 8 * i])
        s = o + off
        if (pid, eid) != (3, 1) or struct.unpack(">H", d[s:s + 2])[0] != 4:
            continue
        segx2 = struct.unpack(">H", d[s + 6:s + 8])[0]
        seg = segx2 // 2
        ends = struct.unpack(">%dH" % seg, d[s + 14:s + 14 + segx2])
        starts = struct.unpack(">%dH" % seg, d[s + 16 + segx2:s + 16 + 2 * segx2])
        deltas = struct.unpack(">%dh" % seg, d[s + 16 + 2 * segx2:s + 16 + 3 * segx2])
        ro = s + 16 + 3 * segx2
        roffs = struct.unpack(">%dH" % seg, d[ro:ro + segx2])
        cmap = {}
        for k in range(seg):
            for c in range(starts[k], ends[k] + 1):
                if c == 0xFFFF:
                    continue
                if roffs[k] == 0:
                    g = (c + deltas[k]) & 0xFFFF
                else:
                    a = ro + 2 * k + roffs[k] + 2 * (c - starts[k])
                    g = struct.unpack(">H", d[a:a + 2])[0]
                    if g:
                        g = (g + deltas[k]) & 0xFFFF
                if g:
                    cmap[c] = g
        return cmap
    raise FontError("no Unicode (3, 1) format 4 cmap")


def _strike(d, eblc, ebdt, ppem):
    """glyph id -> (width, rows as ints, bit x = column x) from the ppem-pixel strike."""
    nstrikes = struct.unpack(">I", d[eblc + 4:eblc + 8])[0]
    for s in range(nstrikes):
        b = eblc + 8 + 48 * s
        ista, _isz, nst = struct.unpack(">III", d[b:b + 12])
        ascender = struct.unpack(">b", d[b + 16:b + 17])[0]
        if d[b + 44] != ppem or d[b + 46] != 1:      # ppemX, bitDepth 1
            continue
        glyphs = {}
        for k in range(nst):
            a = eblc + ista + 8 * k
            first, last, add = struct.unpack(">HHI", d[a:a + 8])
            h = eblc + ista + add
            ifmt, imgfmt, imgoff = struct.unpack(">HHI", d[h:h + 8])
            for g in range(first, last + 1):
                if ifmt == 1 and imgfmt == 2:       # offsets; small metrics + bit-aligned data
                    p = h + 8 + 4 * (g - first)
                    s0, s1 = struct.unpack(">II", d[p:p + 8])
                    if s1 == s0:
                        continue
                    q = ebdt + imgoff + s0
                    hh, ww, bx, by, adv = struct.unpack(">BBbbB", d[q:q + 5])
                    q += 5
                elif ifmt == 2 and imgfmt == 5:     # constant size; metrics in the index
                    size = struct.unpack(">I", d[h + 8:h + 12])[0]
                    hh, ww, bx, by, adv = struct.unpack(">BBbbB", d[h + 12:h + 17])
                    q = ebdt + imgoff + size * (g - first)
                else:
                    raise FontError("EBLC index format %d / image format %d not handled" % (
                        ifmt, imgfmt))
                nbytes = (hh * ww + 7) // 8
                bits = int.from_bytes(d[q:q + nbytes], "big")
                top = ascender - by                 # rows above the glyph's box in the cell
                rows = [0] * HEIGHT
                for y in range(hh):
                    for x in range(ww):
                        if bits >> (nbytes * 8 - 1 - (y * ww + x)) & 1:
                            cy, cx = top + y, bx + x
                            if 0 <= cy < HEIGHT and 0 <= cx < adv:
                                rows[cy] |= 1 << cx
                glyphs[g] = (adv, rows)
        return glyphs
    raise FontError("no %d-pixel monochrome bitmap strike" % ppem)


def load_source(path=SOURCE_FONT):
    """{code point: (width, [HEIGHT row bitmasks])} for every glyph of the source font's
    8-pixel strike."""
    try:
        with open(path, "rb") as f:
            d = f.read()
    except OSError as e:
        raise FontError("%s: %s (Debian package fonts-misaki)" % (path, e.strerror))
    t = _tables(d)
    for need in ("cmap", "EBLC", "EBDT"):
        if need not in t:
            raise FontError("%s has no %s table" % (path, need))
    cmap = _cmap(d, t["cmap"])
    strike = _strike(d, t["EBLC"], t["EBDT"], HEIGHT)
    return {c: strike[g] for c, g in cmap.items() if g in strike}


# ---- what the panel needs ------------------------------------------------------------------

def _docstring_ids(tree):
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def is_japanese(s):
    """A resident-facing text: it has kana, kanji or full-width characters (a string of ASCII
    and symbols, such as a byte-order mark, is not shown on the panel)."""
    for ch in s:
        c = ord(ch)
        if 0x3000 <= c <= 0x9FFF or 0xFF00 <= c <= 0xFFEF:
            return True
    return False


def firmware_texts():
    """[(where, text)]: every Japanese string constant in firmware/ (not docstrings)."""
    out = []
    for dirpath, _dirs, files in os.walk(FIRMWARE):
        for f in sorted(files):
            if not f.endswith(".py"):
                continue
            path = os.path.join(dirpath, f)
            if os.path.abspath(path) == os.path.abspath(OUT):
                continue
            with open(path, encoding="utf-8") as fh:
                tree = ast.parse(fh.read(), path)
            docs = _docstring_ids(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and id(node) not in docs and is_japanese(node.value):
                    out.append(("%s:%d" % (os.path.relpath(path, ROOT), node.lineno), node.value))
    return sorted(out)


def sample_zone_names():
    out = []
    boards = os.path.join(ROOT, "boards")
    for b in sorted(os.listdir(boards)):
        for name in sorted(os.listdir(os.path.join(boards, b))):
            if not (name.startswith("config") and name.endswith(".json")):
                continue
            with open(os.path.join(boards, b, name), encoding="utf-8") as f:
                cfg = json.load(f)
            for i, z in enumerate(cfg.get("zones", [])):
                out.append(("boards/%s/%s zones[%d].name" % (b, name, i), z["name"]))
    return out


def needed():
    """[(where, text)] every text the font must draw."""
    return firmware_texts() + sample_zone_names() + [("tools/font.py EXTRA", EXTRA)]


def missing(texts, have):
    """['<where>: <char> U+XXXX not in the font (in "<text>")'] for characters outside `have`;
    line breaks and tabs are not drawn."""
    out = []
    for where, text in texts:
        for ch in sorted(set(text)):
            if ch not in have and ch not in "\n\r\t":
                shown = text if len(text) <= 40 else text[:37] + "..."
                out.append("%s: %r U+%04X is not in the font (in %r)" % (where, ch, ord(ch), shown))
    return out


# ---- the module ------------------------------------------------------------------------------

def columns(width, rows):
    """A glyph as pixel columns, one byte each, bit y = row y (MONO_VLSB / GDDRAM)."""
    out = bytearray(width)
    for y, row in enumerate(rows):
        for x in range(width):
            if row >> x & 1:
                out[x] |= 1 << y
    return bytes(out)


def _blob(name, data, per_line=32):
    lines = ["%s = (" % name]
    for i in range(0, len(data), per_line):
        lines.append('    b"%s"' % "".join("\\x%02x" % b for b in data[i:i + per_line]))
    lines.append(")")
    return "\n".join(lines)


def build(source=None):
    """The module's text, or FontError listing every character the source font lacks."""
    if source is None:
        source = load_source()
    texts = needed()
    bad = missing(texts, set(chr(c) for c in source))
    if bad:
        raise FontError("glyphs missing from %s:\n  %s" % (os.path.basename(SOURCE_FONT),
                                                          "\n  ".join(bad)))
    chars = sorted(set("".join(t for _w, t in texts)) - set("\n\r\t"))
    if any(ord(ch) > 0xFFFF for ch in chars):
        raise FontError("only the Basic Multilingual Plane is drawn")
    codes = bytearray()
    offs = bytearray()
    glyphs = bytearray()
    for ch in chars:
        width, rows = source[ord(ch)]
        codes += struct.pack(">H", ord(ch))
        offs += struct.pack(">H", len(glyphs))
        glyphs += columns(width, rows)
    offs += struct.pack(">H", len(glyphs))
    head = (
        "# GENERATED by tools/font.py from 美咲フォント (fonts-misaki, misaki_gothic.ttf, its 8-pixel\n"
        "# embedded bitmaps; free licence: unlimited use, copy and distribution). Do not edit:\n"
        "# change the texts or tools/font.py and run `python tools/font.py`.\n"
        "# %d glyphs, %d bytes of pixels. CODES: big-endian code points, sorted; OFFS: where each\n"
        "# glyph starts in GLYPHS (the next one's start - its own = its width); GLYPHS: one byte\n"
        "# per pixel column, bit 0 at the top (SSD1306 GDDRAM / framebuf MONO_VLSB).\n"
        % (len(chars), len(glyphs)))
    body = "\n".join([
        "HEIGHT = %d" % HEIGHT,
        "COUNT = %d" % len(chars),
        _blob("CODES", codes),
        _blob("OFFS", offs),
        _blob("GLYPHS", glyphs),
    ])
    return head + body + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if %s is not what this script builds" % os.path.relpath(OUT, ROOT))
    a = ap.parse_args(argv)
    try:
        text = build()
    except FontError as e:
        print("font: %s" % e, file=sys.stderr)
        return 1
    rel = os.path.relpath(OUT, ROOT)
    if a.check:
        try:
            with open(OUT, encoding="utf-8") as f:
                same = f.read() == text
        except OSError:
            same = False
        if not same:
            print("font: %s is out of date (a text uses a glyph it lacks, or the glyph list "
                  "changed): run python tools/font.py" % rel, file=sys.stderr)
            return 1
        print("font: %s is up to date" % rel)
        return 0
    with open(OUT + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(OUT + ".tmp", OUT)
    print("font: wrote %s (%d bytes)" % (rel, len(text.encode())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
