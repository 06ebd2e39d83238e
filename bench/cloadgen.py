"""
The compiled load generator (C{bench/cloadgen.c}): how to build it and how
to drive one run of it.

It is built with the system C compiler and the flags of
L{bench.baselines.cbuild}, into C{bench/build/} (ignored by git), named
after the hash of its source: a changed source is built again, an
unchanged one never.  One process runs one scenario: it logs its clients
in, waits until they have read every join notice, prints a JSON line,
waits for L{CLoad.go}, sends and drains, and prints the result.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import subprocess
import time
from pathlib import Path
from typing import IO, Any

from bench.baselines.cbuild import FLAGS, LIBS, compiler

SOURCE = Path(__file__).resolve().parent / "cloadgen.c"
BUILD = Path(__file__).resolve().parent / "build"


def build(directory: Path = BUILD) -> Path:
    """
    Compile C{cloadgen.c} unless a binary of the same source is there.

    @return: The binary's path.
    @raise RuntimeError: If there is no C compiler or the build fails.
    """
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    binary = directory / f"cloadgen-{digest}"
    if binary.exists():
        return binary
    cc = compiler()
    if cc is None:
        raise RuntimeError("no C compiler (cc or $CC) to build cloadgen.c")
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".cloadgen-{digest}.{os.getpid()}"
    done = subprocess.run(
        [cc, *FLAGS, "-o", str(partial), str(SOURCE), "-lm", *LIBS],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"building cloadgen.c failed:\n{done.stderr}")
    partial.replace(binary)
    return binary


class CLoad:
    """
    One run of the compiled load generator against a server on 127.0.0.1.

    @param clients: How many clients log in; the first C{senders} of them
        send.
    @param send: C{duration}, C{rate} (lines/s per sender, 0: as fast as
        C{window} allows), C{window}, C{lines} (at most, per sender),
        C{pad}, as for L{bench.loadgen.Generator.send}.
    @param sources: Spread the connections over this many loopback
        addresses, from 127.0.0.2 up (0: let the kernel choose, 127.0.0.1).
    @param checkEvery: While sending, every C{checkEvery}-th receiver (and
        the senders and the acknowledger) checks every line it gets; the
        others count what they get and discard it unread (C{MSG_TRUNC}),
        and must end with exactly one line of every sender's for each line
        sent, by their byte count.  1: everyone checks.
    @param checkAllBelow: Everyone checks when fewer receivers than this
        logged in.
    @param rcvlowat: C{SO_RCVLOWAT} of the counting receivers while
        sending, in bytes (0: left alone): they wake up less often.
    @param tls: Every client speaks TLS (the server's certificate is not
        verified).
    """

    def __init__(
        self,
        port: int,
        clients: int,
        senders: int,
        send: dict[str, Any],
        *,
        concurrency: int = 500,
        loginTimeout: float = 60,
        settleTimeout: float = 60,
        drainTimeout: float = 10,
        sources: int = 0,
        checkEvery: int = 8,
        checkAllBelow: int = 64,
        rcvlowat: int = 0,
        tls: bool = False,
    ) -> None:
        duration = float(send.get("duration", 5))
        self.limit = loginTimeout + settleTimeout + duration + drainTimeout + 60
        command = [
            str(build()),
            "--port",
            str(port),
            "--clients",
            str(clients),
            "--senders",
            str(senders),
            "--concurrency",
            str(concurrency),
            "--login-timeout",
            str(loginTimeout),
            "--settle-timeout",
            str(settleTimeout),
            "--duration",
            str(duration),
            "--rate",
            str(float(send.get("rate", 0))),
            "--window",
            str(int(send.get("window", 100))),
            "--lines",
            str(int(send.get("lines", 0))),
            "--pad",
            str(int(send.get("pad", 20))),
            "--drain-timeout",
            str(drainTimeout),
            "--sources",
            str(sources),
            "--time-limit",
            str(int(self.limit)),
            "--check-every",
            str(checkEvery),
            "--check-all-below",
            str(checkAllBelow),
            "--rcvlowat",
            str(rcvlowat),
            "--wait-go",
            *(["--tls"] if tls else []),
        ]
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.started = time.monotonic()

    def _read(self, stream: IO[str]) -> dict[str, Any]:
        deadline = self.started + self.limit + 5
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the C load generator did not answer")
            ready, _, _ = select.select([stream], [], [], min(left, 1.0))
            if ready:
                line = stream.readline()
                if not line:
                    err = self.proc.stderr.read() if self.proc.stderr else ""
                    raise RuntimeError(f"the C load generator exited: {err}")
                result: dict[str, Any] = json.loads(line)
                return result

    def settled(self) -> dict[str, Any]:
        """
        @return: The login and settle phases' figures, once both are over.
        """
        assert self.proc.stdout is not None
        return self._read(self.proc.stdout)

    def go(self) -> None:
        """
        Start sending.
        """
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def result(self) -> dict[str, Any]:
        """
        @return: The send and drain phases' figures, once the drain is over.
        """
        assert self.proc.stdout is not None
        return self._read(self.proc.stdout)

    def close(self) -> None:
        """
        Stop the generator (by its PID) if it still runs, and reap it.
        """
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
