"""
Moderation across a cluster: two real twistd nodes and a real
redis-server.  What a moderator does on one node holds on the other at
once (as soon as that node reads the presence stream), Redis keeps it
across restarts of both nodes, and a ban that ends ends on both.
"""

from __future__ import annotations

import itertools

from chatwire import lines
from tests.integration import test_cluster
from tests.integration.support import ChatServer, Client, wait_for
from tests.integration.test_cluster import Start, login, sees_join

# The cluster's fixtures: a real redis-server, and nodes started on it.
redis_kind = test_cluster.redis_kind
redis = test_cluster.redis
start_node = test_cluster.start_node

InRoom = lines.InRoom
OPER = ("--oper", "memory:root:secret")

_rooms = itertools.count()


def seen_by(actor: Client, actorName: str, watcher: Client) -> None:
    """
    Wait until the node of C{watcher} has read what C{actor}'s node did so
    far: C{actor} joins a room C{watcher} is in, and C{watcher} sees it
    (the presence stream is read in order).
    """
    room = f"#sync{next(_rooms)}"
    watcher.send(f"/join {room}")
    member_list(watcher, room)
    actor.send(f"/join {room}")
    watcher.expect(InRoom(room, lines.Joined(actorName)))


def who(client: Client, room: str) -> tuple[str, ...]:
    """
    @return: The names C{/who} shows C{client} for C{room}.
    """
    client.send(f"/who {room}")
    return member_list(client, room)


def member_list(client: Client, room: str) -> tuple[str, ...]:
    """
    @return: The names of the next member list C{client} reads for
        C{room}.
    """
    while True:
        event = client.expect(InRoom)
        assert isinstance(event, InRoom)
        if event.room == room and isinstance(event.line, lines.UserList):
            return event.line.names


def speak_in(client: Client, room: str, text: str) -> None:
    """
    C{client} says C{text} in C{room}, which it is in.
    """
    client.send(f"/join {room}")
    client.send(text)


def room_of_alice(
    start_node: Start, *options: str
) -> tuple[ChatServer, ChatServer, Client, Client]:
    """
    Nodes a and b; alice on a made #dev (she is its operator), and bob on b
    is in it too.
    """
    a, b = start_node("a", *options), start_node("b", *options)
    alice = login(a, "alice")
    bob = login(b, "bob")
    sees_join(alice, "bob")
    alice.send("/join #dev")
    alice.expect(InRoom("#dev", lines.RoleChanged("alice", "alice", "o", True)))
    bob.send("/join #dev")
    member_list(bob, "#dev")
    alice.expect(InRoom("#dev", lines.Joined("bob")))
    seen_by(alice, "alice", bob)
    return a, b, alice, bob


def test_the_maker_of_a_room_is_its_operator_on_every_node(start_node):
    _a, _b, _alice, bob = room_of_alice(start_node)
    assert who(bob, "#dev") == ("@alice", "bob")
    bob.send("/kick #dev alice")
    bob.expect(lines.Error("you are not an operator of #dev: you cannot kick"))


def test_a_ban_set_on_one_node_refuses_a_join_on_another(start_node):
    a, b = start_node("a"), start_node("b")
    alice = login(a, "alice")
    spammer = login(b, "spammer")
    alice.send("/join #dev")
    alice.expect(InRoom("#dev", lines.RoleChanged("alice", "alice", "o", True)))
    alice.send("/ban #dev spam* flood")
    alice.expect(lines.Info("ban on spam* until lifted"))
    seen_by(alice, "alice", spammer)
    spammer.send("/join #dev")
    spammer.expect(lines.Error("cannot join #dev: you are banned from it"))


def test_a_mute_set_on_one_node_silences_a_member_on_another(start_node):
    _a, _b, alice, bob = room_of_alice(start_node)
    alice.send("/mute #dev bob")
    bob.expect(InRoom("#dev", lines.BanChanged("alice", "mute", "bob", True)))
    speak_in(bob, "#dev", "hello?")
    bob.expect(lines.Error("cannot speak in #dev: you are muted"))


def test_a_mode_set_on_one_node_holds_on_another(start_node):
    _a, _b, alice, bob = room_of_alice(start_node)
    alice.send("/mode #dev +m")
    bob.expect(InRoom("#dev", lines.ModeChanged("alice", "+m")))
    speak_in(bob, "#dev", "hello?")
    bob.expect(
        lines.Error("cannot speak in #dev: it is moderated (+m): only voice speaks")
    )


def test_an_operator_given_on_one_node_moderates_on_another(start_node):
    a, _b, alice, bob = room_of_alice(start_node)
    carol = login(a, "carol")
    carol.send("/join #dev")
    bob.expect(InRoom("#dev", lines.Joined("carol")))
    alice.send("/op #dev bob")
    bob.expect(InRoom("#dev", lines.RoleChanged("alice", "bob", "o", True)))
    bob.send("/kick #dev carol")
    kicked = InRoom("#dev", lines.Left("carol", "kicked by bob"))
    carol.expect(kicked)
    alice.expect(kicked)


def test_an_invitation_on_one_node_lets_a_user_of_another_join(start_node):
    a, b = start_node("a"), start_node("b")
    alice = login(a, "alice")
    bob = login(b, "bob")
    sees_join(alice, "bob")
    alice.send("/join #dev")
    alice.expect(InRoom("#dev", lines.RoleChanged("alice", "alice", "o", True)))
    alice.send("/mode #dev +i")
    alice.expect(InRoom("#dev", lines.ModeChanged("alice", "+i")))
    alice.send("/invite bob #dev")
    bob.expect(lines.Info("alice invites you to #dev: /join #dev"))
    bob.send("/join #dev")
    alice.expect(InRoom("#dev", lines.Joined("bob")))


def test_a_kick_on_one_node_removes_a_member_of_another_for_everyone(start_node):
    _a, b, alice, bob = room_of_alice(start_node)
    carol = login(b, "carol")
    carol.send("/join #dev")
    alice.expect(InRoom("#dev", lines.Joined("carol")))
    alice.send("/kick #dev bob spam")
    kicked = InRoom("#dev", lines.Left("bob", "kicked by alice: spam"))
    alice.expect(kicked)
    bob.expect(kicked)
    carol.expect(kicked)
    assert who(alice, "#dev") == ("@alice", "carol")
    assert who(carol, "#dev") == ("@alice", "carol")


def test_a_kline_on_one_node_disconnects_and_refuses_a_user_on_another(start_node):
    a, b = start_node("a", *OPER), start_node("b", *OPER)
    alice = login(a, "alice")
    mallory = login(b, "mallory")
    sees_join(alice, "mallory")
    alice.send("/oper root secret")
    alice.expect(lines.Info("you are a server operator now"))
    alice.send("/kline mallory abuse")
    alice.expect(lines.Info("kline on mallory set"))
    said = mallory.events_until_closed()
    assert any("Banned from the server: abuse" in str(event) for event in said), said
    again = b.connect()
    again.expect(lines.Prompt)
    again.send("mallory")
    again.expect(lines.Error("you are banned from this server: abuse"))


def test_bans_survive_a_restart_of_every_node(start_node):
    a, b = start_node("a"), start_node("b")
    alice = login(a, "alice")
    alice.send("/join #dev")
    alice.expect(InRoom("#dev", lines.RoleChanged("alice", "alice", "o", True)))
    alice.send("/ban #dev spam* 7d flood")
    alice.expect(lines.Info("ban on spam* for 7d"))
    alice.send("/mode #dev +t")
    alice.expect(InRoom("#dev", lines.ModeChanged("alice", "+t")))
    a.stop()
    b.stop()

    a, b = start_node("a"), start_node("b")
    bob = login(a, "bob")
    bob.send("/bans #dev")
    bob.expect(lines.Info("Bans of #dev (1):"))
    listed = bob.event()
    assert isinstance(listed, lines.Info)
    assert listed.text.startswith("spam* set by alice at ")
    bob.send("/mode #dev")
    bob.expect(lines.Info("#dev modes: +nt"))
    spammer = login(b, "spammer")
    spammer.send("/join #dev")
    spammer.expect(lines.Error("cannot join #dev: you are banned from it"))


def test_an_expired_ban_ends_on_both_nodes_and_is_logged_once(start_node):
    a, b, alice, bob = room_of_alice(start_node)
    alice.send("/ban #dev bo* 2s")
    alice.expect(lines.Info("ban on bo* for 2s"))
    ended = InRoom("#dev", lines.BanChanged("", "ban", "bo*", False))
    alice.expect(ended)
    bob.expect(ended)
    speak_in(bob, "#dev", "free again")
    alice.expect(InRoom("#dev", lines.Message("bob", "free again")))
    wait_for(
        lambda: "ban on bo* in #dev ended" in a.log() + b.log(),
        "the end in a log",
    )
    seen_by(alice, "alice", bob)
    seen_by(bob, "bob", alice)
    assert (a.log() + b.log()).count("ban on bo* in #dev ended") == 1


def _password_login(node: ChatServer, name: str, password: str) -> Client:
    client = node.connect()
    client.expect(lines.Prompt)
    client.send(name)
    client.expect(lines.Prompt)
    client.send(password)
    client.expect(lines.Welcome)
    return client


def test_a_kline_from_another_node_disconnects_every_session_of_an_account(
    start_node,
):
    auth = ("--auth", "memory:alice:pw1:mallory:pw2", *OPER)
    a, b = start_node("a", *auth), start_node("b", *auth)
    alice = _password_login(a, "alice", "pw1")
    laptop = _password_login(b, "mallory", "pw2")
    phone = _password_login(b, "mallory", "pw2")
    sees_join(alice, "mallory")
    alice.send("/oper root secret")
    alice.expect(lines.Info("you are a server operator now"))
    alice.send("/kline mallory abuse")
    alice.expect(lines.Info("kline on mallory set"))
    for session in (laptop, phone):
        said = session.events_until_closed()
        assert any("Banned from the server: abuse" in str(e) for e in said), said


def _mallory_on_both_nodes(
    start_node: Start,
) -> tuple[Client, Client, Client]:
    """
    The server operator alice on node a, and the account mallory with a
    session on each node.
    """
    auth = ("--auth", "memory:alice:pw1:mallory:pw2", *OPER)
    a, b = start_node("a", *auth), start_node("b", *auth)
    laptop = _password_login(a, "mallory", "pw2")
    alice = _password_login(a, "alice", "pw1")
    phone = _password_login(b, "mallory", "pw2")
    phone.send("(sync)")
    alice.expect(lines.Message("mallory", "(sync)"))
    alice.send("/oper root secret")
    alice.expect(lines.Info("you are a server operator now"))
    return alice, laptop, phone


def test_a_kill_disconnects_the_sessions_of_an_account_on_every_node(start_node):
    alice, laptop, phone = _mallory_on_both_nodes(start_node)
    alice.send("/kill mallory spam")
    for session in (laptop, phone):
        said = session.events_until_closed()
        assert any("Killed by alice: spam" in str(e) for e in said), said
    assert alice.expect(lines.Left).name == "mallory"  # type: ignore[union-attr]


def test_a_kline_disconnects_the_sessions_of_an_account_on_every_node(start_node):
    alice, laptop, phone = _mallory_on_both_nodes(start_node)
    alice.send("/kline mallory abuse")
    for session in (laptop, phone):
        said = session.events_until_closed()
        assert any("Banned from the server: abuse" in str(e) for e in said), said
