"""Terminal cell width of mixed Japanese / ASCII text: CJK characters take two cells, so padding
and clipping by len() would push every column after a zone name out of line."""
import unicodedata


def cells(s):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def fit(s, width):
    """s clipped or padded with spaces to exactly `width` cells."""
    out = []
    used = 0
    for ch in s:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out) + " " * (width - used)


def _w(ch):
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _pieces(s):
    """s cut after each run of spaces: the words (an ASCII token like site=site-001 or a time
    stamp, a Japanese word like ゾーン3 or リビング窓), each with the spaces after it."""
    out = []
    cur = ""
    for ch in s:
        if cur and cur[-1] == " " and ch != " ":
            out.append(cur)
            cur = ""
        cur += ch
    if cur:
        out.append(cur)
    return out


def wrap(s, width, indent=0):
    """s cut into rows of at most `width` cells at word boundaries (spaces), never inside a
    word unless the word alone is wider than a row (then it is cut where the row ends). Rows
    after the first start with `indent` spaces (under the time stamp); the spaces a row ends
    with are dropped."""
    rows = []
    row, used = "", 0
    for piece in _pieces(s):
        pw = cells(piece)
        bare = cells(piece.rstrip(" "))
        if used + bare > width and row.strip():
            rows.append(row.rstrip(" "))
            row, used = " " * indent, indent
            if piece.strip() == "":
                continue
        while used + bare > width:          # a token wider than a whole row: cut it
            room = width - used
            head, taken = "", 0
            for ch in piece:
                if taken + _w(ch) > room:
                    break
                head += ch
                taken += _w(ch)
            rows.append(row + head)
            piece = piece[len(head):]
            pw, bare = cells(piece), cells(piece.rstrip(" "))
            row, used = " " * indent, indent
        row += piece
        used += pw
    rows.append(row.rstrip(" "))
    return rows


def clock(ms):
    """Board time since the start, e.g. 12:00:05 (hours can pass 24: fast-forward)."""
    s = ms // 1000
    return "%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60)
