"""
Moderation through the IRC door over real sockets against a real
C{twistd chat --irc --oper ...}: a channel's maker operates it, gives
voice, moderates it and kicks; a server operator kills; a line user sees
the kick as the core tells it.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.irc_support import IrcSocket
from tests.integration.support import ChatServer


def test_an_irc_channel_moderated_kicked_and_killed_over_sockets(
    tmp_path: Path,
) -> None:
    server = ChatServer(
        tmp_path,
        "--irc",
        "tcp:0:interface=127.0.0.1",
        "--rate",
        "0",
        "--oper",
        "memory:root:sesame",
    )
    try:
        alice, bob, root = (IrcSocket(server.ircPorts[0]) for _ in range(3))
        names = alice.register("m_alice", join="#mod")
        assert [m.params[-1] for m in names if m.command == "353"] == ["@m_alice"]
        bob.register("m_bob", join="#mod")
        alice.expect("JOIN")
        line = server.login("m_dave")
        line.send("/join #mod")
        alice.expect("JOIN")

        alice.send("MODE #mod +m")
        assert alice.expect("MODE").params == ("#mod", "+m")
        assert bob.expect("MODE").params == ("#mod", "+m")
        bob.send("PRIVMSG #mod :hello?")
        assert bob.expect("404").params[1] == "#mod"
        alice.send("MODE #mod +v m_bob")
        assert bob.expect("MODE").params == ("#mod", "+v", "m_bob")
        bob.send("PRIVMSG #mod :hello!")
        assert alice.expect("PRIVMSG").params == ("#mod", "hello!")

        alice.send("KICK #mod m_bob :be quiet")
        kick = bob.expect("KICK")
        assert kick.prefix.startswith("m_alice!")
        assert kick.params == ("#mod", "m_bob", "be quiet")
        told = b"#mod <-- m_bob has left (kicked by m_alice: be quiet)\r\n"
        assert any(line.readline() == told for _ in range(30))

        root.register("m_root")
        root.send("OPER root sesame")
        assert root.expect("381")
        root.send("KILL m_bob :enough")
        assert bob.expect("ERROR").params[0].startswith("Closing link")
        assert bob.closed()
    finally:
        server.stop()
