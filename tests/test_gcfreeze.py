"""
Freezing what start-up made (L{chatserver.tuning.gcfreeze}), and who does.
"""

import gc

from chatserver.config import ChatConfig
from chatserver.server import ChatServer
from chatserver.service import ChatService
from chatserver.tap import Options, makeService
from chatserver.tuning.gcfreeze import freeze_start_up


def test_start_up_objects_leave_the_full_collections():
    """
    Issue 24: what start-up made was visited by every full collection.
    Frozen, it is not: the collector tracks none of it in its generations.
    """
    made = [[n] for n in range(1000)]
    try:
        frozen = freeze_start_up()
        assert frozen >= 1000
        assert not any(o is made for o in gc.get_objects())
    finally:
        gc.unfreeze()


class RecordingReactor:
    """
    Records what a service asks to run once the reactor runs.
    """

    def __init__(self):
        self.whenRunning = []

    def callWhenRunning(self, f, *args):
        self.whenRunning.append(f)


def test_twistd_chat_freezes_once_running():
    options = Options()
    options.parseOptions(["--port", "tcp:0:interface=127.0.0.1"])
    service = makeService(options)
    assert isinstance(service, ChatService)
    assert service.freezeAtStart


def test_a_service_freezes_only_when_told():
    for told in (False, True):
        reactor = RecordingReactor()
        service = ChatService(ChatServer(ChatConfig()), [], reactor, freezeAtStart=told)
        service.startService()
        try:
            freezing = [f for f in reactor.whenRunning if f == service._freeze]
            assert len(freezing) == told
        finally:
            service.stopService()
