"""
A small blocking RFC 6455 client over a raw socket, for testing the web
door as any WebSocket client (not only a browser) sees it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import ssl
import struct
from typing import Any

TIMEOUT = 15.0
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


class HandshakeRefused(Exception):
    def __init__(self, status: int, response: bytes) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.response = response


class WebSocketClient:
    """
    One WebSocket connection: frames are masked as a client's must be.

    @ivar pings: Payloads of the pings the server sent (each answered).
    @ivar closeCode: The server's close code, once it closed.
    """

    def __init__(
        self,
        port: int,
        path: str = "/ws",
        origin: str | None = None,
        cafile: str | None = None,
    ) -> None:
        """
        @param cafile: Speak TLS (C{wss:}), trusting this certificate.
        """
        sock = socket.create_connection(("127.0.0.1", port), TIMEOUT)
        if cafile is not None:
            context = ssl.create_default_context(cafile=cafile)
            sock = context.wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        self.sock.settimeout(TIMEOUT)
        key = base64.b64encode(os.urandom(16))
        headers = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key.decode()}",
            "Sec-WebSocket-Version: 13",
        ]
        if origin is not None:
            headers.append(f"Origin: {origin}")
        self.sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        self._buffer = b""
        while b"\r\n\r\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self._buffer += chunk
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head else 0
        if status != 101:
            raise HandshakeRefused(status, head + b"\r\n\r\n" + self._buffer)
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        fields = dict(
            line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line
        )
        fields = {name.lower(): value for name, value in fields.items()}
        assert fields[b"sec-websocket-accept"] == accept, head
        self.pings: list[bytes] = []
        self.closeCode: int | None = None

    # Frames

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        mask = os.urandom(4)
        header = bytes([(0x80 if fin else 0) | opcode])
        size = len(payload)
        if size < 126:
            header += bytes([0x80 | size])
        elif size < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", size)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the server")
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def read_frame(self) -> tuple[int, bytes]:
        first, second = self._read(2)
        assert second & 0x80 == 0, "a server must not mask its frames"
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", self._read(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", self._read(8))
        assert first & 0x80, "the server fragments no messages"
        return first & 0x0F, self._read(size)

    # Messages

    def send_text(self, text: str) -> None:
        self.send_frame(TEXT, text.encode("utf-8"))

    def send(self, **message: Any) -> None:
        self.send_text(json.dumps(message))

    def receive(self) -> dict[str, Any]:
        """
        @return: The next JSON message; pings are answered on the way.
        @raise ConnectionError: When the server closed.
        """
        while True:
            opcode, payload = self.read_frame()
            if opcode == PING:
                self.pings.append(payload)
                self.send_frame(PONG, payload)
            elif opcode == CLOSE:
                self.closeCode = (
                    struct.unpack("!H", payload[:2])[0] if payload else None
                )
                raise ConnectionError(f"closed with {self.closeCode}")
            elif opcode == TEXT:
                message: dict[str, Any] = json.loads(payload.decode("utf-8"))
                return message

    def expect(self, kind: str, **fields: Any) -> dict[str, Any]:
        """
        @return: The next message of type C{kind} (with C{fields}), those
            before it skipped.
        """
        skipped = []
        while True:
            message = self.receive()
            if message["type"] == kind and all(
                message.get(k) == v for k, v in fields.items()
            ):
                return message
            skipped.append(message)
            assert len(skipped) < 1000, skipped[-5:]

    def messages_until_closed(self) -> list[dict[str, Any]]:
        out = []
        try:
            while True:
                out.append(self.receive())
        except ConnectionError:
            return out

    def login(self, name: str, password: str | None = None) -> dict[str, Any]:
        self.expect("hello")
        if password is None:
            self.send(type="login", name=name)
        else:
            self.send(type="login", name=name, password=password)
        return self.expect("welcome")

    def close(self) -> None:
        self.sock.close()
