"""Helpers for the DC-09 tests: pysiaalarm's own servers (the library Home Assistant's SIA
integration runs) as the receiver, a scripted receiver for the answers pysiaalarm would never
give, and a loop that drives a path with virtual ticks while the sockets run in real time.

    with Judge("tcp", "1234", key="0123456789ABCDEF") as j:   # pysiaalarm SIAClient, port j.port
        ... j.events       # every SIAEvent its server accepted (ACKed), in arrival order
"""
import socket
import threading
import time

from pysiaalarm import CommunicationsProtocol, SIAAccount, SIAClient

import hostclock


class Judge:
    def __init__(self, protocol, account, key=None, port=0, timeband=(40, 20)):
        self.events = []
        self.protocol = protocol
        self.account = account
        acc = SIAAccount(account, key, allowed_timeband=timeband)
        self.client = SIAClient("127.0.0.1", port, [acc], self.events.append,
                                CommunicationsProtocol.TCP if protocol == "tcp"
                                else CommunicationsProtocol.UDP)
        self.port = self.client.sia_server.server_address[1]

    def __enter__(self):
        self.client.start()
        return self

    def __exit__(self, *exc):
        self.client.stop()
        return False

    def settle(self, n, timeout=5.0):
        """Wait until n events reached our function: pysiaalarm answers first and hands the
        event over after (its handler's order), so an ACK can arrive before the event."""
        end = time.monotonic() + timeout
        while len(self.events) < n and time.monotonic() < end:
            time.sleep(0.01)
        return len(self.events) >= n

    @property
    def counts(self):
        return self.client.counts


class Scripted:
    """A TCP (or UDP) receiver that answers each message with the next of `answers` (bytes, a
    list of them, a callable f(frame) returning either, or None for silence)."""

    def __init__(self, protocol, answers, port=0):
        self.protocol = protocol
        self.answers = list(answers)
        self.heard = []
        self.udp = protocol == "udp"
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if self.udp
                                  else socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        if not self.udp:
            self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        self.thread.join(2)
        self.sock.close()
        return False

    def _answer(self, frame):
        self.heard.append(frame)
        a = self.answers.pop(0) if self.answers else None
        return a(frame) if callable(a) else a

    def _run(self):
        while not self._stop:
            try:
                if self.udp:
                    data, addr = self.sock.recvfrom(1024)
                    out = self._answer(data)
                    for one in (out if isinstance(out, list) else [out] if out else []):
                        self.sock.sendto(one, addr)     # a list: one datagram each
                    continue
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            conn.settimeout(0.2)
            buf = b""
            while not self._stop:
                try:
                    chunk = conn.recv(1024)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                buf += chunk
                while b"\r" in buf:
                    frame, buf = buf.split(b"\r", 1)
                    out = self._answer(frame + b"\r")
                    if out:
                        conn.sendall(b"".join(out) if isinstance(out, list) else out)
            conn.close()


def drive(path, until, board_ms=None, step_ms=10, real_timeout=10.0):
    """Poll `path` with virtual ticks (step_ms per step, real time passing for the sockets)
    until until() or real_timeout; board_ms: stop after this much virtual time too."""
    end = time.monotonic() + real_timeout
    start = hostclock.ticks_ms()
    while time.monotonic() < end:
        now = hostclock.ticks_ms()
        path.poll(now)
        if until():
            return True
        if board_ms is not None and hostclock.ticks_diff(now, start) >= board_ms:
            return False
        hostclock.clock.advance(step_ms)
        time.sleep(0.001)
    return False
