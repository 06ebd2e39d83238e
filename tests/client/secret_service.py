"""
A real Secret Service for the tests of the client's "Remember password": a
private D-Bus session bus (C{dbus-daemon}) with GNOME Keyring's daemon on
it, its login keyring made and unlocked in a temporary home, and this
process pointed at that bus.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import secretstorage
from keyring.backends import SecretService as secret_service_backend

from tests.integration.support import TIMEOUT, wait_for

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={path}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class SecretService:
    """
    C{dbus-daemon} and C{gnome-keyring-daemon}, started for one test and
    stopped by L{stop}.

    @ivar backend: The C{keyring} package's Secret Service backend, talking
        to this daemon.
    """

    def __init__(self, directory: Path) -> None:
        home = directory / "keyring-home"
        runtime = directory / "keyring-run"
        for made in (home, runtime):
            made.mkdir(mode=0o700)
        # A bus of its own that starts no service by itself (no service
        # directories): the daemon started here is the only Secret
        # Service, and nothing outlives the test.
        bus = directory / "bus.conf"
        bus.write_text(BUS_CONFIG.format(path=directory / "bus"), "utf-8")
        started = subprocess.run(
            [
                "dbus-daemon",
                f"--config-file={bus}",
                "--fork",
                "--nopidfile",
                "--print-address=1",
                "--print-pid=1",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=TIMEOUT,
        )
        self.address, pid = started.stdout.split()[:2]
        self.busPid = int(pid)
        self._before = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = self.address
        env = {
            **os.environ,
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_RUNTIME_DIR": str(runtime),
        }
        # --unlock reads the login keyring's password from its input,
        # making that keyring unlocked: no prompt is ever shown.
        self.daemon = subprocess.Popen(
            [
                "gnome-keyring-daemon",
                "--foreground",
                "--unlock",
                "--components=secrets",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert self.daemon.stdin is not None
        self.daemon.stdin.write(b"test keyring password")
        self.daemon.stdin.close()
        self.backend: Any = secret_service_backend.Keyring()
        wait_for(self._answers, "the Secret Service on the bus")

    def _answers(self) -> bool:
        # The daemon makes its login keyring a moment after it answers on
        # the bus; asked before, keyring would make one itself, through a
        # prompt nobody answers.
        try:
            connection = secretstorage.dbus_init()
            try:
                if secretstorage.Collection(connection).is_locked():
                    return False
            finally:
                connection.close()
        except Exception:
            if self.daemon.poll() is not None:
                raise AssertionError("gnome-keyring-daemon exited") from None
            return False
        return True

    def stop(self) -> None:
        """
        Stop both daemons and point this process back at its own bus.
        """
        if self.daemon.poll() is None:
            self.daemon.terminate()
        try:
            self.daemon.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.busPid, signal.SIGTERM)
        if self._before is None:
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = self._before
