"""
Reload on SIGHUP against a real twistd: the password files, the TLS
certificate and the message of the day are read again, nobody is
disconnected, a bad file keeps what was there, and systemd is told
C{RELOADING=1} then C{READY=1}.
"""

from __future__ import annotations

import re
import signal
import socket

from chatserver.auth.passwords import PasswordFile
from chatwire import lines
from tests.integration.support import TIMEOUT, ChatServer, Client
from tests.integration.test_accounts import log_in
from tests.integration.test_tls import TLSClient, make_certificate

CHEAP = 2**4  # scrypt cost for tests


def hang_up(server: ChatServer) -> None:
    """
    Send the server SIGHUP and wait until it has reloaded.
    """
    server.process.send_signal(signal.SIGHUP)
    server.wait_for_log("Reloaded ")


def still_connected(client: Client, other: Client) -> None:
    """
    Check that C{client} still takes part in the chat: C{other} hears it.
    """
    client.send("still here")
    heard = other.expect(lines.Message)
    assert isinstance(heard, lines.Message) and heard.text == "still here"


def test_sighup_reads_the_password_file_again(tmp_path, start_server):
    users = tmp_path / "users"
    PasswordFile(users).add("alice", "old", cost=CHEAP)
    PasswordFile(users).add("bob", "bobs", cost=CHEAP)
    server = start_server("--rate", "0", "--auth", f"passwd:{users}")
    alice = log_in(server, "alice", "old")
    alice.expect(lines.UserList)
    PasswordFile(users).set("alice", "new", cost=CHEAP)
    hang_up(server)
    bob = log_in(server, "bob", "bobs")
    bob.expect(lines.UserList)
    still_connected(alice, bob)
    alice.close()
    bob.expect(lines.Left)
    assert log_in(server, "alice", "old").event() == lines.Error(
        "wrong name or password"
    )
    assert log_in(server, "alice", "new").event() == lines.Welcome("chat", "alice")


def test_a_bad_operators_password_file_is_told_and_the_operators_kept(
    tmp_path, start_server
):
    operators = tmp_path / "operators"
    PasswordFile(operators).add("root", "s3cret", cost=CHEAP)
    server = start_server("--rate", "0", "--oper", f"passwd:{operators}")
    operators.write_text("root has no colon\n")
    hang_up(server)
    failed = re.findall(r"Reload failed: .*", server.log())
    assert failed == [
        f"Reload failed: password file {operators}: {operators}:1: no ':' in the "
        "line; kept the old one"
    ]
    alice = Client(server.port)
    alice.send("alice")
    alice.expect(lines.UserList)
    alice.send("/oper root s3cret")
    assert alice.expect(lines.Info) == lines.Info("you are a server operator now")


def test_a_bad_password_file_keeps_the_accounts_read_before(tmp_path, start_server):
    users = tmp_path / "users"
    PasswordFile(users).add("alice", "s3cret", cost=CHEAP)
    server = start_server("--auth", f"passwd:{users}")
    users.write_text("alice has no colon\n")
    hang_up(server)
    failed = re.findall(r"Reload failed: .*", server.log())
    assert failed == [
        f"Reload failed: password file {users}: {users}:1: no ':' in the line; "
        "kept the old one"
    ]
    assert log_in(server, "alice", "s3cret").event() == lines.Welcome("chat", "alice")
    assert "Traceback" not in server.log()


def test_sighup_gives_new_tls_connections_the_new_certificate(tmp_path, start_server):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    old_pem, old_cert = make_certificate(old)
    new_pem, new_cert = make_certificate(new)
    served = tmp_path / "server.pem"
    served.write_bytes(old_pem.read_bytes())
    server = start_server(
        "--rate", "0", "--port", f"ssl:0:interface=127.0.0.1:privateKey={served}"
    )
    plain = server.login("plain")
    before = TLSClient(server.ports[1], old_cert)
    before.expect(lines.Prompt)
    before.send("before")
    before.expect(lines.UserList)
    served.write_bytes(new_pem.read_bytes())
    hang_up(server)
    after = TLSClient(server.ports[1], new_cert)
    after.expect(lines.Prompt)
    still_connected(before, plain)


def test_a_bad_certificate_keeps_the_one_in_use(tmp_path, start_server):
    pem, cert = make_certificate(tmp_path)
    served = tmp_path / "served.pem"
    served.write_bytes(pem.read_bytes())
    server = start_server("--port", f"ssl:0:interface=127.0.0.1:privateKey={served}")
    served.write_text("not a certificate\n")
    hang_up(server)
    assert len(re.findall(r"Reload failed: TLS certificate ", server.log())) == 1
    TLSClient(server.ports[1], cert).expect(lines.Prompt)


def test_sighup_reads_the_motd_file_again(tmp_path, start_server):
    motd = tmp_path / "motd"
    motd.write_text("first words\n")
    server = start_server("--motd-file", str(motd))
    first = server.connect()
    first.expect(lines.Prompt)
    first.send("first")
    assert first.expect(lines.Info) == lines.Info("first words")
    motd.write_text("second words\n")
    hang_up(server)
    second = server.connect()
    second.expect(lines.Prompt)
    second.send("second")
    assert second.expect(lines.Info) == lines.Info("second words")


def test_systemd_is_told_reloading_then_ready(tmp_path):
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(path)
        systemd.settimeout(TIMEOUT)
        server = ChatServer(tmp_path, env={"NOTIFY_SOCKET": path})
        try:
            assert systemd.recv(4096) == b"READY=1"
            server.process.send_signal(signal.SIGHUP)
            assert re.fullmatch(rb"RELOADING=1\nMONOTONIC_USEC=\d+", systemd.recv(4096))
            assert systemd.recv(4096) == b"READY=1"
        finally:
            server.stop()
