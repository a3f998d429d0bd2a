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


def wrap(s, width, indent=0):
    """s cut into rows of at most `width` cells; rows after the first start with `indent`
    spaces (under the time stamp)."""
    rows = []
    row = ""
    used = 0
    for ch in s:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width:
            rows.append(row)
            row = " " * indent
            used = indent
        row += ch
        used += w
    rows.append(row)
    return rows


def clock(ms):
    """Board time since the start, e.g. 12:00:05 (hours can pass 24: fast-forward)."""
    s = ms // 1000
    return "%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60)
