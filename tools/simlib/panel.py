"""The interactive panel of `make sim` (curses): the controller's panel as a resident sees it
(display line, mode LEDs, buzzer, siren, flash light, trouble LED, alarm memory), a key for
every sensor of the house, the resident's keypad, fast-forward keys, keys to stop the broker
and to cut the telephone line; the monitoring centre's console (Japanese, the operator's
surface) and the log (English: the firmware's own log, the operations, sensors, outages).

Screens of every size: on a wide terminal the panel and both panes side by side; on a small one
(80x24 is the floor) views switched with Tab: パネル (with the centre's newest lines under it, so
the centre's answer is in sight), センター, ログ; ↑/↓ or PgUp/PgDn scroll a pane, End returns to
the newest. compose(site, controls, w, h) builds the screen as rows of (x, text, style)
segments with no curses at all, so the layout is tested as it is drawn.

Room for more: Controls.extra_keys (a key, its legend, what it does: a card tap) and VIEWS
(another view, e.g. the OLED drawn in the terminal) are the places to add them.

The loop runs the firmware in real time (each pass is one 10 ms firmware loop) and redraws ten
times a second; keys are read without blocking, so the firmware never waits for the terminal.
"""
import select
import sys
import time

from simlib import devices
from simlib.site import SAMPLE_CARD, SAMPLE_CODE, Site
from simlib.text import cells, clock, fit, wrap

ZONE_KEYS = "abcdefghijklmnopqrstuvwxyz"
MINUTE = 60000
HOUR = 3600000
DRAW_S = 0.1
PANEL_W = 80            # the panel's columns; the panes go beside it when the terminal is wider
SIDE_MIN = 40           # columns a pane beside the panel needs
MIN_W, MIN_H = 80, 24   # the smallest terminal the layout is made for
LABEL_W = 8             # the column where values start after 表示 / モード / ブザー

MODE_LEDS = (("disarmed", "解除"), ("away", "外出"), ("stay", "在宅セット"), ("partial", "部分セット"))
BUZZER_JA = {
    "off": "消音",
    "exit": "ピッ…ピッ… (1秒毎) 外出セット中",
    "entry": "ピピピピ 解除・キャンセルしてください",
    "glass": "ピロピロ ガラス破壊",
    "fire": "ピピピ・ピピピ 火災 (temporal-3)",
    "alarm": "ピーー 連続 異常",
    "trouble": "ピッ (30秒毎) 故障",
    "remind": "ピピッ (10秒毎) お知らせ",
}
# the key legend, one item per key (packed into rows at word boundaries to fit the width)
LEGEND = ("0-9 暗証番号 (BS 消去)", "L ライフカード", "A 外出セット", "S 在宅セット",
          "P 部分セット", "F 強制セット", "D 解除", "C キャンセル", "R 異常リセット",
          "> +1分", "+ +1時間", "* +12時間", "B ブローカー停止/復旧", "T 電話回線切断/復旧",
          "Tab 画面切替", "↑↓ スクロール", "Q 終了")
SCROLL_KEYS = {"KEY_UP": 1, "KEY_DOWN": -1, "KEY_PPAGE": 10, "KEY_NPAGE": -10}


class Controls:
    """What each key does: to the site (sensors, keypad, operations, time, outages) and to the
    screen (which view, how far a pane is scrolled back)."""

    def __init__(self, site):
        self.site = site
        self.code = ""            # digits typed on the keypad, used by the next operation
        self.force = False        # the next arming bypasses open zones (force-arm)
        self.card = False         # the sample ライフカード was presented: the next operation
        self.answer = "キーを押してください (暗証番号を入れなければ %s)" % SAMPLE_CODE
        self.jumped_ms = 0
        self.quit = False
        self.view = 0             # index into views()
        self.back = {}            # pane name -> rows scrolled back from the newest
        self.extra_keys = {}      # key -> (legend item or None, fn(site)): card taps ...
        self.extra_legend = []    # legend items for a group of extra keys (the keypad's)
        self.extra_views = []     # (tab name, fn(site, w, h) -> rows): e.g. the OLED
        self.zone_keys = {}
        for i, z in enumerate(site.config["zones"][:len(ZONE_KEYS)]):
            self.zone_keys[ZONE_KEYS[i]] = z["id"]
        self._ops = {"A": ("arm", "away"), "S": ("arm", "stay"), "P": ("arm", "partial"),
                     "D": ("disarm", None), "C": ("cancel", None), "R": ("reset", None)}
        self._jumps = {">": MINUTE, "+": HOUR, "*": 12 * HOUR}
        self._house_extras(site)

    def _house_extras(self, site):
        """What the house has beyond the sample board: the resident's keypad and OLED (the
        display issue: board.keypad, board.oled, board.oled_rows(), site.press_key(key, ms),
        simlib/oled.py) and the card reader (the PN532 issue: site.reader, site.tap_card(card,
        kind) -> the panel's answer)."""
        board = site.board
        if getattr(board, "keypad", None) is not None:     # the real keypad takes its keys
            from simlib import oled
            for ch, k in oled.KEYS.items():
                self.extra_keys[ch] = (None, lambda s, k=k: s.press_key(
                    k, oled.HOLD_MS.get(k, oled.PRESS_MS)))
            self.extra_legend.append(oled.KEY_HELP)
        if getattr(board, "oled", None) is not None:
            self.extra_views.append(("OLED", oled_view))
        if getattr(site, "reader", None):
            from simlib import site as site_mod
            for ch, card, kind, legend in (
                    ("M", SAMPLE_CARD, "mifare", "M MIFAREカード"),
                    ("N", getattr(site_mod, "SAMPLE_FELICA", None), "felica", "N FeliCaカード"),
                    ("U", getattr(site_mod, "STRANGER_CARD", None), "mifare", "U 未登録カード")):
                self.extra_keys[ch] = (legend, lambda s, card=card, kind=kind: self._tap(
                    s, card, kind))

    def _tap(self, site, card, kind):
        self.answer = site.tap_card(card, kind) or "カードを読み取れませんでした"

    def views(self):
        return ["パネル", "センター", "ログ"] + [name for name, _fn in self.extra_views]

    def pane(self):
        """The pane the scroll keys move: the one in view (the centre's from the panel view)."""
        return {"ログ": "log"}.get(self.views()[self.view], "centre")

    def key(self, ch):
        s = self.site
        if ch in self.extra_keys:
            self.extra_keys[ch][1](s)
        elif ch in self.zone_keys:
            s.actuate(self.zone_keys[ch])
        elif ch.isdigit():
            self.code = (self.code + ch)[-8:]
        elif ch in ("\b", "\x7f", "KEY_BACKSPACE"):
            self.code = self.code[:-1]
        elif ch in self._ops:
            action, mode = self._ops[ch]
            self.answer = s.operate(action, mode=mode,
                                    code=None if self.card else (self.code or None),
                                    card=SAMPLE_CARD if self.card else None,
                                    force=self.force and action == "arm")
            self.code = ""
            self.card = False
            if action == "arm":
                self.force = False
        elif ch == "F":
            self.force = not self.force
        elif ch == "L":
            self.card = not self.card
        elif ch in self._jumps:
            s.skip(self._jumps[ch])
            self.jumped_ms += self._jumps[ch]
        elif ch == "B":
            s.set_path("mqtt", not s.path("mqtt").is_up)
        elif ch == "T" and s.landline:
            s.set_path("landline", not s.path("landline").is_up)
        elif ch in ("\t", "KEY_BTAB"):
            self.view = (self.view + (1 if ch == "\t" else -1)) % len(self.views())
        elif ch in SCROLL_KEYS:
            p = self.pane()
            self.back[p] = max(0, self.back.get(p, 0) + SCROLL_KEYS[ch])
        elif ch == "KEY_END":
            self.back[self.pane()] = 0
        elif ch == "Q":
            self.quit = True


def handoffs_pending(app):
    """Reports handed to a further path and not delivered yet (the panel's ハンドオフ)."""
    return app.router.handed_off_pending()


def pack(items, width, sep="   "):
    """Legend items into rows of at most `width` cells, an item never split."""
    rows, row = [], ""
    for it in items:
        if row and cells(row + sep + it) > width:
            rows.append(row)
            row = ""
        row = row + sep + it if row else it
    return rows + ([row] if row else [])


# ---- the screen as rows of segments ----------------------------------------------------------
# A row is a list of (x, text, style); style: "" plain, "bold", "dim", "red", "green", "title".

def led(on, blink=False):
    if blink:
        on = int(time.monotonic() * 2) % 2 == 0
    return "●" if on else "○"


def panel_rows(site, c, w):
    """The resident's panel in `w` columns (80 is enough for everything)."""
    app = site.app
    r = app.rendered
    rows = []
    rows.append([(0, "時計 %s  経過 %s%s" % (
        app.wall.iso(), clock(site.elapsed_ms()),
        "  早送り計 %s" % clock(c.jumped_ms) if c.jumped_ms else ""), "")])
    rows.append([(0, "表示", "bold"), (LABEL_W, app.display(site.board.now()),
                                      "red" if r.siren or r.alarm_memory else "bold")])
    row, x = [(0, "モード", "bold")], LABEL_W
    for mode, label in MODE_LEDS:
        on = r.mode == mode
        t = "%s %s" % (led(on, blink=on and r.arming), label)
        row.append((x, t, "green" if on else ""))
        x += cells(t) + 2
    if r.arming:
        row.append((x, "(点滅: 外出セット中)", "green"))
    rows.append(row)
    rows.append([(0, "ブザー", "bold"), (LABEL_W, BUZZER_JA.get(r.buzzer, r.buzzer),
                                      "red" if r.buzzer != "off" else "")])
    row, x = [], 0
    for label, on, blink in (("サイレン", r.siren, False), ("フラッシュ", r.flash, True),
                             ("故障", r.trouble, False), ("異常記憶", r.alarm_memory, False)):
        # a blinking LED is also named as such: a glance (or a capture) may catch it dark
        t = "%s %s%s" % (led(on, blink=on and blink), label, "(点滅)" if on and blink else "")
        row.append((x, t, "red" if on else ""))
        x += cells(t) + 3
    rows.append(row)
    if c.card:
        auth = "ライフカード %s (次の操作)" % SAMPLE_CARD
    else:
        auth = "*" * len(c.code) if c.code else "(%s)" % SAMPLE_CODE
    rows.append([(0, "暗証番号 %s%s   応答 %s" % (
        auth, " 次は強制セット" if c.force else "", c.answer), "")])
    mq = site.path("mqtt")
    rows.append([(0, "通信  %s %s  未送信 %d  ハンドオフ %d" % (
        mq.describe(), "接続中" if app.link.connected else ("停止中" if not mq.is_up else
                                                            "接続待ち"),
        app.journal.pending_count(), handoffs_pending(app)), "")])
    if site.landline:
        ll = site.path("landline")
        rows.append([(0, "      電話回線 %s  (Contact ID, センター %s)" % (
            "切断中" if not ll.is_up else "通話中" if ll.in_call else "待機", ll.number), "")])
    rows += zone_rows(site, c, w)
    last = ZONE_KEYS[max(1, min(len(c.zone_keys), len(ZONE_KEYS))) - 1]
    items = ["a-%s センサー (上の表)" % last] + list(LEGEND[:-1]) + \
        [legend for legend, _fn in c.extra_keys.values() if legend] + c.extra_legend + \
        [LEGEND[-1]]
    rows += [[(0, line, "dim")] for line in pack(items, w)]
    return rows


def zone_rows(site, c, w):
    keys = list(c.zone_keys.items())
    n = (len(keys) + 1) // 2
    col_w = w // 2
    out = [[] for _ in range(n)]
    for i, (k, zid) in enumerate(keys):
        z = site.zones[zid]
        active = site.board.is_active(zid)
        dev = devices.device_for(z)
        state = ("開" if active else "閉") if z["type"] == "magnet" else (
            "作動" if active else "・")
        t = "%s %-2d %s %s" % (k, zid, fit(z["name"], 22), fit(state, 4))
        if col_w >= 45:           # room for what the key does
            t += " " + dev.verb
        out[i % n].append(((i // n) * col_w, fit(t, col_w - 1), "red" if active else ""))
    return out


def oled_view(site, w, h):
    """The OLED as its glass shows (simlib/oled.py): braille fits 80x24, half blocks when wide."""
    from simlib import oled
    rows = site.board.oled_rows()
    art = oled.halfblock(rows) if w >= 132 and h >= 36 else oled.braille(rows)
    return [[(0, line, "")] for line in oled.boxed(art)] + [[(0, oled.KEY_HELP, "dim")]]


def centre_lines(site):
    return [("%s %s" % (clock(e[0]), e[2]), "red" if e[2].startswith("!!") else "")
            for e in site.timeline[-500:] if e[1] == "centre"]


def log_lines(site):
    """Everything on the timeline but the centre's console: board, panel, sensor, sim, rx,
    check (simlib/site.py) and any source a part of the house adds."""
    return [("%s %-6s %s" % (clock(e[0]), e[1], e[2]), "")
            for e in site.timeline[-500:] if e[1] != "centre"]


def pane_rows(title, lines, w, h, back=0):
    """A titled pane `h` rows high: the newest lines (long ones wrapped at word boundaries under
    their time stamp), or `back` rows further back."""
    rows = []
    for text, style in lines:
        rows += [(part, style, i > 0) for i, part in enumerate(wrap(text, w, indent=9))]
    body = max(0, h - 1)
    back = min(back, max(0, len(rows) - body))
    shown = rows[max(0, len(rows) - body - back):len(rows) - back]
    while not back and shown and shown[0][2]:
        shown = shown[1:]           # the newest whole lines: no tail of a line cut off above
    shown = [(t, s) for t, s, _cont in shown]
    head = title + ("  (↑ %d 行前まで: End で最新)" % back if back else "")
    return [[(0, fit(head, w), "title")]] + [[(0, t, s)] for t, s in shown]


def _at(rows, x0, y0):
    return [(y0 + i, [(x0 + x, t, s) for x, t, s in row]) for i, row in enumerate(rows)]


def compose(site, c, w, h):
    """The whole screen, w x h, as {y: [(x, text, style), ...]}. Nothing is put in the last
    column (curses cannot write the bottom-right cell, and a wrap must not lose a character)."""
    out = {}
    w -= 1

    def put(placed):
        for y, segs in placed:
            if 0 <= y < h:
                out.setdefault(y, []).extend(segs)

    panel = panel_rows(site, c, min(w, PANEL_W - 1))
    views = c.views()
    head = " 見守り %s  " % site.site_id
    tabs = "  ".join(("[%s]" if i == c.view else " %s ") % v for i, v in enumerate(views))
    top = [(0, fit(head + tabs + "   Tab 切替", w), "title")]
    if w >= PANEL_W + SIDE_MIN and h >= len(panel) + 1:
        # wide: the panel, and beside it the centre (two thirds) over the log
        put([(0, [(0, fit(head, PANEL_W), "title")])])
        put(_at(panel, 0, 1))
        pw, ph = w - PANEL_W, h * 2 // 3
        put(_at(pane_rows(" センター (受信機) ", centre_lines(site), pw, ph,
                          c.back.get("centre", 0)), PANEL_W, 0))
        put(_at(pane_rows(" log (controller, panel, sensors, sim) ", log_lines(site), pw,
                          h - ph, c.back.get("log", 0)), PANEL_W, ph))
        return out
    put([(0, top)])
    view = views[c.view]
    if view == "パネル":
        put(_at(panel, 0, 1))
        left = h - 1 - len(panel)
        if left >= 2:                   # the centre's newest lines: its answer in sight
            put(_at(pane_rows(" センター (最新) ", centre_lines(site), w, left,
                              c.back.get("centre", 0)), 0, 1 + len(panel)))
        return out
    # a pane view: the display line stays in sight above it
    app = site.app
    put([(1, [(0, "表示", "bold"), (LABEL_W, fit(app.display(site.board.now()), w - LABEL_W),
                                   "red" if app.rendered.siren else "bold")])])
    if view == "センター":
        put(_at(pane_rows(" センター (受信機) ", centre_lines(site), w, h - 2,
                          c.back.get("centre", 0)), 0, 2))
    elif view == "ログ":
        put(_at(pane_rows(" log (controller, panel, sensors, sim) ", log_lines(site), w, h - 2,
                          c.back.get("log", 0)), 0, 2))
    else:
        fn = dict(c.extra_views)[view]
        put(_at(fn(site, w, h - 2), 0, 2))
    return out


def text_screen(site, c, w, h):
    """compose() as plain text rows (what a test, or a capture, reads), each segment clipped
    at the right edge exactly as Screen.draw clips it on the terminal."""
    lines = []
    screen = compose(site, c, w, h)
    for y in range(h):
        row = ""
        for x, t, _s in sorted(screen.get(y, []), key=lambda seg: seg[0]):
            t = fit(t, max(0, min(cells(t), w - 1 - x)))
            row = fit(row, x) + t if x >= cells(row) else row
        lines.append(row.rstrip())
    return lines


# ---- curses ------------------------------------------------------------------------------------

class Screen:
    """Draws compose() on a curses window."""

    def __init__(self, scr, site, controls):
        import curses
        self.curses = curses
        self.scr = scr
        self.site = site
        self.c = controls
        red = green = curses.A_BOLD
        if curses.has_colors():
            curses.start_color()
            curses.use_default_colors()
            curses.init_pair(1, curses.COLOR_RED, -1)
            curses.init_pair(2, curses.COLOR_GREEN, -1)
            red = curses.color_pair(1) | curses.A_BOLD
            green = curses.color_pair(2) | curses.A_BOLD
        self.styles = {"": 0, "bold": curses.A_BOLD, "dim": curses.A_DIM, "red": red,
                       "green": green, "title": curses.A_REVERSE}

    def draw(self):
        self.scr.erase()
        h, w = self.scr.getmaxyx()
        for y, segs in compose(self.site, self.c, w, h).items():
            for x, text, style in segs:
                if x >= w - 1:
                    continue
                try:
                    self.scr.addstr(y, x, fit(text, min(cells(text), w - 1 - x)),
                                    self.styles.get(style, 0))
                except self.curses.error:
                    pass        # the last cell of the screen: curses cannot move past it
        self.scr.refresh()


def _utf8_locale():
    """curses draws Japanese only under a UTF-8 locale: take the user's, else C.UTF-8."""
    import locale
    try:
        locale.setlocale(locale.LC_ALL, "")
    except locale.Error:
        pass
    if "utf" not in (locale.nl_langinfo(locale.CODESET) or "").lower():
        try:
            locale.setlocale(locale.LC_ALL, "C.UTF-8")
        except locale.Error:
            pass


KEY_NAMES = ("KEY_BACKSPACE", "KEY_UP", "KEY_DOWN", "KEY_PPAGE", "KEY_NPAGE", "KEY_END",
             "KEY_BTAB")


def _key_name(ch):
    if isinstance(ch, str):
        return ch
    import curses
    for name in KEY_NAMES:
        if ch == getattr(curses, name, None):
            return name
    return ""


def _terminal_gone(poller):
    """The terminal was closed (a killed tmux pane, a dropped ssh session). The hangup signal
    does not always reach us (make sits between), and curses reports a hung-up tty as "no key",
    so the panel would run on forever with its broker: ask the tty itself."""
    return any(ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL)
               for _fd, ev in poller.poll(0))


def loop(scr, site):
    import curses
    curses.curs_set(0)
    scr.nodelay(True)
    scr.keypad(True)
    controls = Controls(site)
    screen = Screen(scr, site, controls)
    tty = select.poll()
    tty.register(sys.stdin.fileno(), select.POLLIN)
    next_draw = 0.0
    while not controls.quit:
        site.step()                  # one firmware loop: 10 ms, in real time
        while True:
            try:
                ch = scr.get_wch()
            except curses.error:
                break                # no key waiting
            if ch == curses.KEY_RESIZE:
                curses.update_lines_cols()
                continue
            controls.key(_key_name(ch))
        if time.monotonic() >= next_draw:
            if _terminal_gone(tty):
                return
            screen.draw()
            next_draw = time.monotonic() + DRAW_S


NO_TERMINAL = ("make sim: the interactive panel needs a terminal; without one, run a scenario "
               "headless: make sim SCENARIO=intrusion (SCENARIO=list lists them)")


def no_terminal():
    """Why the panel cannot run here (one line), or None. Checked before anything starts."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return NO_TERMINAL
    import curses
    try:
        curses.setupterm()
    except curses.error:
        return NO_TERMINAL + " (the terminal type $TERM is unknown)"
    return None


def main(broker=None, panel=False):
    why = no_terminal()
    if why:
        print(why, file=sys.stderr)
        return 2
    import curses
    from simlib.centre import landline_missing
    _utf8_locale()
    missing = landline_missing()
    print("make sim: starting the broker, the centre and the controller ...", flush=True)
    if missing:
        print("make sim: %s: the house runs without the telephone line" % missing, flush=True)
    # the sample house has the telephone line and the card reader; the panel house (--panel) the
    # keypad, the OLED and the card reader on the OLED's I2C bus, MQTT only
    site = Site(clock="real", broker=broker, landline=not missing and not panel,
                reader=True, panel=panel)
    try:
        curses.wrapper(loop, site)
    except KeyboardInterrupt:
        pass
    finally:
        site.close()
    print("make sim: stopped (broker and receiver stopped, temporary files removed)")
    return 0
