"""
An irctest controller for this chat server's IRC door (see README.md here).

C{CHAT_TWISTD} names the C{twistd} of the build under test (one with this
project installed); C{CHAT_ACCOUNTS} the accounts store (C{memory} unless
set, empty for none); C{CHAT_OPER} set gives the server an operator
C{operuser}/C{operpassword}.
"""

import os

from irctest.basecontrollers import BaseServerController, DirectoryBasedController
from irctest.cases import BaseServerTestCase
from irctest.runner import NotImplementedByController


class ChatController(BaseServerController, DirectoryBasedController):
    software_name = "twisted-chat"
    supported_sasl_mechanisms: set[str] = {"PLAIN"}
    supports_sts = False
    extban_mute_char = "m"

    def run(
        self,
        hostname: str,
        port: int,
        *,
        password: str | None,
        ssl: bool,
        run_services: bool,
        faketime: str | None,
        websocket_hostname: str | None,
        websocket_port: int | None,
    ) -> None:
        if websocket_hostname is not None or websocket_port is not None:
            raise NotImplementedByController("Websocket")
        if password:
            raise NotImplementedByController("server password")
        if ssl:
            raise NotImplementedByController("TLS")
        if faketime:
            raise NotImplementedByController("faketime")
        assert self.proc is None
        self.port = port
        self.hostname = hostname
        self.create_config()
        assert self.directory
        options = ["--rate", "0", "--max-per-ip", "0", "--connect-rate", "0/1"]
        options += ["--server-name", "My.Little.Server"]
        accounts = os.environ.get("CHAT_ACCOUNTS", "memory")
        if accounts:
            # The accounts are the server's own: no services to run.
            options += ["--accounts", accounts]
        elif run_services:
            raise NotImplementedByController("services")
        if os.environ.get("CHAT_OPER"):
            options += ["--oper", "memory:operuser:operpassword"]
        self.proc = self.execute(
            [
                os.environ["CHAT_TWISTD"],
                "-n",
                "--pidfile",
                "",
                "--logfile",
                str(self.directory / "chat.log"),
                "chat",
                "--irc",
                f"tcp:{port}:interface={hostname}",
                *options,
            ],
            cwd=self.directory,
        )

    def wait_for_services(self) -> None:
        """
        Nothing to wait for: the accounts are the server's own.
        """

    def registerUser(
        self,
        case: BaseServerTestCase,
        username: str,
        password: str | None = None,
    ) -> None:
        """
        Register C{username} as the server's users do: draft/account-registration.
        """
        if not os.environ.get("CHAT_ACCOUNTS", "memory"):
            raise NotImplementedByController("account registration")
        assert password
        client = case.addClient(show_io=False)
        case.sendLine(client, "CAP LS 302")
        case.sendLine(client, "NICK " + username)
        case.sendLine(client, "USER r e g :user")
        case.sendLine(client, "CAP END")
        while case.getRegistrationMessage(client).command != "001":
            pass
        case.getMessages(client)
        case.sendLine(client, f"REGISTER * * {password}")
        while True:
            msg = case.getMessage(client)
            if msg.command == "REGISTER" and msg.params[0] == "SUCCESS":
                break
            assert msg.command not in ("FAIL", "ERROR"), msg
        case.sendLine(client, "QUIT")
        case.assertDisconnected(client)


def get_irctest_controller_class() -> type[ChatController]:
    return ChatController
