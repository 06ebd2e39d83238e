"""
The chat core on its own: every user operation, its typed errors, and the
events it sends, through the tests' own door (no bytes, no sockets).
"""

import pytest
from twisted.internet.task import Clock

from chatserver.config import ChatConfig
from chatserver.core.events import (
    Acted,
    Joined,
    Parted,
    Quit,
    Renamed,
    Replayed,
    Said,
    TopicChanged,
    Whispered,
)
from chatserver.core.realm import ChatRealm
from chatserver.core.users import IChatUser, RoomInfo
from chatserver.history.store import ACTION, MESSAGE, TOPIC, HistoryEntry
from chatwire.errors import (
    AlreadyCalled,
    InvalidName,
    InvalidRoomName,
    InvalidText,
    NamesAreAccounts,
    NameTaken,
    NoSuchRoom,
    NoSuchUser,
    NotInRoom,
    TooManyRooms,
)
from tests.core.fakes import RecordingMind, SlowHistory, outcome


def realm(**settings):
    return ChatRealm(ChatConfig(**settings), clock=Clock())


def users(chat, *names):
    logged = []
    for name in names:
        mind = RecordingMind(chat.clock)
        logged.append((chat.login(name, mind), mind))
    for _, mind in logged:
        mind.events()
    return logged


def test_login_puts_the_user_in_the_default_room_and_tells_it():
    chat = realm(defaultRoom="#hall")
    ((_alice, aliceMind),) = users(chat, "alice")
    bob = chat.login("bob", RecordingMind(chat.clock))
    assert [r.name for r in bob.rooms] == ["#hall"]
    assert bob.current is bob.rooms[0]
    assert aliceMind.events() == [Joined("#hall", "bob")]


def test_the_realm_gives_avatars_to_any_door():
    chat = realm()
    mind = RecordingMind(chat.clock)
    interface, user, logout = chat.requestAvatar(b"alice", mind, IChatUser)
    assert interface is IChatUser
    assert user.name == "alice" and user.mind is mind
    logout()
    assert "alice" not in chat


def test_a_taken_name_is_refused_whatever_its_case():
    chat = realm()
    users(chat, "Alice")
    with pytest.raises(NameTaken, match="the name ALICE is taken, choose another"):
        chat.login("ALICE", RecordingMind(chat.clock))


def test_an_invalid_name_is_refused_with_its_reason():
    with pytest.raises(InvalidName, match="invalid name: a space is not allowed"):
        realm().login("a b", RecordingMind())


def test_say_reaches_the_room_but_not_the_sender_and_is_kept():
    chat = realm()
    (alice, aliceMind), (_, bobMind) = users(chat, "alice", "bob")
    said = alice.say("hi")
    assert said == Said("#lobby", "alice", "hi", said.id, 0.0)
    assert bobMind.events() == [said]
    assert aliceMind.events() == []
    kept: list[HistoryEntry] = []
    chat.history.query("#lobby", 10).addCallback(kept.extend)
    assert [(e.kind, e.sender, e.text) for e in kept] == [(MESSAGE, "alice", "hi")]


def test_act_is_an_action_and_is_kept():
    chat = realm()
    (alice, _), (_, bobMind) = users(chat, "alice", "bob")
    acted = alice.act("waves")
    assert bobMind.events() == [acted]
    assert isinstance(acted, Acted)
    kept: list[HistoryEntry] = []
    chat.history.query("#lobby", 10).addCallback(kept.extend)
    assert kept[0].kind == ACTION


@pytest.mark.parametrize("text", ["", "   ", "bell\x07"])
def test_text_with_nothing_or_control_characters_is_refused(text):
    (alice, _), _ = users(realm(), "alice", "bob")
    with pytest.raises(InvalidText):
        alice.say(text)


def test_say_in_a_room_one_is_not_in_is_refused():
    chat = realm()
    (alice, _), (bob, _) = users(chat, "alice", "bob")
    bob.join("#dev")
    with pytest.raises(NotInRoom, match="you are not in #dev"):
        alice.say("hi", "#dev")
    with pytest.raises(NotInRoom, match="you are not in #nowhere"):
        alice.say("hi", "#nowhere")


def test_say_with_no_room_is_refused():
    (alice, _), _ = users(realm(), "alice", "bob")
    alice.part()
    with pytest.raises(NotInRoom, match="you are in no room"):
        alice.say("hi")


def test_join_tells_the_room_and_the_joiner():
    chat = realm()
    (alice, aliceMind), (bob, bobMind) = users(chat, "alice", "bob")
    alice.join("#dev")
    bob.join("#DEV")
    assert aliceMind.events() == [Joined("#dev", "alice"), Joined("#dev", "bob")]
    assert bobMind.events() == [Joined("#dev", "bob")]


def test_join_again_changes_only_the_current_room():
    chat = realm()
    ((alice, mind),) = users(chat, "alice")
    room, new = alice.join("#lobby")
    assert not new and alice.current is room
    assert mind.events() == []


def test_an_invalid_room_name_is_refused():
    ((alice, _),) = users(realm(), "alice")
    with pytest.raises(InvalidRoomName):
        alice.join("dev")


def test_too_many_rooms():
    chat = realm(maxRooms=2, maxRoomsPerUser=3)
    (alice, _), (bob, _) = users(chat, "alice", "bob")
    alice.join("#a")
    with pytest.raises(TooManyRooms, match="the server has 2 rooms"):
        bob.join("#b")
    alice.join("#lobby")
    chat2 = realm(maxRoomsPerUser=1)
    ((carol, _),) = users(chat2, "carol")
    with pytest.raises(TooManyRooms, match="you are in 1 rooms already"):
        carol.join("#x")


def test_part_tells_the_room_and_the_room_goes_when_empty():
    chat = realm()
    (alice, aliceMind), (_bob, bobMind) = users(chat, "alice", "bob")
    alice.join("#dev")
    aliceMind.events()
    alice.part("#dev", "done")
    assert aliceMind.events() == [Parted("#dev", "alice", "Part: done")]
    assert chat.getRoom("#dev") is None
    assert bobMind.events() == []


def test_part_of_a_room_one_is_not_in_is_refused():
    ((alice, _),) = users(realm(), "alice")
    with pytest.raises(NotInRoom):
        alice.part("#dev")


def test_whisper_reaches_the_recipient_alone_and_is_not_kept():
    chat = realm()
    (alice, _), (_, bobMind), (_, carolMind) = users(chat, "alice", "bob", "carol")
    recipient = alice.whisper("BOB", "psst")
    assert recipient.name == "bob"
    (event,) = bobMind.events()
    assert event == Whispered("alice", "bob", "psst", 0.0, msgid=event.msgid)
    assert event.msgid.startswith("p")
    assert carolMind.events() == []
    kept: list[HistoryEntry] = []
    chat.history.query("#lobby", 10).addCallback(kept.extend)
    assert kept == []


def test_whisper_to_nobody_is_refused():
    ((alice, _),) = users(realm(), "alice")
    with pytest.raises(NoSuchUser, match="no such user: zed"):
        alice.whisper("zed", "hi")


def test_rename_tells_everyone_who_shares_a_room_once():
    chat = realm()
    (alice, aliceMind), (bob, bobMind), (_, carolMind) = users(
        chat, "alice", "bob", "carol"
    )
    for user in (alice, bob):
        user.join("#dev")
    aliceMind.events()
    bobMind.events()
    carolMind.events()
    assert outcome(bob.rename("robert")) == "bob"
    assert aliceMind.events() == [Renamed("bob", "robert")]
    assert bobMind.events() == [Renamed("bob", "robert")]
    assert carolMind.events() == [Renamed("bob", "robert")]
    assert chat.get("robert") is bob and "bob" not in chat
    assert chat.getRoom("#dev").names() == ("alice", "robert")


def test_rename_refusals():
    chat = realm()
    (alice, _), _ = users(chat, "alice", "bob")
    with pytest.raises(NameTaken):
        outcome(alice.rename("Bob"))
    with pytest.raises(AlreadyCalled):
        alice.rename("alice")
    with pytest.raises(InvalidName):
        alice.rename("")
    assert outcome(alice.rename("Alice")) == "alice"


def test_with_accounts_only_the_case_of_a_name_may_change():
    chat = ChatRealm(ChatConfig(), clock=Clock(), accounts=True)
    ((alice, _),) = users(chat, "alice")
    with pytest.raises(NamesAreAccounts):
        alice.rename("mallory")
    assert outcome(alice.rename("ALICE")) == "alice"


def test_topic_is_set_announced_and_kept():
    chat = realm()
    (alice, aliceMind), (_, bobMind) = users(chat, "alice", "bob")
    changed = alice.setTopic("  ship it  ")
    assert changed == TopicChanged("#lobby", "alice", "ship it", changed.id, 0.0)
    assert aliceMind.events() == [changed]
    assert bobMind.events() == [changed]
    room = alice.room()
    assert (room.topic, room.topicSetter) == ("ship it", "alice")
    kept: list[HistoryEntry] = []
    chat.history.query("#lobby", 10).addCallback(kept.extend)
    assert kept[0].kind == TOPIC


def test_a_topic_too_long_is_refused():
    ((alice, _),) = users(realm(), "alice")
    with pytest.raises(InvalidText, match="a topic is at most 390"):
        alice.setTopic("x" * 391)


def test_who_and_rooms():
    chat = realm()
    (alice, _), (bob, _) = users(chat, "alice", "bob")
    bob.join("#dev")
    room, names = alice.who("#DEV")
    assert (room.name, names) == ("#dev", ("bob",))
    assert alice.listRooms() == [RoomInfo("#dev", 1, ""), RoomInfo("#lobby", 2, "")]
    with pytest.raises(NoSuchRoom):
        alice.who("#nope")


def test_quit_tells_each_user_once_and_frees_the_name():
    chat = realm()
    (alice, aliceMind), (bob, _) = users(chat, "alice", "bob")
    for user in (alice, bob):
        user.join("#dev")
    aliceMind.events()
    bob.quit("Quit: bye")
    bob.quit("again")  # nothing the second time
    assert aliceMind.events() == [Quit("bob", "Quit: bye")]
    assert "bob" not in chat
    chat.login("BOB", RecordingMind(chat.clock))


def test_no_quit_notices_while_shutting_down():
    chat = realm()
    (_, aliceMind), (bob, _) = users(chat, "alice", "bob")
    chat.shuttingDown = True
    bob.quit("Server shutting down")
    assert aliceMind.events() == []


def test_kick_asks_the_door_to_disconnect():
    chat = realm()
    (_, mind), _ = users(chat, "alice", "bob")
    chat.kick("ALICE", "flooding")
    assert mind.disconnected == ["flooding"]
    with pytest.raises(NoSuchUser):
        chat.kick("zed")


def test_joining_replays_the_recent_history_before_later_events():
    chat = realm(historyReplay=2)
    (alice, _), (bob, bobMind) = users(chat, "alice", "bob")
    alice.join("#dev")
    for n in range(3):
        alice.say(f"line {n}", "#dev")
    room, _ = bob.join("#dev")
    bob.replay(room)
    joined, replayed = bobMind.events()
    assert joined == Joined("#dev", "bob")
    assert isinstance(replayed, Replayed)
    assert [e.text for e in replayed.entries] == ["line 1", "line 2"]
    assert replayed.more


def test_older_history_pages_back_to_the_start():
    chat = realm(historyReplay=1)
    (alice, _), (bob, bobMind) = users(chat, "alice", "bob")
    for n in range(3):
        alice.say(f"line {n}")
    bob.replay(bob.room())
    bob.olderHistory(None, 1)
    bob.olderHistory(None, 5)
    bob.olderHistory(None, 5)
    pages = [
        [e.text for e in event.entries]
        for event in bobMind.events()
        if isinstance(event, Replayed)
    ]
    assert pages == [["line 2"], ["line 1"], ["line 0"], []]


def test_a_slow_replay_comes_before_what_happened_meanwhile_and_only_once():
    history = SlowHistory()
    chat = ChatRealm(ChatConfig(), history=history, clock=Clock())
    (alice, _), (bob, bobMind) = users(chat, "alice", "bob")
    history.answer()
    alice.say("before")
    bobMind.events()
    room, _ = bob.join("#lobby")
    bob.replay(room)
    after = alice.say("meanwhile")
    assert bobMind.events() == []
    history.answer()
    replayed, live = bobMind.events()
    assert isinstance(replayed, Replayed)
    assert [e.text for e in replayed.entries] == ["before"]
    assert live == after


def test_a_slow_replay_after_a_restart_leaves_out_lines_kept_meanwhile():
    history = SlowHistory()
    history.append(
        "#lobby", room="#lobby", kind=MESSAGE, sender="x", text="old", time=0
    )
    chat = ChatRealm(ChatConfig(), history=history, clock=Clock())
    (alice, _), (bob, bobMind) = users(chat, "alice", "bob")
    bob.replay(bob.room())
    alice.say("meanwhile")
    history.answer()
    replayed, live = bobMind.events()
    assert isinstance(replayed, Replayed)
    assert [e.text for e in replayed.entries] == ["old"]
    assert isinstance(live, Said)


def test_a_notice_is_said_and_whispered_as_a_notice():
    chat = realm()
    (alice, _), (_, bobMind) = users(chat, "alice", "bob")
    said = alice.say("automatic", notice=True)
    assert bobMind.events() == [
        Said("#lobby", "alice", "automatic", said.id, 0.0, True)
    ]
    alice.whisper("bob", "psst", notice=True)
    (event,) = bobMind.events()
    assert event == Whispered("alice", "bob", "psst", 0.0, True, msgid=event.msgid)


def test_away_is_set_checked_and_cleared():
    chat = realm()
    ((alice, _),) = users(chat, "alice")
    assert alice.away == ""
    alice.setAway("  lunch ")
    assert alice.away == "lunch"
    with pytest.raises(InvalidText):
        alice.setAway("bad\x07")
    with pytest.raises(InvalidText, match="at most 390"):
        alice.setAway("x" * 391)
    alice.setAway("")
    assert alice.away == ""


def test_a_mind_may_ask_not_to_join_the_default_room():
    chat = realm(defaultRoom="#hall")
    ((_alice, aliceMind),) = users(chat, "alice")
    mind = RecordingMind(chat.clock)
    mind.joinsDefaultRoom = False
    bob = chat.login("bob", mind)
    assert bob.rooms == () and bob.current is None
    assert aliceMind.events() == []
    bob.join("#hall")
    assert aliceMind.events() == [Joined("#hall", "bob")]
    assert chat.getRoom("#hall").names() == ("alice", "bob")


def test_an_action_whispered_is_marked_as_one():
    chat = realm()
    (alice, _), (_bob, bobMind) = users(chat, "alice", "bob")
    alice.whisper("bob", "waves", action=True)
    (event,) = bobMind.events()
    assert event == Whispered(
        "alice", "bob", "waves", 0.0, False, True, msgid=event.msgid
    )


def test_client_tags_travel_with_what_is_said_and_are_not_kept():
    chat = realm()
    (alice, _), (_bob, bobMind) = users(chat, "alice", "bob")
    tags = (("+draft/reply", "1"),)
    said = alice.say("hi", tags=tags)
    acted = alice.act("waves", tags=tags)
    alice.whisper("bob", "psst", tags=tags)
    received = bobMind.events()
    assert received[:2] == [said, acted] and said.tags == acted.tags == tags
    msgid = received[2].msgid
    assert received[2] == Whispered("alice", "bob", "psst", 0.0, tags=tags, msgid=msgid)
    entries = chat.history.query(chat.getRoom("#lobby").key, 10)
    assert [e.text for e in entries.result] == ["hi", "waves"]
