"""
The cluster's typed messages: every kind goes to a stream entry's fields
and back unchanged, whatever its text; what the Lua scripts write to the
presence stream reads as its kind's message; an entry of an unknown kind,
or a malformed one, is skipped and logged once.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.logger import LogEvent, globalLogPublisher

from chatserver.cluster.messages import (
    INBOX,
    MODERATION,
    PRESENCE,
    Away,
    Dispatcher,
    Join,
    Kick,
    Login,
    Logout,
    Lost,
    MalformedMessage,
    Message,
    Part,
    Rename,
    RoomInfo,
    Topic,
    UnknownKind,
    UserInfo,
    Wake,
    Whisper,
    from_fields,
    to_fields,
)
from chatserver.core.remote import RemoteSession
from tests.cluster.test_scripts import line, log_in, presence, run, user
from tests.integration.redis_support import RedisServer

texts = st.text()
numbers = st.floats(allow_nan=False)
pairs = st.lists(st.tuples(texts, texts)).map(tuple)


def user_infos() -> st.SearchStrategy[UserInfo]:
    """
    @return: Any user, every text field drawn from any text.
    """
    words = {each.name: texts for each in dataclasses.fields(UserInfo)}
    return st.builds(UserInfo, **{**words, "since": numbers})


STRATEGIES: dict[object, st.SearchStrategy[Any]] = {
    str: texts,
    float: numbers,
    bool: st.booleans(),
    tuple[str, ...]: st.lists(texts).map(tuple),
    tuple[tuple[str, str], ...]: pairs,
    UserInfo: user_infos(),
    UserInfo | None: st.none() | user_infos(),
    int: st.integers(),
    RemoteSession: st.builds(RemoteSession, texts, texts, texts, numbers),
}


def messages(kind: type[Message]) -> st.SearchStrategy[Message]:
    """
    @return: Any message of C{kind}, every field drawn from its type.
    """
    hints = typing.get_type_hints(kind)
    return st.builds(
        kind,
        **{
            each.name: STRATEGIES[hints[each.name]] for each in dataclasses.fields(kind)
        },
    )


@pytest.mark.parametrize("kind", PRESENCE + INBOX, ids=lambda kind: kind.KIND)
@given(data=st.data())
def test_every_message_goes_to_fields_and_back_unchanged(kind, data):
    message = data.draw(messages(kind))
    fields = to_fields(message)
    assert all(isinstance(value, str) for value in fields.values())
    assert from_fields(fields, PRESENCE + INBOX) == message


@given(user_infos())
def test_a_user_goes_to_json_and_back_unchanged(info):
    assert UserInfo.fromJSON(info.toJSON()) == info


@given(st.builds(RoomInfo, name=texts, topic=texts, setter=texts, time=numbers))
def test_a_room_goes_to_json_and_back_unchanged(info):
    assert RoomInfo.fromJSON(info.toJSON()) == info


def test_an_entry_names_its_kind_first():
    assert list(to_fields(Kick(to="bob", reason="bye"))) == ["t", "to", "reason"]


def test_an_unknown_kind_is_refused():
    with pytest.raises(UnknownKind):
        from_fields({"t": "shout", "node": "b"}, PRESENCE)


def test_an_inbox_kind_is_unknown_on_the_presence_stream():
    with pytest.raises(UnknownKind):
        from_fields(to_fields(Wake()), PRESENCE)


def test_an_entry_without_a_field_its_kind_needs_is_malformed():
    with pytest.raises(MalformedMessage):
        from_fields({"t": "join", "node": "b", "k": "bob", "n": "bob"}, PRESENCE)


@pytest.mark.parametrize(
    "fields",
    [
        {
            "t": "topic",
            "node": "b",
            "room": "#a",
            "topic": "",
            "setter": "",
            "time": "x",
        },
        {"t": "login", "node": "b", "k": "bob", "u": "not json"},
        {"t": "login", "node": "b", "k": "bob", "u": '{"name": 1}'},
        {"t": "logout", "node": "b", "k": "bob", "rooms": '"#a"'},
        {"t": "rename", "node": "b", "k": "a", "nk": "b", "nn": "b", "rooms": "[[1]]"},
    ],
)
def test_a_field_that_does_not_read_as_its_codec_wants_is_malformed(fields):
    with pytest.raises(MalformedMessage):
        from_fields(fields, PRESENCE)


def test_an_empty_list_written_by_lua_as_an_object_reads_as_empty():
    fields = {"t": "logout", "node": "b", "k": "bob", "n": "bob", "rooms": "{}"}
    assert from_fields(fields, PRESENCE) == Logout(node="b", key="bob", name="bob")


def test_the_kinds_defaults_are_what_the_node_assumed_of_an_older_entry():
    assert from_fields(
        {"t": "part", "node": "b", "room": "#a", "k": "x"}, PRESENCE
    ) == (Part(node="b", room="#a", key="x", reason="Part"))
    assert from_fields(
        {"t": "whisper", "to": "x", "from": "y", "x": "hi", "time": "1"}, INBOX
    ) == (Whisper(to="x", sender="y", text="hi", time=1.0))


@pytest.fixture
def warnings() -> Iterator[list[LogEvent]]:
    logged: list[LogEvent] = []

    def observe(event: LogEvent) -> None:
        if event.get("chat_event") == "cluster":
            logged.append(event)

    globalLogPublisher.addObserver(observe)  # type: ignore[arg-type]
    yield logged
    globalLogPublisher.removeObserver(observe)  # type: ignore[arg-type]


def test_each_kind_goes_to_its_own_handler():
    handled: list[Message] = []
    dispatcher: Dispatcher[Message] = Dispatcher(
        "inbox", {Kick: handled.append, Wake: lambda message: None}
    )
    dispatcher.dispatch({"t": "kick", "to": "bob"})
    dispatcher.dispatch({"t": "wake"})
    assert handled == [Kick(to="bob")]


def test_an_unknown_kind_is_skipped_and_logged_once(warnings):
    handled: list[Message] = []
    dispatcher: Dispatcher[Message] = Dispatcher("inbox", {Kick: handled.append})
    for _ in range(3):
        dispatcher.dispatch({"t": "shout", "to": "bob"})
    dispatcher.dispatch({"t": "kick", "to": "bob"})
    assert handled == [Kick(to="bob")]
    assert len(warnings) == 1
    assert "shout" in warnings[0]["why"]


def test_a_malformed_entry_is_skipped_and_its_kind_logged_once(warnings):
    handled: list[Message] = []
    dispatcher: Dispatcher[Message] = Dispatcher("inbox", {Kick: handled.append})
    dispatcher.dispatch({"t": "kick"})
    dispatcher.dispatch({"t": "kick", "reason": "x"})
    dispatcher.dispatch({"t": "kick", "to": "bob"})
    assert handled == [Kick(to="bob")]
    assert len(warnings) == 1


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def test_what_the_scripts_announce_reads_as_typed_messages(redis):
    run(redis, "hello", "epoch", 0, 0)
    log_in(redis, "alice", "a")
    run(
        redis,
        "away",
        "alice",
        "a",
        user("alice", "a").replace('"away": ""', '"away": "lunch"'),
    )
    line(redis, "a", 1, "alice", "hello")
    run(
        redis,
        "line",
        "#lobby",
        100,
        "a",
        "run1",
        2,
        "#lobby",
        "topic",
        "alice",
        "news",
        "0",
        "[]",
        "alice",
        "a/run1/1",
    )
    assert run(redis, "claim", "al", "a", user("al", "a"))[0] == 1  # type: ignore[index]
    run(redis, "rename", "alice", "al", "a", "alice", user("al", "a", "a/run1/1"))
    run(redis, "part", "#lobby", "al", "al", "a", "bye")
    log_in(redis, "bob", "b")
    run(redis, "logout", "bob", "b", "bob", "gone")
    log_in(redis, "carol", "c")
    run(redis, "goodbye", "c")
    read = [from_fields(fields, PRESENCE) for fields in presence(redis)]
    assert [type(message) for message in read] == [
        Login,
        Join,
        Away,
        Topic,
        Rename,
        Part,
        Login,
        Join,
        Logout,
        Login,
        Join,
        Lost,
    ]
    assert read[0] == Login(
        node="a", key="alice", user=UserInfo(name="alice", node="a", since=1.0)
    )
    assert read[1] == Join(
        node="a", room="#lobby", key="alice", name="alice", roomName="#lobby"
    )
    assert read[2] == Away(node="a", key="alice", away="lunch")
    assert read[3].topic == "news" and read[3].setter == "alice"  # type: ignore[attr-defined]
    rename = read[4]
    assert isinstance(rename, Rename)
    assert (rename.key, rename.newKey, rename.newName) == ("alice", "al", "al")
    assert rename.user is not None and rename.user.session == "a/run1/1"
    assert rename.rooms == (("#lobby", "#lobby"),)
    assert read[5] == Part(node="a", room="#lobby", key="al", name="al", reason="bye")
    assert read[8] == Logout(
        node="b", key="bob", name="bob", reason="gone", rooms=("#lobby",)
    )
    assert read[11] == Lost(node="c", key="carol", name="carol", rooms=("#lobby",))


@pytest.fixture(scope="module")
def moderation_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.mark.parametrize("kind", MODERATION, ids=lambda kind: kind.KIND)
@settings(max_examples=25)
@given(data=st.data())
def test_a_moderation_message_announced_by_its_script_reads_back_unchanged(
    moderation_redis, kind, data
):
    message = data.draw(messages(kind))
    words = [word for pair in to_fields(message).items() for word in pair]
    moderation_redis.call("DEL", "chat:presence")
    run(moderation_redis, "moderate", *words)
    (entry,) = presence(moderation_redis)
    assert from_fields(entry, PRESENCE) == message
