"""
A second door reuses the chat core as it is: a user of the tests' own door
and a line-protocol user talk in the same rooms, through the same portal,
with no chat logic in the door.
"""

from chatserver.core.events import Joined, Quit, Said, Whispered
from chatserver.testing import ChatHarness
from chatwire import lines
from tests.core.fakes import log_in


def test_a_user_of_another_door_and_a_line_user_talk_in_one_room():
    server = ChatHarness(rate=0)
    alice = server.login("alice")
    robot, mind = log_in(server.server.portal, "robot")
    assert alice.events() == [lines.Joined("robot")]
    alice.send("hello robot")
    (event,) = mind.events()
    assert isinstance(event, Said)
    assert (event.room, event.sender, event.text) == ("#lobby", "alice", "hello robot")
    robot.say("hello alice")
    assert alice.events() == [lines.Message("robot", "hello alice")]


def test_rooms_and_private_messages_cross_doors():
    server = ChatHarness(rate=0)
    alice = server.login("alice")
    robot, mind = log_in(server.server.portal, "robot")
    alice.received()
    robot.join("#dev")
    alice.send("/join #dev")
    assert mind.events() == [Joined("#dev", "robot"), Joined("#dev", "alice")]
    alice.received()
    robot.say("in dev", "#dev")
    assert alice.events() == [lines.InRoom("#dev", lines.Message("robot", "in dev"))]
    alice.send("/msg robot psst")
    (whisper,) = mind.events()
    assert isinstance(whisper, Whispered)
    assert (whisper.sender, whisper.text) == ("alice", "psst")


def test_names_are_one_namespace_across_doors():
    server = ChatHarness(rate=0)
    log_in(server.server.portal, "robot")
    client = server.connect()
    client.received()
    client.send("ROBOT")
    assert client.events() == [lines.Error("the name ROBOT is taken, choose another")]


def test_a_line_user_leaving_reaches_the_other_door():
    server = ChatHarness(rate=0)
    alice = server.login("alice")
    _, mind = log_in(server.server.portal, "robot")
    alice.send("/quit bye")
    alice.lose()
    assert mind.events() == [Quit("alice", "Quit: bye")]
