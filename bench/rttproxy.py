#!/usr/bin/env python3
"""rttproxy.py LISTEN_PORT TARGET_PORT RTT_MS - a TCP proxy on 127.0.0.1 that adds latency.

Every chunk is delivered RTT_MS / 2 after it arrived, in each direction and in order, so a
request and its answer take RTT_MS longer than on loopback: the round trip to a database in
another network. The kernel here has no netem, so the delay is added in user space, with a
reader and a writer thread per direction (an event loop's timers round up to whole
milliseconds). Every tool measured through it pays the same.
Prints "ready" on stdout once it listens.
"""
import queue
import socket
import sys
import threading
import time


def direction(src, dst, delay, done):
    pending = queue.Queue()

    def read():
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            pending.put((time.monotonic() + delay, data))
            if not data:
                return

    def write():
        while True:
            due, data = pending.get()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                done()
                return
            try:
                dst.sendall(data)
            except OSError:
                done()
                return

    for fn in (read, write):
        threading.Thread(target=fn, daemon=True).start()


def main():
    listen, target, rtt_ms = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    delay = rtt_ms / 2000.0
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen))
    server.listen(64)
    print("ready", flush=True)
    while True:
        client, _ = server.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", target))
        except OSError:
            client.close()
            continue
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        done = closer(client, upstream)
        direction(client, upstream, delay, done)
        direction(upstream, client, delay, done)


def closer(a, b):
    """A callback that closes both sockets the second time it is called (both directions ended)."""
    lock, ended = threading.Lock(), [0]

    def done():
        with lock:
            ended[0] += 1
            if ended[0] == 2:
                a.close()
                b.close()

    return done


if __name__ == "__main__":
    main()
