"""The interactive panel of `make sim` (curses): the controller's panel as a resident sees it
(display line, mode LEDs, buzzer, siren, flash light, trouble LED, alarm memory), a key for
every sensor of the house, the resident's keypad, fast-forward keys, keys to stop the broker
and to cut the telephone line, and beside (or below) it the monitoring centre's console and the
controller's log. The house has both report paths: MQTT and the fixed line (Contact ID through
the emulated ISOmodem to spandsp's receiver at the centre).

The loop runs the firmware in real time (each pass is one 10 ms firmware loop) and redraws ten
times a second; keys are read without blocking, so the firmware never waits for the terminal.
Controls (keys -> site) is kept apart from the drawing so the keymap can be used without curses.
"""
import curses
import locale
import select
import sys
import time

from simlib import devices, oled
from simlib.site import SAMPLE_CARD, SAMPLE_CODE, SAMPLE_FELICA, STRANGER_CARD, Site
from simlib.text import clock, fit, wrap

ZONE_KEYS = "abcdefghijklmnopqrstuvwxyz"
MINUTE = 60000
HOUR = 3600000
DRAW_S = 0.1
PANEL_W = 96            # the panel's columns; the logs go beside it when the terminal is wider

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
KEY_HELP = ("a-%s センサー (上の表)   0-9 暗証番号 (BS 消去)   L ライフカードをかざす   Q 終了",
            "A 外出セット  S 在宅セット  P 部分セット  D 解除  F 強制セット  C キャンセル  "
            "R 異常リセット",
            "早送り: > +1分  + +1時間  * +12時間      B ブローカー 停止/復旧  T 電話回線 切断/復旧")
LABEL_W = 9             # the column where values start after 表示 / モード / ブザー
# card taps on the house's reader (the fake PN532): key -> (card id, kind)
CARD_KEYS = {"M": (SAMPLE_CARD, "mifare"), "N": (SAMPLE_FELICA, "felica"),
             "U": (STRANGER_CARD, "mifare")}
CARD_HELP = "M MIFAREカード  N FeliCaカード  U 未登録カード (リーダーにかざす)"


class Controls:
    """What each key does to the site."""

    def __init__(self, site):
        self.site = site
        self.code = ""            # digits typed on the keypad, used by the next operation
        self.force = False        # the next arming bypasses open zones (force-arm)
        self.card = False         # the sample ライフカード was presented: the next operation
        self.answer = "キーを押してください (暗証番号を入れなければ %s)" % SAMPLE_CODE
        self.jumped_ms = 0
        self.quit = False
        self.zone_keys = {}
        for i, z in enumerate(site.config["zones"][:len(ZONE_KEYS)]):
            self.zone_keys[ZONE_KEYS[i]] = z["id"]
        self._ops = {"A": ("arm", "away"), "S": ("arm", "stay"), "P": ("arm", "partial"),
                     "D": ("disarm", None), "C": ("cancel", None), "R": ("reset", None)}
        self._jumps = {">": MINUTE, "+": HOUR, "*": 12 * HOUR}

    def key(self, ch):
        s = self.site
        if s.board.keypad is not None and ch in oled.KEYS:   # panel mode: the real keypad
            k = oled.KEYS[ch]
            s.press_key(k, oled.HOLD_MS.get(k, oled.PRESS_MS))
            return
        if ch in self.zone_keys:
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
        elif ch in CARD_KEYS and s.reader:
            self.answer = s.tap_card(*CARD_KEYS[ch]) or "カードを読み取れませんでした"
        elif ch in self._jumps:
            s.skip(self._jumps[ch])
            self.jumped_ms += self._jumps[ch]
        elif ch == "B":
            p = s.path("mqtt")
            s.set_path("mqtt", not p.is_up)
        elif ch == "T" and s.landline:
            s.set_path("landline", not s.path("landline").is_up)
        elif ch == "Q":
            self.quit = True


class Screen:
    """Draws the site on a curses window."""

    def __init__(self, scr, site, controls):
        self.scr = scr
        self.site = site
        self.c = controls
        self.red = self.green = curses.A_BOLD
        if curses.has_colors():
            curses.start_color()
            curses.use_default_colors()
            curses.init_pair(1, curses.COLOR_RED, -1)
            curses.init_pair(2, curses.COLOR_GREEN, -1)
            self.red = curses.color_pair(1) | curses.A_BOLD
            self.green = curses.color_pair(2) | curses.A_BOLD

    def put(self, y, x, text, attr=0, width=None):
        h, w = self.scr.getmaxyx()
        if y >= h or x >= w - 1:
            return
        room = w - 1 - x if width is None else min(width, w - 1 - x)
        try:
            self.scr.addstr(y, x, fit(text, room), attr)
        except curses.error:
            pass        # the last cell of the screen: curses cannot move past it

    def draw(self):
        self.scr.erase()
        h, w = self.scr.getmaxyx()
        side = w >= PANEL_W + 40
        pw = min(w, PANEL_W)
        bottom = self.draw_panel(pw)
        if side:
            self.draw_logs(0, pw + 1, h, w - pw - 1)
        else:
            self.draw_logs(bottom + 1, 0, h - bottom - 1, w)
        self.scr.refresh()

    def led(self, on, blink=False):
        if blink:
            on = int(time.monotonic() * 2) % 2 == 0
        return "●" if on else "○"

    def draw_panel(self, pw):
        s, c, app = self.site, self.c, self.site.app
        r = app.rendered
        now = s.board.now()
        y = 0
        self.put(y, 0, " 見守り ホームコントローラー (%s)" % s.site_id, curses.A_REVERSE, pw)
        y += 1
        self.put(y, 1, "時計 %s   経過 %s%s" % (
            app.wall.iso(), clock(s.elapsed_ms()),
            "  (早送り 計 %s)" % clock(c.jumped_ms) if c.jumped_ms else ""), 0, pw - 2)
        y += 2
        if s.board.oled is not None:        # panel mode: the OLED as its glass shows
            rows = s.board.oled_rows()
            w = self.scr.getmaxyx()[1]
            art = oled.halfblock(rows) if w >= 132 else oled.braille(rows)
            for line in oled.boxed(art):
                self.put(y, 1, line, 0, pw - 2)
                y += 1
            self.put(y, 1, oled.KEY_HELP, curses.A_DIM, pw - 2)
            y += 2
        text = app.display(now)
        self.put(y, 1, "表示", curses.A_BOLD)
        self.put(y, LABEL_W, text, self.red if r.siren or r.alarm_memory else curses.A_BOLD,
                 pw - LABEL_W)
        y += 1
        x = LABEL_W
        self.put(y, 1, "モード", curses.A_BOLD)
        for mode, label in MODE_LEDS:
            on = r.mode == mode
            t = "%s %s" % (self.led(on, blink=on and r.arming), label)
            self.put(y, x, t, self.green if on else 0)
            x += len(label) * 2 + 4
        if r.arming:
            self.put(y, x, "(点滅: 外出セット中)", self.green)
        y += 1
        self.put(y, 1, "ブザー", curses.A_BOLD)
        self.put(y, LABEL_W, BUZZER_JA.get(r.buzzer, r.buzzer),
                 self.red if r.buzzer != "off" else 0)
        y += 1
        x = 1
        for label, on, blink in (("サイレン", r.siren, False), ("フラッシュ", r.flash, True),
                                 ("故障", r.trouble, False), ("異常記憶", r.alarm_memory, False)):
            # a blinking LED is also named as such: a glance (or a screen capture) may catch
            # it in its dark half
            t = "%s %s%s" % (self.led(on, blink=on and blink), label,
                             "(点滅)" if on and blink else "")
            self.put(y, x, t, self.red if on else 0)
            x += len(label) * 2 + (11 if on and blink else 5)
        y += 1
        if c.card:
            auth = "ライフカード %s (次の操作)" % SAMPLE_CARD
        else:
            auth = "*" * len(c.code) if c.code else "(%s)" % SAMPLE_CODE
        self.put(y, 1, "暗証番号 %s  %s" % (
            auth, "次のセットは強制 (開いているゾーンをバイパス)" if c.force else ""), 0, pw - 2)
        y += 1
        self.put(y, 1, "応答  " + c.answer, 0, pw - 2)
        y += 1
        mq = s.path("mqtt")
        self.put(y, 1, "通信  %s %s  未送信 %d  ハンドオフ %d" % (
            mq.describe(), "接続中" if app.link.connected else ("停止中" if not mq.is_up else
                                                                "接続待ち"),
            app.journal.pending_count(), app.router.handoffs), 0, pw - 2)
        if s.landline:
            y += 1
            ll = s.path("landline")
            self.put(y, 1, "      電話回線 %s  (Contact ID, センター %s)" % (
                "切断中" if not ll.is_up else "通話中" if ll.in_call else "待機",
                ll.number), 0, pw - 2)
        y += 2
        y = self.draw_zones(y, pw)
        for line in KEY_HELP:
            last = ZONE_KEYS[min(len(c.zone_keys), len(ZONE_KEYS)) - 1]
            self.put(y, 1, line.replace("%s", last) if "%s" in line else line, curses.A_DIM,
                     pw - 2)
            y += 1
        if s.reader:
            self.put(y, 1, CARD_HELP, curses.A_DIM, pw - 2)
            y += 1
        return y

    def draw_zones(self, y, pw):
        s = self.site
        keys = list(self.c.zone_keys.items())
        rows = (len(keys) + 1) // 2
        col_w = (pw - 2) // 2
        for i, (k, zid) in enumerate(keys):
            z = s.zones[zid]
            active = s.board.is_active(zid)
            dev = devices.device_for(z)
            state = ("開" if active else "閉") if z["type"] == "magnet" else (
                "作動" if active else "・")
            t = "%s %-2d %s %s" % (k, zid, fit(z["name"], 22), fit(state, 4))
            if col_w >= 45:           # room for what the key does
                t += " " + dev.verb
            self.put(y + i % rows, 1 + (i // rows) * col_w, t, self.red if active else 0,
                     col_w - 1)
        return y + rows + 1

    def draw_logs(self, y, x, h, w):
        if h < 4 or w < 20:
            return
        centre_h = max(2, h * 2 // 3)
        tl = self.site.timeline[-200:]
        centre = [("%s %s" % (clock(e[0]), e[2]), self.red if e[2].startswith("!!") else 0)
                  for e in tl if e[1] == "センター"]
        rest = [("%s %s %s" % (clock(e[0]), fit(e[1], 8), e[2]), 0)
                for e in tl if e[1] != "センター"]
        self.pane(y, x, centre_h, w, " センター (受信機) ", centre)
        self.pane(y + centre_h, x, h - centre_h, w, " 本体ログ・操作 ", rest)

    def pane(self, y, x, h, w, title, lines):
        """A titled pane showing the newest lines, long ones wrapped (a centre line carries the
        zone name near its end)."""
        self.put(y, x, title, curses.A_REVERSE, w)
        rows = []
        for text, attr in lines:
            rows += [(part, attr) for part in wrap(text, w - 1, indent=9)]
        for i, (text, attr) in enumerate(rows[-(h - 1):] if h > 1 else []):
            self.put(y + 1 + i, x, text, attr, w)


def _utf8_locale():
    """curses draws Japanese only under a UTF-8 locale: take the user's, else C.UTF-8."""
    try:
        locale.setlocale(locale.LC_ALL, "")
    except locale.Error:
        pass
    if "utf" not in (locale.nl_langinfo(locale.CODESET) or "").lower():
        try:
            locale.setlocale(locale.LC_ALL, "C.UTF-8")
        except locale.Error:
            pass


def _key_name(ch):
    if isinstance(ch, str):
        return ch
    return "KEY_BACKSPACE" if ch == curses.KEY_BACKSPACE else ""


def _terminal_gone(poller):
    """The terminal was closed (a killed tmux pane, a dropped ssh session). The hangup signal
    does not always reach us (make sits between), and curses reports a hung-up tty as "no key",
    so the panel would run on forever with its broker: ask the tty itself."""
    return any(ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL)
               for _fd, ev in poller.poll(0))


def loop(scr, site):
    curses.curs_set(0)
    scr.nodelay(True)
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


def main(broker=None, panel=False):
    _utf8_locale()
    print("make sim: starting the broker, the centre and the controller ...", flush=True)
    site = Site(clock="real", broker=broker, landline=not panel, reader=not panel, panel=panel)
    try:
        curses.wrapper(loop, site)
    except KeyboardInterrupt:
        pass
    finally:
        site.close()
    print("make sim: stopped (broker and receiver stopped, temporary files removed)")
    return 0
