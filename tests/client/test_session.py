"""
Logging in, sending, losing the connection and coming back, without
sockets or Tk.
"""

from __future__ import annotations

import time

from twisted.internet.task import Clock

from chatclient.model import ChatModel, Status
from chatclient.session import SILENCE, ChatSession
from chatwire import lines
from tests.client.fakes import FakeEndpoint, FakeView


def policy(attempts: int) -> float:
    return 3.0


def build() -> tuple[ChatSession, FakeView, FakeEndpoint, Clock]:
    clock, endpoint, view = Clock(), FakeEndpoint(), FakeView()
    model = ChatModel(clock, localtime=time.gmtime)
    model.attach(view)
    session = ChatSession(model, clock, endpoint.make, policy)
    return session, view, endpoint, clock


GREETING = (lines.Info("Welcome to chat."), lines.Prompt("name", "What's your name?"))


def login(session: ChatSession, endpoint: FakeEndpoint, name: str = "me") -> None:
    session.connect("127.0.0.1", 8123, name)
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING)
    assert endpoint.last.sent() == [name]
    endpoint.last.receive(lines.Welcome("chat", name), lines.UserList((name, "bob")))
    assert endpoint.last.sent() == ["/where", "/rooms"]
    endpoint.last.receive(lines.InRoom("#lobby", lines.UserList((name, "bob"))))
    # The client asks who has which role (the answer to /where does not say).
    assert endpoint.last.sent() == ["/who #lobby"]
    endpoint.last.receive(lines.InRoom("#lobby", lines.UserList((name, "bob"))))


def test_login() -> None:
    session, view, endpoint, clock = build()
    login(session, endpoint)
    clock.advance(0)
    assert session.loggedIn
    assert view.chat
    assert view.users == ["bob", "me"]
    assert view.status == Status("Logged in to 127.0.0.1:8123 as me.", "ok")
    assert view.title == "me on 127.0.0.1:8123 - Chat"
    assert view.texts()[0] == "-!- Welcome to chat."


def test_name_taken_then_another_on_the_same_connection() -> None:
    session, view, endpoint, _ = build()
    session.connect("127.0.0.1", 8123, "bob")
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING)
    assert endpoint.last.sent() == ["bob"]
    endpoint.last.receive(lines.Error("the name bob is taken, choose another"))
    assert view.login == "the name bob is taken, choose another"
    assert view.status.level == "warning"
    assert not session.loggedIn
    session.connect("127.0.0.1", 8123, "bob2")
    assert len(endpoint.attempts) == 1
    assert endpoint.last.sent() == ["bob2"]
    endpoint.last.receive(lines.Welcome("chat", "bob2"))
    assert view.chat


def test_connect_before_the_prompt_waits_for_it() -> None:
    session, view, endpoint, _ = build()
    session.connect("h", 1, "")
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING)
    assert endpoint.last.sent() == []
    assert view.login == ""
    session.connect("h", 1, "me")
    assert endpoint.last.sent() == ["me"]


def test_send_and_echo() -> None:
    session, view, endpoint, clock = build()
    assert session.send("early") == "not connected, nothing was sent"
    login(session, endpoint)
    assert session.send("hello") == ""
    assert session.send("/me waves") == ""
    assert session.send("/msg bob psst") == ""
    assert session.send("bad\x01") != ""
    assert session.send("  ") == ""
    assert endpoint.last.sent() == ["hello", "/me waves", "/msg bob psst"]
    endpoint.last.receive(lines.PrivateOut("bob", "psst"), lines.Message("bob", "yo"))
    clock.advance(0)
    assert view.shown("#lobby")[-3:] == ["<me> hello", "* me waves", "<bob> yo"]
    assert [line.kind for line in view.held["#lobby"][-3:]] == [
        "own",
        "action",
        "message",
    ]
    # The private message opened its own tab.
    assert view.shown("bob") == ["-> *bob* psst"]
    assert view.tabs == ["#lobby", "bob"]


def test_lost_reconnects_and_logs_in_again() -> None:
    session, view, endpoint, clock = build()
    login(session, endpoint)
    endpoint.last.receive(lines.Renamed("me", "me2"))
    endpoint.last.lose()
    clock.advance(0)
    assert view.users == []
    lost = "Connection to 127.0.0.1:8123 lost: the connection was lost."
    assert view.texts()[-1] == lost
    assert view.status == Status(f"{lost} Retrying in 3s.", "error", True)
    clock.advance(1)
    assert view.status.text.endswith("Retrying in 2s.")
    clock.advance(2)
    assert view.status.text == f"{lost} Trying again…"
    endpoint.last.refuse()
    assert view.status == Status(
        "cannot reach 127.0.0.1:8123, is the server running? Retrying in 3s.",
        "error",
        True,
    )
    session.reconnectNow()
    assert len(endpoint.attempts) == 3
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING)
    assert endpoint.last.sent() == ["me2"]  # the name after /nick
    endpoint.last.receive(lines.Welcome("chat", "me2"), lines.UserList(("me2",)))
    clock.advance(0)
    assert view.users == ["me2"]
    assert session.loggedIn
    assert clock.getDelayedCalls() == []


def test_relogin_refused_says_why() -> None:
    session, view, endpoint, clock = build()
    login(session, endpoint)
    endpoint.last.lose()
    clock.advance(3)
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING)
    endpoint.last.receive(lines.Error("the name me is taken, choose another"))
    assert view.login == "the name me is taken, choose another"
    assert view.status.text == (
        "Reconnected, but cannot log in as me: the name me is taken, choose another."
    )


def test_typed_quit() -> None:
    session, view, endpoint, clock = build()
    login(session, endpoint)
    session.send("/quit")
    assert endpoint.last.sent() == ["/quit"]
    assert endpoint.last.transport.disconnecting
    endpoint.last.lose()
    clock.advance(0)
    assert view.texts()[-1] == "You left the chat."
    assert view.login == ""
    assert not session.loggedIn
    assert clock.getDelayedCalls() == []


def test_connect_again_while_quitting() -> None:
    session, view, endpoint, clock = build()
    login(session, endpoint)
    session.send("/quit")
    session.connect("127.0.0.1", 8123, "me")
    assert len(endpoint.attempts) == 1  # not before the old one is closed
    endpoint.last.lose()
    clock.advance(0)
    assert len(endpoint.attempts) == 2
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING)
    assert endpoint.last.sent() == ["me"]
    endpoint.last.receive(lines.Welcome("chat", "me"))
    assert session.loggedIn
    assert view.chat


def test_quit_from_window() -> None:
    session, _, endpoint, clock = build()
    login(session, endpoint)
    done = session.quit()
    assert endpoint.last.sent() == ["/quit"]
    assert not done.called
    endpoint.last.lose()
    assert done.called
    clock.advance(0)
    assert clock.getDelayedCalls() == []


def test_quit_times_out() -> None:
    session, _, endpoint, clock = build()
    login(session, endpoint)
    done = session.quit(timeout=2)
    clock.advance(2)
    assert done.called


def test_bad_line_is_shown() -> None:
    session, view, endpoint, clock = build()
    login(session, endpoint)
    endpoint.last.protocol.dataReceived(b"garbage\r\n")  # type: ignore[union-attr]
    clock.advance(0)
    assert "cannot read" in view.texts()[-1]


def test_refused_by_a_full_server_says_why() -> None:
    session, view, endpoint, _ = build()
    session.connect("127.0.0.1", 8123, "me")
    endpoint.last.succeed()
    endpoint.last.receive(lines.Error("the server is full, please try again later"))
    assert view.status == Status(
        "The server says: the server is full, please try again later.", "error"
    )
    endpoint.last.lose()
    assert view.status.text.startswith(
        "Connection to 127.0.0.1:8123 lost: the connection was lost "
        "(the server is full, please try again later). Retrying in 3s."
    )


# Accounts: the server asks for a password after the name.

PASSWORD_PROMPT = lines.Prompt("password", "Password for alice?")
NAME_PROMPT = lines.Prompt("name", "What's your name?")
WRONG = lines.Error("wrong name or password")


def test_login_with_a_password() -> None:
    session, view, endpoint, clock = build()
    session.connect("127.0.0.1", 8123, "alice", "s3cret")
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING)
    assert endpoint.last.sent() == ["alice"]
    endpoint.last.receive(PASSWORD_PROMPT)
    assert endpoint.last.sent() == ["s3cret"]
    assert view.status.text == "Logging in to 127.0.0.1:8123 as alice…"
    endpoint.last.receive(lines.Welcome("chat", "alice"))
    clock.advance(0)
    assert view.chat
    assert not any("s3cret" in text for text in view.texts())
    assert not any("Password for" in text for text in view.texts())


def test_the_form_asks_for_a_password_when_none_is_held() -> None:
    session, view, endpoint, _ = build()
    session.connect("127.0.0.1", 8123, "alice")
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING, PASSWORD_PROMPT)
    assert endpoint.last.sent() == ["alice"]
    assert view.password == "alice"
    assert not view.chat
    assert view.status.text == "127.0.0.1:8123 asks for the password of alice."
    # Enter twice, or before typing it: nothing is sent.
    session.connect("127.0.0.1", 8123, "alice", "")
    assert endpoint.last.sent() == []
    session.connect("127.0.0.1", 8123, "alice", "s3cret")
    assert endpoint.last.sent() == ["s3cret"]
    session.connect("127.0.0.1", 8123, "alice", "s3cret")
    assert endpoint.last.sent() == []  # the answer is on its way
    endpoint.last.receive(lines.Welcome("chat", "alice"))
    assert session.loggedIn
    assert len(endpoint.attempts) == 1


def test_wrong_password_then_the_right_one_on_the_same_connection() -> None:
    session, view, endpoint, _ = build()
    session.connect("127.0.0.1", 8123, "alice", "nope")
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING, PASSWORD_PROMPT)
    assert endpoint.last.sent() == ["alice", "nope"]
    endpoint.last.receive(WRONG, NAME_PROMPT)
    # Beside the password field; the wrong password is forgotten and the
    # server's new name prompt waits for the user.
    assert (view.login, view.loginField) == ("wrong name or password", "password")
    assert view.status == Status(
        "Cannot log in as alice: wrong name or password.", "warning"
    )
    assert endpoint.last.sent() == []
    assert not session.hasPassword
    session.connect("127.0.0.1", 8123, "alice", "s3cret")
    assert endpoint.last.sent() == ["alice"]
    endpoint.last.receive(PASSWORD_PROMPT)
    assert endpoint.last.sent() == ["s3cret"]
    endpoint.last.receive(lines.Welcome("chat", "alice"))
    assert session.loggedIn
    assert len(endpoint.attempts) == 1


def test_already_logged_in_is_shown_beside_the_name() -> None:
    session, view, endpoint, _ = build()
    session.connect("127.0.0.1", 8123, "alice", "s3cret")
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING)
    endpoint.last.sent()
    endpoint.last.receive(lines.Error("alice is already logged in"))
    assert (view.login, view.loginField) == ("alice is already logged in", "name")
    assert session.hasPassword  # it was not refused
    session.connect("127.0.0.1", 8123, "bob", "hunter2")
    assert endpoint.last.sent() == ["bob"]


def test_three_failures_close_and_it_does_not_try_again() -> None:
    session, view, endpoint, clock = build()
    session.connect("127.0.0.1", 8123, "alice", "nope")
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING, PASSWORD_PROMPT)
    endpoint.last.receive(WRONG, NAME_PROMPT)
    session.connect("127.0.0.1", 8123, "alice", "nope2")
    endpoint.last.receive(PASSWORD_PROMPT)
    assert endpoint.last.sent() == ["alice", "nope", "alice", "nope2"]
    goodbye = "wrong name or password; too many failures, goodbye"
    endpoint.last.receive(lines.Error(goodbye))
    endpoint.last.lose()
    assert (view.login, view.loginField) == (goodbye, "password")
    assert view.status.level == "error"
    assert "closed the connection after failed logins" in view.status.text
    assert not view.status.canReconnect
    assert not session.connection.active
    clock.advance(3600)
    assert len(endpoint.attempts) == 1
    # The user tries again: a new connection.
    session.connect("127.0.0.1", 8123, "alice", "s3cret")
    assert len(endpoint.attempts) == 2
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING, PASSWORD_PROMPT)
    assert endpoint.last.sent() == ["alice", "s3cret"]


def test_reconnect_logs_in_again_with_the_password() -> None:
    session, view, endpoint, clock = build()
    session.connect("127.0.0.1", 8123, "alice", "s3cret")
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING, PASSWORD_PROMPT)
    endpoint.last.receive(lines.Welcome("chat", "alice"))
    endpoint.last.sent()
    endpoint.last.lose()
    clock.advance(3)
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING, PASSWORD_PROMPT)
    assert endpoint.last.sent() == ["alice", "s3cret"]
    endpoint.last.receive(lines.Welcome("chat", "alice"))
    assert session.loggedIn
    # Its password changed meanwhile: refused once, then it is the user's.
    endpoint.last.lose()
    clock.advance(3)
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING, PASSWORD_PROMPT)
    endpoint.last.receive(WRONG, NAME_PROMPT)
    assert endpoint.last.sent() == ["alice", "s3cret"]
    assert view.status.text == (
        "Reconnected, but cannot log in as alice: wrong name or password."
    )
    assert not session.hasPassword
    assert session.connection.active  # still connected, waiting for the user


def test_after_quit_the_held_password_is_used_for_the_same_name_only() -> None:
    session, _, endpoint, clock = build()
    session.connect("127.0.0.1", 8123, "alice", "s3cret")
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING, PASSWORD_PROMPT, lines.Welcome("chat", "alice"))
    session.send("/quit")
    endpoint.last.lose()
    clock.advance(0)
    session.connect("127.0.0.1", 8123, "alice", "")  # the form was cleared
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING, PASSWORD_PROMPT)
    assert endpoint.last.sent() == ["alice", "s3cret"]
    endpoint.last.receive(lines.Welcome("chat", "alice"))
    session.send("/quit")
    endpoint.last.lose()
    clock.advance(0)
    session.connect("127.0.0.1", 8123, "bob", "")
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING, lines.Prompt("password", "Password for bob?"))
    assert endpoint.last.sent() == ["bob"]  # alice's password is not bob's


def test_another_name_while_the_password_is_asked_starts_over() -> None:
    session, _, endpoint, clock = build()
    session.connect("127.0.0.1", 8123, "alice")
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING, PASSWORD_PROMPT)
    endpoint.last.sent()
    # The server waits for alice's password; bob's must not be sent as it.
    session.connect("127.0.0.1", 8123, "bob", "hunter2")
    assert endpoint.last.sent() == []
    assert endpoint.last.transport.disconnecting
    endpoint.last.lose()
    clock.advance(0)
    assert len(endpoint.attempts) == 2
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING)
    endpoint.last.receive(lines.Prompt("password", "Password for bob?"))
    assert endpoint.last.sent() == ["bob", "hunter2"]


# TLS


def test_tls_connection_and_status() -> None:
    session, view, endpoint, _ = build()
    session.connect("127.0.0.1", 8124, "me", tls=True)
    assert endpoint.tls == [True]
    endpoint.last.succeed()
    assert view.status.text == "Connected to 127.0.0.1:8124, checking its certificate…"
    endpoint.last.receive(*GREETING, lines.Welcome("chat", "me"))
    assert view.status == Status("Logged in to 127.0.0.1:8124 as me (TLS).", "ok")


def test_refused_certificate_is_shown_and_not_retried() -> None:
    from OpenSSL import SSL

    session, view, endpoint, clock = build()
    session.connect("127.0.0.1", 8124, "me", tls=True)
    endpoint.last.succeed()
    endpoint.last.lose(SSL.Error([("SSL routines", "", "certificate verify failed")]))
    clock.advance(0)
    why = "the certificate of 127.0.0.1:8124 is not trusted (certificate verify failed)"
    assert (view.login, view.loginField) == (why, "tls")
    assert view.status.level == "error"
    assert view.status.text.startswith(f"Not connected: {why}. Not retrying")
    assert not view.status.canReconnect
    assert view.texts()[-1] == f"Not connected: {why}."
    clock.advance(3600)
    assert len(endpoint.attempts) == 1
    assert clock.getDelayedCalls() == []
    # Connecting again tries again, once.
    session.connect("127.0.0.1", 8124, "me", tls=True)
    assert len(endpoint.attempts) == 2


def test_a_silent_server_is_wondered_about() -> None:
    session, view, endpoint, clock = build()
    session.connect("127.0.0.1", 8124, "me")
    endpoint.last.succeed()
    clock.advance(SILENCE)
    assert view.status == Status(
        "Connected to 127.0.0.1:8124, but the server has said nothing for 10 "
        "seconds. Is it a TLS port? Then tick TLS.",
        "warning",
    )
    # Any line ends the wait.
    session2, view2, endpoint2, clock2 = build()
    login(session2, endpoint2)
    clock2.advance(SILENCE)
    assert view2.status.level == "ok"
    assert clock2.getDelayedCalls() == []


def test_the_held_password_never_goes_to_another_server_by_itself() -> None:
    session, _, endpoint, clock = build()
    session.connect("a.example", 8124, "alice", "s3cret", tls=True)
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING, PASSWORD_PROMPT, lines.Welcome("chat", "alice"))
    session.send("/quit")
    endpoint.last.lose()
    clock.advance(0)
    for host, port, tls in (("b.example", 8124, True), ("a.example", 8124, False)):
        session.connect(host, port, "alice", "", tls=tls)
        endpoint.last.succeed()
        endpoint.last.receive(*GREETING, PASSWORD_PROMPT)
        assert endpoint.last.sent() == ["alice"], (host, tls)
        session.quit()
        endpoint.last.lose()
        clock.advance(0)
    assert not session.hasPassword


# Create account: register the name once logged in as a guest (--accounts).


def test_create_account_registers_the_name_after_a_guest_login() -> None:
    session, view, endpoint, _ = build()
    session.connect("127.0.0.1", 8123, "alice", "s3cret", register=True)
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING)
    assert endpoint.last.sent() == ["alice"]
    endpoint.last.receive(lines.Welcome("chat", "alice"))
    assert endpoint.last.sent() == ["/register s3cret", "/where", "/rooms"]
    assert "s3cret" not in "\n".join(view.texts())


def test_create_account_of_a_name_that_is_an_account_only_logs_in() -> None:
    session, _, endpoint, _ = build()
    session.connect("127.0.0.1", 8123, "alice", "s3cret", register=True)
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING)
    endpoint.last.receive(PASSWORD_PROMPT)
    assert endpoint.last.sent() == ["alice", "s3cret"]
    endpoint.last.receive(lines.Welcome("chat", "alice"))
    assert endpoint.last.sent() == ["/where", "/rooms"]


def test_a_login_with_a_password_is_an_account_and_one_without_a_guest() -> None:
    session, _view, endpoint, _clock = build()
    session.connect("127.0.0.1", 8123, "alice", "s3cret")
    endpoint.last.succeed()
    endpoint.last.receive(*GREETING, PASSWORD_PROMPT, lines.Welcome("chat", "alice"))
    assert session.model.account
    session, _view, endpoint, _clock = build()
    login(session, endpoint)
    assert not session.model.account
