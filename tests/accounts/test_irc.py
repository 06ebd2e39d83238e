"""
Accounts through the IRC door, with the IRC test helpers: IRCv3
draft/account-registration (REGISTER), SASL PLAIN for registered and
--auth accounts, account-tag, extended-join and account-notify.
"""

from __future__ import annotations

from base64 import b64encode

from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse

from chatserver.accounts import actions
from chatserver.testing import ChatHarness, IrcClient
from tests.accounts.support import account_of, accounts_harness, register

REGISTRATION = "draft/account-registration"


def plain(name: str, password: str) -> str:
    return b64encode(f"\0{name}\0{password}".encode()).decode()


def sasl_login(chat: ChatHarness, name: str, password: str, *caps: str) -> IrcClient:
    client = chat.irc()
    client.send("CAP LS 302", f"CAP REQ :{' '.join(('sasl', *caps))}")
    client.send(f"NICK {name}", f"USER {name} 0 * :Real {name}")
    client.send("AUTHENTICATE PLAIN")
    client.send(f"AUTHENTICATE {plain(name, password)}")
    client.send("CAP END")
    return client


def test_registration_is_advertised_with_its_values():
    chat = accounts_harness()
    client = chat.irc()
    client.send("CAP LS 302")
    (ls,) = client.messages()
    tokens = ls.params[2].split()
    assert f"{REGISTRATION}=before-connect" in tokens
    assert "sasl=PLAIN" in tokens
    for cap in ("account-tag", "extended-join", "account-notify"):
        assert cap in tokens


def test_registration_closed_is_not_advertised():
    chat = accounts_harness(registration=False)
    client = chat.irc()
    client.send("CAP LS 302")
    (ls,) = client.messages()
    assert REGISTRATION not in ls.params[2]
    assert "sasl=PLAIN" in ls.params[2].split()


def test_register_star_after_connection_registers_the_nick():
    chat = accounts_harness()
    client = chat.ircLogin("bar", REGISTRATION)
    client.send("REGISTER * * shivarampassphrase")
    messages = client.messages()
    assert [m.command for m in messages] == ["900", "REGISTER"]
    assert messages[1].params == ("SUCCESS", "bar", "Account created")
    assert account_of(chat, "bar") == "bar"


def test_register_the_nick_by_name():
    chat = accounts_harness()
    client = chat.ircLogin("bar", REGISTRATION)
    client.send("REGISTER bar * shivarampassphrase")
    assert client.messages()[-1].params[:2] == ("SUCCESS", "bar")


def test_register_another_name_fails_account_name_must_be_nick():
    chat = accounts_harness()
    client = chat.ircLogin("bar", REGISTRATION)
    client.send("REGISTER foo * shivarampassphrase")
    (fail,) = client.messages()
    assert fail.command == "FAIL"
    assert fail.params[:3] == ("REGISTER", "ACCOUNT_NAME_MUST_BE_NICK", "foo")


def test_register_before_connect_logs_in_to_the_account():
    chat = accounts_harness()
    client = chat.irc()
    client.send(f"CAP REQ :{REGISTRATION}", "NICK bar")
    client.send("REGISTER * * shivarampassphrase")
    messages = client.messages()
    assert [m.command for m in messages][-2:] == ["900", "REGISTER"]
    assert messages[-1].params[:2] == ("SUCCESS", "bar")
    client.send("USER bar 0 * :Bar", "CAP END")
    assert "001" in client.commands()
    assert account_of(chat, "bar") == "bar"


def test_register_before_connect_without_a_nick_fails_need_nick():
    chat = accounts_harness()
    client = chat.irc()
    client.send("REGISTER * * shivarampassphrase")
    (fail,) = client.messages()
    assert fail.params[:2] == ("REGISTER", "NEED_NICK")


def test_register_a_nick_a_guest_uses_fails_account_exists():
    chat = accounts_harness()
    chat.ircLogin("root")
    client = chat.irc()
    client.send("NICK root")
    client.raw()
    client.send("REGISTER * * shivarampassphrase")
    fail = client.messages()[-1]
    assert fail.params[:3] == ("REGISTER", "ACCOUNT_EXISTS", "root")


def test_register_a_registered_name_fails_account_exists():
    chat = accounts_harness()
    register(chat, "alice", "s3cret")
    client = chat.ircLogin("bob")
    client.send("NICK alice")
    client.raw()
    client = chat.irc()
    client.send("NICK alice")
    client.send("REGISTER * * another1")
    fail = client.messages()[-1]
    assert fail.params[:3] == ("REGISTER", "ACCOUNT_EXISTS", "alice")


def test_register_a_short_password_fails_weak_password():
    chat = accounts_harness()
    client = chat.ircLogin("bar")
    client.send("REGISTER * * ab")
    (fail,) = client.messages()
    assert fail.params[:3] == ("REGISTER", "WEAK_PASSWORD", "bar")


def test_register_twice_fails_already_authenticated():
    chat = accounts_harness()
    client = chat.ircLogin("bar")
    client.send("REGISTER * * s3cret")
    client.raw()
    client.send("REGISTER * * s3cret")
    (fail,) = client.messages()
    assert fail.params[:3] == ("REGISTER", "ALREADY_AUTHENTICATED", "bar")


def test_register_without_accounts_is_an_unknown_command():
    client = ChatHarness(rate=0).ircLogin("bar")
    client.send("REGISTER * * s3cret")
    assert client.commands() == ["421"]


def test_a_registered_nick_without_sasl_is_refused_433():
    chat = accounts_harness()
    register(chat, "alice", "s3cret")
    client = chat.irc()
    client.send("NICK alice", "USER a 0 * :A")
    (refused,) = client.messages()
    assert refused.command == "433"


def test_sasl_plain_logs_in_to_a_registered_account():
    chat = accounts_harness()
    register(chat, "jilles", "sesame")
    client = sasl_login(chat, "jilles", "sesame")
    commands = client.commands()
    assert "900" in commands and "903" in commands and "001" in commands
    assert account_of(chat, "jilles") == "jilles"


def test_sasl_plain_with_a_wrong_password_is_904_after_the_throttle():
    chat = accounts_harness()
    register(chat, "jilles", "sesame")
    client = chat.irc()
    client.send("CAP REQ :sasl", "NICK jilles", "USER j 0 * :J")
    client.send("AUTHENTICATE PLAIN", f"AUTHENTICATE {plain('jilles', 'wrong')}")
    assert client.commands()[-1] == "AUTHENTICATE"
    chat.clock.advance(0.25)
    assert client.commands() == ["904"]


def test_sasl_plain_logs_in_to_an_auth_account_beside_registered_ones():
    operator = InMemoryUsernamePasswordDatabaseDontUse(root=b"t0psecret")
    chat = accounts_harness(checkers=[operator])
    client = sasl_login(chat, "root", "t0psecret")
    assert "903" in client.commands()
    assert account_of(chat, "root") == "root"


def test_sasl_twice_is_907():
    chat = accounts_harness()
    register(chat, "jilles", "sesame")
    client = chat.irc()
    client.send("CAP REQ :sasl", "AUTHENTICATE PLAIN")
    client.send(f"AUTHENTICATE {plain('jilles', 'sesame')}")
    client.raw()
    client.send("AUTHENTICATE PLAIN")
    assert client.commands() == ["907"]


def test_account_tag_carries_the_senders_account():
    chat = accounts_harness()
    register(chat, "jilles", "sesame")
    foo = chat.ircLogin("foo", "account-tag", "message-tags")
    bar = sasl_login(chat, "jilles", "sesame")
    bar.raw()
    bar.send("PRIVMSG foo :hi")
    (message,) = foo.messages()
    assert message.command == "PRIVMSG"
    assert message.tags.get("account") == "jilles"


def test_a_guest_sends_no_account_tag():
    chat = accounts_harness()
    foo = chat.ircLogin("foo", "account-tag")
    guest = chat.ircLogin("guest")
    guest.send("PRIVMSG foo :hi")
    (message,) = foo.messages()
    assert "account" not in message.tags


def test_extended_join_gives_the_account_and_real_name():
    chat = accounts_harness()
    register(chat, "jilles", "sesame")
    foo = chat.ircLogin("foo", "extended-join", join="#chan")
    bar = sasl_login(chat, "jilles", "sesame")
    bar.raw()
    bar.send("JOIN #chan")
    guest = chat.ircLogin("guest")
    guest.send("JOIN #chan")
    joins = [m for m in foo.messages() if m.command == "JOIN"]
    assert joins[0].params == ("#chan", "jilles", "Real jilles")
    assert joins[1].params == ("#chan", "*", "Real guest")


def test_account_notify_tells_a_registration_and_an_unregistration():
    chat = accounts_harness()
    foo = chat.ircLogin("foo", "account-notify", join="#chan")
    bar = chat.ircLogin("bar", join="#chan")
    foo.raw()
    bar.send("REGISTER * * s3cret")
    (registered,) = foo.messages()
    assert registered.command == "ACCOUNT" and registered.params == ("bar",)
    user = chat.realm.get("bar")
    assert user is not None
    actions.unregister(user, "s3cret")
    (unregistered,) = foo.messages()
    assert unregistered.command == "ACCOUNT" and unregistered.params == ("*",)


def test_without_account_notify_no_account_message():
    chat = accounts_harness()
    foo = chat.ircLogin("foo", join="#chan")
    bar = chat.ircLogin("bar", join="#chan")
    foo.raw()
    bar.send("REGISTER * * s3cret")
    assert foo.messages() == []


def test_sasl_after_registration_of_a_guest_is_462():
    chat = accounts_harness()
    client = chat.ircLogin("foo", "sasl")
    client.send("AUTHENTICATE PLAIN")
    assert client.commands() == ["462"]


def test_a_sasl_message_over_4096_bytes_fails_904():
    operator = InMemoryUsernamePasswordDatabaseDontUse(root=b"t0psecret")
    chat = ChatHarness(rate=0, checkers=[operator])
    client = chat.irc()
    client.send("CAP REQ :sasl", "AUTHENTICATE PLAIN")
    client.raw()
    for _ in range(11):
        client.send("AUTHENTICATE " + "A" * 400)
    assert client.commands() == ["904"]


def test_pass_with_a_registered_nicks_password_logs_in_to_it():
    chat = accounts_harness()
    register(chat, "alice", "s3cret")
    client = chat.irc()
    client.send("PASS s3cret", "NICK alice", "USER a 0 * :A")
    assert "001" in client.commands()
    assert account_of(chat, "alice") == "alice"


def test_require_account_refuses_a_guest_with_464_and_keeps_the_connection():
    chat = accounts_harness(requireAccount=True)
    client = chat.irc()
    client.send("NICK guest", "USER g 0 * :G")
    assert client.commands() == ["464"]
    client.send("REGISTER * * s3cret")
    commands = client.commands()
    assert "REGISTER" in commands and "001" in commands
    assert account_of(chat, "guest") == "guest"


def in_a_room_with_jilles(chat: ChatHarness) -> tuple[IrcClient, IrcClient]:
    """
    foo (a guest with account-tag) and jilles (logged in to its account by
    SASL) in #chan, with what they were told so far read.
    """
    register(chat, "jilles", "sesame")
    foo = chat.ircLogin("foo", "account-tag")
    jilles = sasl_login(chat, "jilles", "sesame")
    jilles.send("JOIN #chan")
    foo.send("JOIN #chan")
    jilles.raw()
    foo.raw()
    return foo, jilles


def test_account_tag_is_on_an_invitation():
    chat = accounts_harness()
    register(chat, "jilles", "sesame")
    foo = chat.ircLogin("foo", "account-tag")
    jilles = sasl_login(chat, "jilles", "sesame")
    jilles.send("JOIN #chan")
    jilles.raw()
    foo.raw()
    jilles.send("INVITE foo #chan")
    (message,) = foo.messages()
    assert message.command == "INVITE"
    assert message.tags.get("account") == "jilles"


def test_account_tag_is_on_a_topic_change():
    foo, jilles = in_a_room_with_jilles(accounts_harness())
    jilles.send("TOPIC #chan :news")
    (message,) = foo.messages()
    assert message.command == "TOPIC"
    assert message.tags.get("account") == "jilles"


def test_account_tag_is_on_a_part():
    foo, jilles = in_a_room_with_jilles(accounts_harness())
    jilles.send("PART #chan")
    (message,) = foo.messages()
    assert message.command == "PART"
    assert message.tags.get("account") == "jilles"


def test_account_tag_is_on_a_kick_and_a_mode():
    foo, jilles = in_a_room_with_jilles(accounts_harness())
    # jilles made #chan, so it is the room's operator.
    jilles.send("MODE #chan +m")
    jilles.send("KICK #chan foo :out")
    mode, kick = foo.messages()
    assert (mode.command, kick.command) == ("MODE", "KICK")
    assert mode.tags.get("account") == kick.tags.get("account") == "jilles"


def test_no_account_tag_on_a_guests_part():
    chat = accounts_harness()
    foo = chat.ircLogin("foo", "account-tag")
    guest = chat.ircLogin("guest")
    guest.send("JOIN #chan")
    foo.send("JOIN #chan")
    guest.raw()
    foo.raw()
    guest.send("PART #chan")
    (message,) = foo.messages()
    assert message.command == "PART"
    assert "account" not in message.tags
