"""
The classic socket-course chat server: one thread per client, a dict of
clients behind a lock, and C{sendall} to every other client while holding it.

It speaks the same lines as C{chatserver} (greeting, name prompt, welcome,
user list, join and leave notices, C{<NAME> TEXT}), so the load generator
drives it unchanged.  There are no limits of any kind: that is the point.

Run: C{python -m bench.baselines.threaded [PORT]}; it prints
C{listening on 127.0.0.1:PORT}.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading

clients: dict[str, socket.socket] = {}
lock = threading.Lock()


def broadcast(data: bytes, exclude: str | None) -> None:
    with lock:
        for name, sock in list(clients.items()):
            if name != exclude:
                with contextlib.suppress(OSError):
                    sock.sendall(data)


def handle(sock: socket.socket) -> None:
    name = ""
    reader = sock.makefile("rb")
    try:
        sock.sendall(
            b"-!- Welcome to chat. Type /help for help.\r\n"
            b">>> name: What's your name?\r\n"
        )
        while not name:
            raw = reader.readline()
            if not raw:
                return
            wanted = raw.decode("utf-8", "replace").strip()
            if not wanted:
                continue
            with lock:
                if wanted in clients:
                    taken = True
                else:
                    taken = False
                    clients[wanted] = sock
                    names = sorted(clients, key=str.casefold)
            if taken:
                sock.sendall(f"!!! the name {wanted} is taken\r\n".encode())
                continue
            name = wanted
            sock.sendall(
                f"=== Welcome to chat, {name}!\r\n"
                f"=== Users online ({len(names)}): {', '.join(names)}\r\n".encode()
            )
            broadcast(f"--> {name} has joined\r\n".encode(), name)
        while True:
            raw = reader.readline()
            if not raw:
                return
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if text:
                broadcast(f"<{name}> {text}\r\n".encode(), name)
    except OSError:
        pass
    finally:
        if name:
            with lock:
                clients.pop(name, None)
            broadcast(f"<-- {name} has left\r\n".encode(), None)
        sock.close()


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(4096)
    print(f"listening on 127.0.0.1:{server.getsockname()[1]}", flush=True)
    while True:
        sock, _ = server.accept()
        threading.Thread(target=handle, args=(sock,), daemon=True).start()


if __name__ == "__main__":
    main()
