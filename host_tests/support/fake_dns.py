# A DNS server on loopback UDP for the link's resolver (comms/resolve.py): answers A queries
# after a delay, never, or with "no such host". Plain sockets and a thread.
import socket
import threading
import time


class DnsServer:
    """Answers every A query, whatever the name, with `ip` after `delay_s` seconds (None: never
    answers; "nx": says the name does not exist). `queries` counts what it was asked."""

    def __init__(self, ip="127.0.0.1", delay_s=0.0):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.settimeout(0.1)
        self.addr = self.s.getsockname()
        self.ip, self.delay_s = ip, delay_s
        self.queries = 0
        self.stop = threading.Event()
        self.th = threading.Thread(target=self._serve, daemon=True)
        self.th.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                q, peer = self.s.recvfrom(512)
            except socket.timeout:
                continue
            self.queries += 1
            if self.delay_s is None:
                continue
            end = q.index(b"\x00", 12) + 5                   # the question, as asked
            if self.delay_s == "nx":
                self.s.sendto(q[:2] + b"\x81\x83\x00\x01\x00\x00\x00\x00\x00\x00" + q[12:end],
                              peer)
                continue
            time.sleep(self.delay_s)
            ans = (b"\xc0\x0c\x00\x01\x00\x01" + (300).to_bytes(4, "big") + b"\x00\x04"
                   + bytes(int(x) for x in self.ip.split(".")))
            self.s.sendto(q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + q[12:end] + ans,
                          peer)

    def close(self):
        self.stop.set()
        self.th.join()
        self.s.close()
