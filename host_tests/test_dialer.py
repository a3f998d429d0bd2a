# The landline dialer's state machine (comms/dialer.py) with the ISOmodem driver (io/modem.py)
# on the fake UART, against an AT-level stand-in for the modem and the far end (no audio here:
# test_landline_*.py puts spandsp's receiver on an emulated line). Runs on CPython and on the
# real MicroPython interpreter, where heap_lock proves the idle poll allocates nothing.
RUNS_ON_MICROPYTHON = True

import hostclock
import machine
import micropython

from check import raises
from mimamori.comms import dialer as D
from mimamori.core import events as E
from mimamori.io import modem as M
from mimamori.proto import contactid as C

A = "0120000001"
B = "0120000002"


class FakeModem:
    """Answers the driver's AT commands like the ISOmodem would, on a script of calls. Each call
    is one of: answer (handshake, kissoff for every valid message), busy, no_dialtone,
    no_answer, silent (answered, no handshake), deaf (handshake, never a kissoff), cut (NO
    CARRIER during the first message), late1 (kissoff only from the second attempt), error."""

    def __init__(self, uart, calls):
        self.uart = uart
        self.calls = list(calls)
        self.now = 0
        self.later = []             # [due ms, bytes]
        self.buf = b""
        self.commands = []
        self.messages = []          # valid Contact ID messages heard (Ademco digits)
        self.dialled = []
        self.kind = None
        self.attempt = 0
        uart.attach_peer(self._on)

    def _at(self, ms, data):
        self.later.append([self.now + ms, data])

    def _on(self, data):
        self.buf += data
        while b"\r" in self.buf:
            i = self.buf.find(b"\r")
            cmd = self.buf[:i].decode()
            self.buf = self.buf[i + 1:]
            self.commands.append(cmd)
            self._cmd(cmd)
        return None

    def _cmd(self, cmd):
        if cmd == "AT+FCLASS=8" and self.calls and self.calls[0] == "error":
            self.calls.pop(0)
            self.kind = None
            return self._at(10, b"\r\nERROR\r\n")
        if cmd.startswith("ATDT"):
            self.dialled.append(cmd[4:])
            self.kind = self.calls.pop(0) if self.calls else "answer"
            self.attempt = 0
            k = self.kind
            if k == "no_dialtone":
                return self._at(2000, b"\r\nNO DIALTONE\r\n")
            self._at(1000, b"\r\nOK\r\n")
            if k == "busy":
                self._at(3000, b"\r\nBUSY\r\n")
            elif k == "no_answer":
                self._at(30000, b"\r\nNO ANSWER\r\n")
            elif k != "silent":
                self._at(3600, b"\x10c")
                self._at(3800, b"\x10e")
            return None
        if cmd.startswith("AT+VTS="):
            self.attempt += 1
            keys = cmd[7:].replace(",", "")
            msg = C.from_dtmf(keys)
            if self.kind == "cut":
                return self._at(500, b"\r\nNO CARRIER\r\n")
            self._at(len(keys) * 115, b"\r\nOK\r\n")
            if C.valid(msg):
                self.messages.append(msg)
                if self.kind == "answer" or (self.kind == "late1" and self.attempt > 1):
                    self._at(len(keys) * 115 + 950, b"\x10c")
                    self.attempt = 0
            return None
        self._at(10, b"\r\nOK\r\n")

    def tick(self, now):
        self.now = now
        due = [x for x in self.later if x[0] <= now]
        if due:
            self.later = [x for x in self.later if x[0] > now]
            for _t, data in due:
                self.uart.peer_write(data)


class Rig:
    def __init__(self, calls, numbers=(A, B), **kw):
        hostclock.use_virtual(0)
        machine.reset_all()
        self.uart = machine.UART(2)
        self.peer = FakeModem(self.uart, calls)
        self.logs = []
        self.modem = M.IsoModem(self.uart)
        self.dialer = D.Dialer(self.modem, list(numbers), "1234", log=self.logs.append, **kw)
        self.delivered = []
        self.outcomes = []
        self.dialer.on_delivered = lambda seq: self.delivered.append(seq)
        self.dialer.on_outcome = lambda o, n: self.outcomes.append((o, n, hostclock.clock.now_ms))

    def run(self, ms, until=None):
        end = hostclock.clock.now_ms + ms
        while hostclock.clock.now_ms < end:
            hostclock.clock.advance(10)
            now = hostclock.ticks_ms()
            self.peer.tick(hostclock.clock.now_ms)
            d = self.dialer.poll(now)
            if self.dialer.in_call:
                assert d is not None        # every wait in a call has a deadline
            if until is not None and until():
                return True
        return False

    def settle(self, ms):
        return self.run(ms, lambda: not self.dialer.in_call and not self.dialer.pending())


def _ev(seq, kind=E.ALARM, cid=E.CID_PERIMETER, zone=1, user=0, q=E.Q_NEW):
    e = E.Event(0, kind, cid, q, zone=zone, user=user)
    e.seq = seq
    return e


def _names(rig):
    return [o for o, _n, _t in rig.outcomes]


def test_one_call_one_report_delivered_on_its_kissoff():
    rig = Rig(["answer"])
    assert rig.dialer.offer(_ev(1, zone=3))
    assert rig.settle(30000)
    assert rig.delivered == [1] and _names(rig) == ["delivered"]
    assert rig.peer.messages == [C.from_event(_ev(1, zone=3), "1234")]
    # The modem was set up as AN93 describes: detectors once, voice mode, off-hook, DTMF timing.
    cmds = rig.peer.commands
    assert cmds[:len(M.INIT)] == list(M.INIT)
    rest = cmds[len(M.INIT):]
    assert rest[:6] == ["AT+FCLASS=8", "AT+VLS=15", "AT:U181,64,0,0,1E", "AT+VTD=5", "AT:U48,37",
                        "ATDT" + A]
    assert rest[6] == "AT:U181,3B6,0,0,226"         # kissoff detector: 950 +- 550 ms
    assert rest[7].startswith("AT+VTS=1,2,3,4,1,8,1,1,3,1,0,0,0,0,3,") and rest[-1] == "ATH"
    assert rig.dialer.up and not rig.dialer.in_call


def test_every_failure_is_a_distinct_outcome():
    for kind, outcome in (("busy", "busy"), ("no_dialtone", "no_dialtone"),
                          ("no_answer", "no_answer"), ("silent", "no_handshake"),
                          ("deaf", "no_kissoff"), ("cut", "line_cut"), ("error", "modem_error")):
        rig = Rig([kind], numbers=[A], max_calls=1)
        rig.dialer.offer(_ev(7))
        assert rig.run(120000, lambda: rig.dialer.last_outcome == "budget_spent"), kind
        assert _names(rig) == [outcome, "budget_spent"], (kind, _names(rig))
        assert rig.delivered == [] and rig.dialer.pending() == 1, kind
        assert any(("call 1 to %s: %s" % (A, outcome)) in x for x in rig.logs), (kind, rig.logs)
        assert rig.dialer.up is False and rig.peer.commands[-1] == "ATH", kind


def test_no_kissoff_means_four_attempts_then_the_next_call_to_the_other_number():
    rig = Rig(["deaf", "answer"], pause_ms=4000)
    rig.dialer.offer(_ev(8))
    assert rig.settle(120000)
    msg = C.from_event(_ev(8), "1234")
    assert rig.peer.messages == [msg] * (C.ATTEMPTS + 1)
    assert rig.peer.dialled == [A, B] and _names(rig) == ["no_kissoff", "delivered"]
    assert rig.delivered == [8]
    t_fail, t_ok = rig.outcomes[0][2], rig.outcomes[1][2]
    assert t_ok - t_fail > 4000                     # the pause between calls


def test_kissoff_on_the_second_attempt_counts_once():
    rig = Rig(["late1"])
    rig.dialer.offer(_ev(9))
    rig.dialer.offer(_ev(10, zone=2))
    assert rig.settle(60000)
    assert rig.delivered == [9, 10] and _names(rig) == ["delivered"]
    # The far end ignores each message's first attempt: both went twice, each counted once.
    assert len(rig.peer.messages) == 4


def test_calls_are_bounded_by_count_and_by_the_time_budget():
    rig = Rig(["busy"] * 20, max_calls=5, pause_ms=2000, budget_ms=600000)
    rig.dialer.offer(_ev(11))
    assert rig.run(200000, lambda: rig.dialer.last_outcome == "budget_spent")
    assert rig.peer.dialled == [A, B, A, B, A] and _names(rig) == ["busy"] * 5 + ["budget_spent"]
    rig = Rig(["busy"] * 20, max_calls=50, pause_ms=10000, budget_ms=45000)
    rig.dialer.offer(_ev(12))
    assert rig.run(200000, lambda: rig.dialer.last_outcome == "budget_spent")
    # Calls start at about 0, 14, 28 and 42 s (4 s busy + 10 s pause): no call starts once the
    # next would begin past the 45 s budget.
    t_end = rig.outcomes[-1][2]
    assert t_end <= 45000 + 10000 and len(rig.peer.dialled) == 4
    # After the budget: quiet until retry_ms, then a new session tries again.
    n = len(rig.peer.dialled)
    rig.run(D.RETRY_MS - 1000)
    assert len(rig.peer.dialled) == n
    rig.run(5000)
    assert len(rig.peer.dialled) == n + 1


def test_urgent_reports_go_first_duplicates_and_a_full_queue_are_refused():
    rig = Rig(["answer"], capacity=3)
    closing = _ev(1, kind=E.CLOSING, cid=E.CID_OPEN_CLOSE, q=E.Q_RESTORE, user=2, zone=0)
    assert rig.dialer.offer(closing)
    assert rig.dialer.offer(_ev(2, cid=E.CID_SMOKE, zone=5))
    assert rig.dialer.offer(_ev(2, cid=E.CID_SMOKE, zone=5))   # same seq: once
    assert rig.dialer.offer(_ev(3))
    assert not rig.dialer.offer(_ev(4))                        # full: the caller keeps it
    assert rig.dialer.withdraw(3) and rig.dialer.pending() == 2
    assert rig.settle(60000)
    assert rig.delivered == [2, 1]
    assert C.parse(rig.peer.messages[1])[5] == "002"            # closing by user 2


def test_bad_configuration_is_refused_by_name():
    uart = machine.UART(2)
    modem = M.IsoModem(uart)
    with raises(D.DialerError, "numbers"):
        D.Dialer(modem, [], "1234")
    with raises(M.ModemError, "dialling character"):
        D.Dialer(modem, ["0120-00"], "1234")
    with raises(C.ContactIdError, "account"):
        D.Dialer(modem, [A], "12A4")
    with raises(D.DialerError, "group"):
        D.Dialer(modem, [A], "1234", group=100)


def test_idle_poll_and_waits_allocate_nothing():
    rig = Rig(["answer", "silent"])
    rig.run(100)
    micropython.heap_lock()         # real on MicroPython: any allocation raises MemoryError
    try:
        for i in range(200):
            hostclock.clock.advance(10)
            assert rig.dialer.poll(hostclock.ticks_ms()) is None
    finally:
        micropython.heap_unlock()
    # Waiting for the handshake with nothing on the UART: no allocation either.
    rig.dialer.offer(_ev(13))
    assert rig.run(30000, lambda: rig.dialer.state == "handshake")
    rig.peer.later = []             # the far end stays silent
    micropython.heap_lock()
    try:
        for i in range(100):
            hostclock.clock.advance(10)
            rig.dialer.poll(hostclock.ticks_ms())
    finally:
        micropython.heap_unlock()
    assert rig.dialer.state == "handshake"


def test_modem_driver_parses_results_and_shielded_tone_codes_across_reads():
    uart = machine.UART(2)
    modem = M.IsoModem(uart)
    assert modem.poll() == M.EV_NONE
    uart.peer_write(b"AT+FCLASS=8\r\r\nOK\r\n\r\nNO DIAL")     # echo, OK, half a result
    assert modem.poll() == M.EV_OK
    assert modem.poll() == M.EV_NONE
    uart.peer_write(b"TONE\r\n\x10")                          # the DLE's code comes later
    assert modem.poll() == M.EV_NO_DIALTONE
    assert modem.poll() == M.EV_NONE
    uart.peer_write(b"c\x10e\x10b\x10\x10\r\nNO CARRIER\r\n0064\r\n\r\nBUSY\r\n")
    got = []
    ev = modem.poll()
    while ev != M.EV_NONE:
        got.append(M.EVENT_NAMES[ev])
        ev = modem.poll()
    assert got == ["tone_1400", "tone_2300", "busy", "no_carrier", "busy"]
    assert modem.info == b"0064"                             # a register read, not a result
    modem.send("ATH")
    assert uart.peer_read() == b"ATH\r"


def test_modem_command_builders_refuse_what_the_modem_would_misread():
    assert M.dial("0120,123") == "ATDT0120,123"
    assert M.send_tones("12*#") == "AT+VTS=1,2,*,#"
    assert M.burst_detector(820, 300) == "AT:U181,334,0,0,12C"   # AN93's kissoff example
    assert M.dtmf_timing(50, 50) == ("AT+VTD=5", "AT:U48,32")      # AN93's data-tone timing
    with raises(M.ModemError, "dialling character"):
        M.dial("0120;ATH")
    with raises(M.ModemError, "empty"):
        M.dial("")
    with raises(M.ModemError, "10 ms steps"):
        M.dtmf_timing(55, 55)
    with raises(M.ModemError, "not a DTMF key"):
        M.send_tones("12E")


def test_after_a_modem_error_the_detectors_are_loaded_again():
    rig = Rig(["error", "answer"], pause_ms=1000)
    rig.dialer.offer(_ev(14))
    assert rig.settle(60000)
    assert _names(rig) == ["modem_error", "delivered"] and rig.delivered == [14]
    cmds = rig.peer.commands
    assert cmds.count(M.INIT[1]) == 2 and cmds.count("AT:UAD|40") == 2
