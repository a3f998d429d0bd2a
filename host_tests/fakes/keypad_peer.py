# A fake 4x4 membrane keypad wired to the fake ESP32's pins, plus the three dedicated buttons.
# A pressed key joins its row to its column, as the contacts do: a column reads low while a
# pressed key joins it to a row that is driven low (the rows are open drain), else its pull-up
# holds it high. The matrix follows the rows through the fake Pin's edge callbacks (the scan
# drives them), so the driver sees exactly what the wires would give. Plain Python that also runs
# inside the real MicroPython interpreter.
#
#   pad = KeyMatrix(rows=(38, 39, 40, 41), cols=(1, 2, 3, 4), panic=5, medical=6, cancel=7)
#   pad.press("5"); ...; pad.release("5")
import machine

LAYOUT = ("123A", "456B", "789C", "*0#D")
DEDICATED = ("PANIC", "MEDICAL", "CANCEL")


class KeyMatrix:
    def __init__(self, rows, cols, panic=None, medical=None, cancel=None):
        self._row_ids = tuple(rows)
        self._col_ids = tuple(cols)
        self._ded_ids = (panic, medical, cancel)
        # what is down: bytearrays, so the edge callback (run inside the driver's scan, under
        # heap_lock in the allocation tests) reads them without allocating
        self._cell_down = bytearray(16)      # row * 4 + column
        self._ded_down = bytearray(3)
        self.attach()

    def attach(self):
        """Wire to the board's pins (again after a reboot: the fake board's pins are new)."""
        self.rows = tuple(machine.Pin(g) for g in self._row_ids)
        self.cols = tuple(machine.Pin(g) for g in self._col_ids)
        self.ded = tuple(None if g is None else machine.Pin(g) for g in self._ded_ids)
        self._edge = self._row_edge          # bound once
        for p in self.rows:
            p.irq(handler=self._edge, trigger=machine.Pin.IRQ_RISING | machine.Pin.IRQ_FALLING)
        self._settle()

    def _row_edge(self, pin):
        self._settle()

    def _settle(self):
        for c in range(4):
            low = False
            for r in range(4):
                if self._cell_down[r * 4 + c] and self.rows[r].value() == 0:
                    low = True
            col = self.cols[c]
            if low:
                col.drive(0)
            elif col.ext is not None:
                col.release()
        for i in range(3):
            p = self.ded[i]
            if p is None:
                continue
            if self._ded_down[i]:
                p.drive(0)
            elif p.ext is not None:
                p.release()

    def _set(self, key, down):
        for r in range(4):
            c = LAYOUT[r].find(key) if len(key) == 1 else -1
            if c >= 0:
                self._cell_down[r * 4 + c] = 1 if down else 0
                self._settle()
                return
        if key in DEDICATED:
            i = DEDICATED.index(key)
            if self.ded[i] is not None:
                self._ded_down[i] = 1 if down else 0
                self._settle()
                return
        raise ValueError("no key %r on this keypad" % key)

    def press(self, key):
        self._set(key, True)

    def release(self, key):
        self._set(key, False)

    def is_down(self, key):
        for r in range(4):
            c = LAYOUT[r].find(key) if len(key) == 1 else -1
            if c >= 0:
                return bool(self._cell_down[r * 4 + c])
        return bool(self._ded_down[DEDICATED.index(key)])
