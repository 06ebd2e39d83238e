"""
C{twistd chat --console}: the checks made while the command line is read,
and the service it makes.
"""

from __future__ import annotations

import pytest
from twisted.python import usage
from twisted.scripts._twistd_unix import ServerOptions

from chatserver import tap
from chatserver.console.service import ConsoleService, check_console
from chatserver.service import ChatService

pytestmark = pytest.mark.gui

PORT = ["--port", "tcp:0:interface=127.0.0.1"]


def test_make_service() -> None:
    options = tap.Options()
    options.parseOptions(["--console", *PORT])
    service = tap.makeService(options)
    assert isinstance(service, ConsoleService)
    assert isinstance(service.chat, ChatService)
    assert list(service) == [service.chat]
    assert service.server is service.chat.server
    assert service.addresses is service.chat.addresses


def test_without_console() -> None:
    options = tap.Options()
    options.parseOptions(PORT)
    assert isinstance(tap.makeService(options), ChatService)


# Not -b (--debug, which also implies -n): parsing it turns on Failure's
# debug mode for the whole test process.
@pytest.mark.parametrize("flags", [["-n"], ["--nodaemon"]])
def test_twistd_without_daemon(flags: list[str]) -> None:
    config = ServerOptions()
    config.parseOptions([*flags, "chat", "--console", *PORT])
    assert config.subOptions["console"]


def test_debug_implies_nodaemon() -> None:
    check_console({"nodaemon": False, "debug": True})
    check_console(None)  # no twistd: nothing to check but the display
    with pytest.raises(usage.UsageError):
        check_console({"nodaemon": False, "debug": False})


def test_twistd_daemon_refused() -> None:
    config = ServerOptions()
    with pytest.raises(usage.UsageError) as raised:
        config.parseOptions(["chat", "--console", *PORT])
    assert str(raised.value) == (
        "--console needs twistd -n (--nodaemon): the console cannot run in a daemon"
    )


def test_no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY")
    options = tap.Options()
    with pytest.raises(SystemExit) as raised:
        options.parseOptions(["--console", *PORT])
    assert str(raised.value) == (
        "twistd chat: --console: cannot open a window "
        "(no display name and no $DISPLAY environment variable)"
    )


def test_console_theme_reaches_the_console() -> None:
    options = tap.Options()
    options.parseOptions(["--console", "--console-theme", "dark", *PORT])
    service = tap.makeService(options)
    assert isinstance(service, ConsoleService)
    assert service.theme == "dark"


def test_console_theme_is_light_or_dark() -> None:
    options = tap.Options()
    with pytest.raises(usage.UsageError) as raised:
        options.parseOptions(["--console", "--console-theme", "purple", *PORT])
    assert str(raised.value) == "--console-theme: light or dark"
