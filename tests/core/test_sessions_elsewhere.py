"""
An account with sessions on several nodes of a cluster, as the realm of
one node sees it (its peers are the test's): the account is one user to
everyone, its sessions elsewhere are listed, counted and reached, and it
leaves the chat only with its last session anywhere.
"""

from __future__ import annotations

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from chatserver.config import ChatConfig
from chatserver.core.events import Joined, Parted, Quit, ReadMarked, Whispered
from chatserver.core.realm import ChatRealm
from chatserver.core.remote import RemoteSession, RemoteUser
from chatserver.core.users import ChatUser, IChatUser
from chatserver.state.markers import ReadMarker
from chatwire.errors import LoginAbandoned, TooManySessions
from tests.core.fakes import RecordingMind, outcome
from tests.core.test_peers import FakePeers, log_in

PHONE = RemoteSession("b", "irc", "192.0.2.7:41022", 5.0)


@pytest.fixture
def peers() -> FakePeers:
    return FakePeers()


@pytest.fixture
def chat(peers: FakePeers) -> ChatRealm:
    return ChatRealm(ChatConfig(), clock=Clock(), peers=peers)


def log_in_account(chat, peers, name):
    mind = RecordingMind(chat.clock)
    login = chat.claimAndLogin(name, mind, account=name)
    peers.claims[name].callback(True)
    user = outcome(login)
    mind.events()
    return user, mind


def on_node_b(chat: ChatRealm, *rooms: str) -> RemoteUser:
    """
    The account alice is online on node b only, in C{rooms}.
    """
    alice = RemoteUser("alice", "b", 0.0)
    alice.account = "alice"
    chat.remoteLoggedIn(alice)
    for name in rooms:
        chat.remoteJoined(chat.remoteRoom(name.lower(), name), alice)
    chat.remoteSessionBegun("alice", "b/r/1", PHONE)
    return alice


def test_a_login_of_an_account_online_on_another_node_is_in_its_rooms_unheard(
    chat, peers
):
    on_node_b(chat, "#lobby", "#dev")
    _carol, carolMind = log_in(chat, peers, "carol")
    peers.take()
    alice, _mind = log_in_account(chat, peers, "alice")
    assert [room.name for room in alice.rooms] == ["#lobby", "#dev"]
    assert "alice" not in chat.remote
    assert chat.rooms["#lobby"].members["alice"] is alice
    assert carolMind.events() == []
    assert peers.take() == [
        ("loggedIn", "alice"),
        ("joined", "alice", "#lobby"),
        ("joined", "alice", "#dev"),
    ]


def test_the_last_session_here_of_an_account_online_elsewhere_leaves_unheard(
    chat, peers
):
    _carol, carolMind = log_in(chat, peers, "carol")
    alice, _ = log_in_account(chat, peers, "alice")
    chat.remoteSessionBegun("alice", "b/r/1", PHONE)
    carolMind.events()
    alice.quit("Quit")
    assert carolMind.events() == []
    assert chat.remote["alice"].node == "b"
    assert chat.rooms["#lobby"].remote == {"alice": "alice"}


def test_the_account_leaves_when_its_last_session_anywhere_ends(chat, peers):
    _carol, carolMind = log_in(chat, peers, "carol")
    alice, _ = log_in_account(chat, peers, "alice")
    carolMind.events()
    alice.quit("Quit")
    assert carolMind.events() == [Quit("alice", "Quit")]


def test_a_join_elsewhere_is_the_account_s_here_told_once(chat, peers):
    carol, carolMind = log_in(chat, peers, "carol")
    alice, _mind = log_in_account(chat, peers, "alice")
    carol.join("#dev")
    carolMind.events()
    chat.joinedElsewhere(chat.rooms["#dev"], "alice")
    chat.joinedElsewhere(chat.rooms["#dev"], "alice")
    assert chat.rooms["#dev"] in alice.rooms
    assert carolMind.events() == [Joined("#dev", "alice")]


def test_a_part_elsewhere_is_the_account_s_here(chat, peers):
    _carol, carolMind = log_in(chat, peers, "carol")
    alice, _mind = log_in_account(chat, peers, "alice")
    carolMind.events()
    chat.remoteParted(chat.rooms["#lobby"], "alice", "Part")
    assert alice.rooms == ()
    assert carolMind.events() == [Parted("#lobby", "alice", "Part")]


def test_max_sessions_counts_the_sessions_elsewhere(peers):
    clock = Clock()
    chat = ChatRealm(ChatConfig(maxSessions=2), clock=clock, peers=peers)
    _alice, _ = log_in_account(chat, peers, "alice")
    chat.remoteSessionBegun("alice", "b/r/1", PHONE)
    with pytest.raises(TooManySessions):
        chat.login("alice", RecordingMind(clock), account="alice")


def test_sessions_lists_and_ends_the_sessions_elsewhere(chat, peers):
    alice, _ = log_in_account(chat, peers, "alice")
    chat.remoteSessionBegun("alice", "b/r/1", PHONE)
    listed = alice.sessionList()
    assert [info.describe().split(" since ")[0] for info in listed] == [
        "session 1: ? from test door",
        "session 2: irc from 192.0.2.7:41022",
    ]
    assert listed[1].node == "b"
    peers.take()
    alice.endSession("2")
    assert peers.take() == [("endSession", "alice", "b/r/1", "b")]


def test_private_lines_reach_the_sessions_elsewhere_of_both_accounts(chat, peers):
    alice, _ = log_in_account(chat, peers, "alice")
    _bob, bobMind = log_in_account(chat, peers, "bob")
    chat.remoteSessionBegun("alice", "b/r/1", PHONE)
    chat.remoteSessionBegun("bob", "c/r/1", RemoteSession("c", "web", "x", 1.0))
    peers.take()
    alice.whisper("bob", "psst")
    assert [told for told in peers.take() if told[0] == "whisper"] == [
        ("whisper", "alice", "bob", "psst"),
        ("whisper", "alice", "bob", "psst", "echo"),
    ]
    assert peers.sent == [("bob", ("c",)), ("alice", ("b",))]
    assert [type(event) for event in bobMind.events()] == [Whispered]


def test_a_read_marker_moved_here_is_told_to_the_nodes_of_the_sessions_elsewhere(
    chat, peers
):
    alice, _ = log_in_account(chat, peers, "alice")
    chat.remoteSessionBegun("alice", "b/r/1", PHONE)
    peers.take()
    outcome(chat.markRead(alice, "#lobby", "#lobby", ReadMarker(None, 0)))
    (marked,) = peers.take()
    assert marked[:4] == ("marked", "alice", ("b",), "#lobby")


def test_a_read_marker_moved_elsewhere_is_told_to_every_session_here(peers):
    clock = Clock()
    chat = ChatRealm(ChatConfig(), clock=clock, peers=peers, accounts=True)
    mind, second = RecordingMind(clock), RecordingMind(clock)
    login = chat.requestAvatar("alice", mind, IChatUser)
    peers.claims["alice"].callback(True)
    assert isinstance(login, Deferred)
    alice = outcome(login)[1]
    assert isinstance(alice, ChatUser)
    chat.requestAvatar("alice", second, IChatUser)
    event = ReadMarked("#lobby", 7, 1000, 0)
    chat.remoteMarked("alice", "#lobby", event)
    assert mind.events()[-1:] == second.events()[-1:] == [event]
    assert chat.readMarker(alice, "#lobby") == ReadMarker(7, 1000)


def test_a_kill_reaches_the_sessions_elsewhere(chat, peers):
    _alice, mind = log_in_account(chat, peers, "alice")
    chat.remoteSessionBegun("alice", "b/r/1", PHONE)
    chat.kick("alice", "spam")
    assert mind.disconnected == ["spam"]
    assert ("kick", "alice", "spam") in peers.take()
    assert peers.sent == [("alice", ("b",))]


def test_a_user_of_another_node_is_reached_on_each_node_of_its_sessions(chat, peers):
    on_node_b(chat, "#lobby")
    chat.remoteSessionBegun("alice", "c/r/1", RemoteSession("c", "web", "x", 1.0))
    carol, _ = log_in(chat, peers, "carol")
    carol.whisper("alice", "hi")
    assert peers.sent == [("alice", ("b", "c"))]


def test_a_session_ended_elsewhere_moves_the_user_to_the_node_left(chat):
    alice = on_node_b(chat, "#lobby")
    chat.remoteSessionBegun("alice", "c/r/1", RemoteSession("c", "web", "x", 1.0))
    chat.remoteSessionEnded("alice", "b/r/1", "c")
    assert alice.node == "c"
    assert isinstance(chat.lookup("alice"), RemoteUser)
    assert not isinstance(chat.lookup("alice"), ChatUser)


def test_a_user_whose_sessions_here_were_not_told_moves_to_the_node_named(chat):
    alice = on_node_b(chat, "#lobby")
    chat.remoteSessionEnded("alice", "b/r/1", "c")
    assert alice.node == "c"
    assert chat.nodesOf("alice") == ["c"]


def first_session(chat: ChatRealm, peers: FakePeers, clock: Clock) -> ChatUser:
    """
    Log alice's account in (its first session here); the next sessions'
    reservations wait for the test to answer them.
    """
    login = chat.requestAvatar("alice", RecordingMind(clock), IChatUser)
    peers.claims["alice"].callback(True)
    assert isinstance(login, Deferred)
    alice = outcome(login)[1]
    assert isinstance(alice, ChatUser)
    peers.reservations = {}
    return alice


def test_one_more_session_here_waits_for_the_cluster_to_reserve_it(peers):
    clock = Clock()
    chat = ChatRealm(ChatConfig(), clock=clock, peers=peers, accounts=True)
    alice = first_session(chat, peers, clock)
    second = chat.requestAvatar("alice", RecordingMind(clock), IChatUser)
    assert isinstance(second, Deferred)
    assert len(alice.sessions) == 1
    peers.reservations["alice"].callback(True)
    assert len(alice.sessions) == 2


def test_one_more_session_the_cluster_refuses_is_not_logged_in(peers):
    clock = Clock()
    chat = ChatRealm(ChatConfig(), clock=clock, peers=peers, accounts=True)
    alice = first_session(chat, peers, clock)
    second = chat.requestAvatar("alice", RecordingMind(clock), IChatUser)
    assert isinstance(second, Deferred)
    peers.reservations["alice"].errback(TooManySessions("alice", 8))
    second.addErrback(lambda reason: reason.trap(TooManySessions))
    assert len(alice.sessions) == 1


def test_a_session_whose_connection_went_away_gives_its_reservation_back(peers):
    clock = Clock()
    chat = ChatRealm(ChatConfig(), clock=clock, peers=peers, accounts=True)
    alice = first_session(chat, peers, clock)
    mind = RecordingMind(clock)
    second = chat.requestAvatar("alice", mind, IChatUser)
    assert isinstance(second, Deferred)
    mind.closing = True
    peers.take()
    peers.reservations["alice"].callback(True)
    second.addErrback(lambda reason: reason.trap(LoginAbandoned))
    assert len(alice.sessions) == 1
    assert peers.take() == [("unreserve", "alice")]
