"""
The fan-out scenario with WebSocket users beside line-protocol users: one
C{twistd chat --port --web}, 4 line senders and 196 receivers in the lobby
(all line, all WebSocket, or half and half), the senders sending at a fixed
total rate; every message each receiver gets is counted.  Prints deliveries
per second and the server's CPU per delivery for each mix.

    .venv/bin/python -m bench.web_fanout [--seconds 10] [--rate 150]

The receivers run in this process (asyncio), on the other core from the
server: they count line ends and WebSocket text frames, no more.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TWISTD = str(Path(sys.executable).parent / "twistd")
TICK = os.sysconf("SC_CLK_TCK")


class Counter:
    def __init__(self) -> None:
        self.count = 0


def start_server(log: Path) -> tuple[subprocess.Popen[bytes], int, int]:
    process = subprocess.Popen(
        [
            TWISTD,
            "-n",
            "--pidfile=",
            "--logfile",
            str(log),
            "chat",
            "--port",
            "tcp:0:interface=127.0.0.1:backlog=4096",
            "--web",
            "tcp:0:interface=127.0.0.1:backlog=4096",
            "--rate",
            "0",
            "--max-clients",
            "20000",
            "--login-timeout",
            "0",
            "--history",
            "none",
        ],
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = log.read_text() if log.exists() else ""
        line = re.search(r"listening on 127\.0\.0\.1:(\d+) \(tcp", text)
        web = re.search(r"listening on 127\.0\.0\.1:(\d+) \(web", text)
        if line and web:
            return process, int(line[1]), int(web[1])
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("the server did not start")


def cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


async def line_receiver(port: int, name: str, counter: Counter) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(name.encode() + b"\r\n")
    while True:
        data = await reader.read(65536)
        if not data:
            return
        counter.count += data.count(b"\n")


def masked(payload: bytes) -> bytes:
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + body


async def web_receiver(port: int, name: str, counter: Counter) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await reader.readuntil(b"\r\n\r\n")
    writer.write(masked(b'{"type":"login","name":"%s"}' % name.encode()))
    buffer = b""
    while True:
        data = await reader.read(65536)
        if not data:
            return
        buffer += data
        offset = 0
        while len(buffer) - offset >= 2:
            size = buffer[offset + 1] & 0x7F
            head = 2
            if size == 126:
                if len(buffer) - offset < 4:
                    break
                size = int.from_bytes(buffer[offset + 2 : offset + 4], "big")
                head = 4
            if len(buffer) - offset < head + size:
                break
            if buffer[offset] & 0x0F == 1:
                counter.count += 1
            offset += head + size
        buffer = buffer[offset:]


async def sender(port: int, name: str, rate: float, stop: float) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(name.encode() + b"\r\n")
    await reader.readuntil(b"=== Users online")

    async def drain() -> None:
        while await reader.read(65536):
            pass

    draining = asyncio.ensure_future(drain())
    sent = 0
    start = time.monotonic()
    while time.monotonic() < stop:
        due = int((time.monotonic() - start) * rate) + 1
        while sent < due:
            writer.write(b"line %d of the fan-out benchmark\r\n" % sent)
            sent += 1
        await asyncio.sleep(0.005)
    await writer.drain()
    draining.cancel()
    return sent


async def scenario(
    web: int, line: int, seconds: float, rate: float
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        process, linePort, webPort = start_server(Path(directory) / "twistd.log")
        try:
            counter = Counter()
            tasks = [
                asyncio.ensure_future(line_receiver(linePort, f"l{i}", counter))
                for i in range(line)
            ]
            tasks += [
                asyncio.ensure_future(web_receiver(webPort, f"w{i}", counter))
                for i in range(web)
            ]
            await asyncio.sleep(3)
            senders = 4
            stop = time.monotonic() + seconds + 2
            sending = [
                asyncio.ensure_future(sender(linePort, f"s{i}", rate / senders, stop))
                for i in range(senders)
            ]
            await asyncio.sleep(2)  # the senders' joins reach everyone
            counter.count = 0
            cpu0, t0 = cpu(process.pid), time.monotonic()
            await asyncio.gather(*sending)
            # Drain: until nothing more arrives for half a second.
            last = -1
            while counter.count != last:
                last = counter.count
                await asyncio.sleep(0.5)
            wall = time.monotonic() - t0 - 0.5
            used = cpu(process.pid) - cpu0
            for task in tasks:
                task.cancel()
            delivered = counter.count
            # What the senders sent after the count was reset, to everyone.
            expected = rate * seconds * (web + line)
            return {
                "web": web,
                "line": line,
                "deliveries": delivered,
                "share": delivered / expected,
                "perSec": delivered / wall,
                "cpuUsPerDelivery": used * 1e6 / delivered if delivered else 0.0,
                "serverCpu": used / wall,
            }
        finally:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=150, help="lines/s, in all")
    args = parser.parse_args()
    print(
        "| receivers | deliveries/s | delivered of sent (about) "
        "| server CPU per delivery | server CPU |"
    )
    print("| --- | --- | --- | --- | --- |")
    for web, line in ((0, 196), (98, 98), (196, 0)):
        result = asyncio.run(scenario(web, line, args.seconds, args.rate))
        print(
            f"| {web} WebSocket + {line} line | {result['perSec']:,.0f} | "
            f"{result['share']:.0%} | "
            f"{result['cpuUsPerDelivery']:.2f} us | {result['serverCpu']:.0%} |"
        )


if __name__ == "__main__":
    main()
