"""
Getting the reader's attention, without a display: the desktop
notification through notify-send (run by the reactor, nothing when it is
not installed), and the order of the signals.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from chatclient.attention import Attention, notify_send


def test_no_notify_send_means_no_notifications() -> None:
    assert notify_send(which=lambda program: None) is None


def test_notify_send_gets_the_summary_and_body_after_its_options() -> None:
    runs: list[tuple[str, tuple[str, ...]]] = []

    def run(program: str, arguments: tuple[str, ...], env: Any) -> Any:
        runs.append((program, arguments))
        return defer.succeed(0)

    notify = notify_send(which=lambda program: "/usr/bin/notify-send", run=run)
    assert notify is not None
    notify("bob (private)", "-> not an option")
    assert runs == [
        (
            "/usr/bin/notify-send",
            ("--app-name=Chat", "--", "bob (private)", "-> not an option"),
        )
    ]


def test_a_failing_notify_send_is_not_an_error() -> None:
    def run(program: str, arguments: tuple[str, ...], env: Any) -> Any:
        return defer.fail(OSError("no notification service"))

    notify = notify_send(which=lambda program: "/bin/notify-send", run=run)
    assert notify is not None
    done: list[object] = []
    result = notify("a", "b")
    assert isinstance(result, defer.Deferred)
    result.addCallback(done.append)
    assert done == [None]


class FakeRoot:
    def __init__(self) -> None:
        self.bells = 0

    def bell(self) -> None:
        self.bells += 1

    def winfo_ismapped(self) -> bool:
        return True


class FakeHints:
    def __init__(self) -> None:
        self.urgent: list[bool] = []

    def setUrgent(self, urgent: bool) -> None:
        self.urgent.append(urgent)

    def close(self) -> None:
        pass


def test_attention_sets_the_hint_rings_and_notifies_then_clears() -> None:
    root, hints = FakeRoot(), FakeHints()
    shown: list[tuple[str, str]] = []
    attention = Attention(
        root,  # type: ignore[arg-type]
        lambda summary, body: shown.append((summary, body)),
        lambda root: hints,  # type: ignore[arg-type,return-value]
    )
    attention.want("Mentioned in #dev", "<bob> alice: look")
    assert (hints.urgent, root.bells, shown) == (
        [True],
        1,
        [("Mentioned in #dev", "<bob> alice: look")],
    )
    attention.clear()
    attention.clear()
    assert hints.urgent == [True, False]
