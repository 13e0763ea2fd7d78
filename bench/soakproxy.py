#!/usr/bin/env python3
"""soakproxy.py LISTEN_PORT TARGET_PORT CONTROL_PORT - a TCP proxy on 127.0.0.1 that fails on command.

Relays every connection to 127.0.0.1:TARGET_PORT, in one thread with non-blocking sockets,
and takes one-line commands on 127.0.0.1:CONTROL_PORT (one command per connection, one line
answered):

  cut          reset every relayed connection now (RST to both ends), as a failover or a
               dropped NAT entry would; new connections are relayed as before
  blackhole S  stop relaying for S seconds (nothing read, nothing delivered, new connections
               held unanswered), then reset every connection of before and during it: a
               network partition that ends with the peers' connections gone
  stats        "connections=N relayed=N cuts=N blackholes=N"

Prints "ready" on stdout once it listens. Bench fixture only: no TLS is needed or seen (the
soak's clients use sslmode=disable).
"""
import selectors
import socket
import struct
import sys
import time

CHUNK = 65536
LINGER_RST = struct.pack("ii", 1, 0)


class Proxy:
    def __init__(self, listen, target, control):
        self.target = target
        self.sel = selectors.DefaultSelector()
        self.peer = {}  # socket -> the other end of its pair
        self.out = {}  # socket -> bytes waiting to be written to it
        self.held = []  # connections accepted during a blackhole
        self.dark_until = 0.0
        self.stats = {"connections": 0, "relayed": 0, "cuts": 0, "blackholes": 0}
        self.listener = self._listen(listen)
        self.control = self._listen(control)
        self.sel.register(self.listener, selectors.EVENT_READ, "accept")
        self.sel.register(self.control, selectors.EVENT_READ, "control")

    @staticmethod
    def _listen(port):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(128)
        s.setblocking(False)
        return s

    # --- connections ---

    def accept(self):
        client, _ = self.listener.accept()
        self.stats["connections"] += 1
        if self.dark():
            self.held.append(client)
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
        except OSError:
            self.reset(client)
            return
        for s in (client, upstream):
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.out[s] = b""
        self.peer[client], self.peer[upstream] = upstream, client
        for s in (client, upstream):
            self.sel.register(s, selectors.EVENT_READ, "relay")

    def dark(self):
        return time.monotonic() < self.dark_until

    @staticmethod
    def reset(s):
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
        except OSError:
            pass
        s.close()

    def drop(self, s, rst):
        """Close s and its peer (RST when rst, else an orderly close after what is queued)."""
        for x in (s, self.peer.get(s)):
            if x is None or x not in self.peer:
                continue
            try:
                self.sel.unregister(x)
            except (KeyError, ValueError):
                pass
            if not rst and self.out.get(x):
                try:
                    x.setblocking(True)
                    x.settimeout(1)
                    x.sendall(self.out[x])
                except OSError:
                    pass
            del self.peer[x]
            self.out.pop(x, None)
            if rst:
                self.reset(x)
            else:
                x.close()

    def reset_all(self):
        for s in list(self.peer):
            self.drop(s, True)
        for s in self.held:
            self.reset(s)
        self.held = []

    def interest(self, s):
        if s not in self.peer or self.dark():
            return
        ev = selectors.EVENT_READ | (selectors.EVENT_WRITE if self.out[s] else 0)
        self.sel.modify(s, ev, "relay")

    def relay(self, s, mask):
        if mask & selectors.EVENT_READ:
            try:
                data = s.recv(CHUNK)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                data = b""
            if data == b"":
                self.drop(s, False)
                return
            if data:
                p = self.peer[s]
                self.out[p] += data
                self.stats["relayed"] += len(data)
                self.flush(p)
        if mask & selectors.EVENT_WRITE and s in self.peer:
            self.flush(s)

    def flush(self, s):
        try:
            n = s.send(self.out[s]) if self.out[s] else 0
            self.out[s] = self.out[s][n:]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.drop(s, True)
            return
        self.interest(s)

    # --- commands ---

    def command(self):
        conn, _ = self.control.accept()
        conn.settimeout(2)
        try:
            line = conn.makefile("r").readline().split()
            answer = self.run(line)
            conn.sendall((answer + "\n").encode())
        except OSError:
            pass
        finally:
            conn.close()

    def run(self, words):
        if words == ["cut"]:
            self.stats["cuts"] += 1
            n = len(self.peer) // 2
            self.reset_all()
            return f"ok cut {n}"
        if len(words) == 2 and words[0] == "blackhole":
            self.stats["blackholes"] += 1
            self.dark_until = time.monotonic() + float(words[1])
            for s in list(self.peer):
                try:
                    self.sel.unregister(s)
                except (KeyError, ValueError):
                    pass
            return f"ok blackhole {len(self.peer) // 2}"
        if words == ["stats"]:
            return " ".join(f"{k}={v}" for k, v in self.stats.items())
        return "error: commands are cut, blackhole SECONDS, stats"

    def loop(self):
        print("ready", flush=True)
        was_dark = False
        while True:
            # During a blackhole the relayed sockets are unregistered: wake at its end.
            timeout = max(0.0, self.dark_until - time.monotonic()) if was_dark else None
            for key, mask in self.sel.select(timeout):
                if key.data == "accept":
                    self.accept()
                elif key.data == "control":
                    self.command()
                elif key.data == "relay" and not self.dark():
                    self.relay(key.fileobj, mask)
            if was_dark and not self.dark():
                self.reset_all()
            was_dark = self.dark()


def main():
    listen, target, control = (int(a) for a in sys.argv[1:4])
    Proxy(listen, target, control).loop()


if __name__ == "__main__":
    main()
