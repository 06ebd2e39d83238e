"""
A burst of 10,000 incoming lines: the window keeps answering while the lines
go in, a batch at a time, and the scrollback stays capped.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import pytest
from twisted.internet import defer

from chatclient.model import Conversation, ViewLine
from tests.gui.client_support import ClientTestCase, wait_until

pytestmark = pytest.mark.gui

BURST = 10_000


class BurstTests(ClientTestCase):
    name = "alice"
    scrollback = 3000

    @defer.inlineCallbacks
    def test_burst_of_ten_thousand_lines(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        bob = yield self.otherUser("bob")
        yield self.loggedIn()
        yield wait_until(lambda: self.userList() == ["alice", "bob"], "bob")
        window, model = self.window, self.model
        # Count the batches, and the Tk events handled between them: a Tk
        # timer ticks only when Tk gets to run its event loop.
        batches: list[int] = []
        ticks: list[int] = []
        appendLines = window.appendLines

        def counting(
            batch: Sequence[ViewLine], trim: int, conversation: Conversation
        ) -> None:
            batches.append(len(batch))
            appendLines(batch, trim, conversation)

        window.appendLines = counting  # type: ignore[method-assign]

        def tick() -> None:
            ticks.append(len(batches))
            self.heartbeat = self.root.after(1, tick)

        tick()
        self.addCleanup(lambda: self.root.after_cancel(self.heartbeat))
        bob.transport.write(
            b"".join(f"burst line {i}\r\n".encode() for i in range(BURST))
        )
        last = f"<bob> burst line {BURST - 1}"
        yield wait_until(
            lambda: last in window.text.get("end-2l", "end") and not model.pending,
            "the burst drained",
            timeout=60,
        )
        assert window.lineCount() == self.scrollback == len(model.selected.lines)
        first = window.text.get("1.0", "1.end")
        assert first.endswith(f"<bob> burst line {BURST - self.scrollback}")
        # In batches, none larger than the model's batch size...
        assert len(batches) > 1
        assert max(batches) <= model.batchSize
        # ...and Tk ran between them: the timer ticked while lines were
        # still going in.
        during = {count for count in ticks if 0 < count < len(batches)}
        assert len(during) > 1, (ticks[:5], len(batches))
        # The user can still type and send while it drains, and after.
        self.type(window.entry, "still here")
        yield bob.received_text("still here")


class ScrollbackTests(ClientTestCase):
    name = "alice"
    scrollback = 60

    @defer.inlineCallbacks
    def test_trimming_keeps_the_place_of_a_reader(
        self,
    ) -> Generator[defer.Deferred[Any], Any, None]:
        bob = yield self.otherUser("bob")
        yield self.loggedIn()
        text = self.window.text
        for i in range(80):
            bob.say(f"old {i}")
        yield wait_until(lambda: "<bob> old 79" in self.chatText(), "80 lines")
        assert self.window.lineCount() == 60
        text.yview("30.0")  # reading in the middle
        self.root.update()
        reading = text.get("@0,0 linestart", "@0,0 lineend")
        for i in range(10):
            bob.say(f"new {i}")
        yield wait_until(lambda: "<bob> new 9" in self.chatText(), "10 more")
        self.root.update()
        assert self.window.lineCount() == 60
        assert text.get("@0,0 linestart", "@0,0 lineend") == reading
