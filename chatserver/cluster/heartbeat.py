"""
A node's heartbeat: every L{HEARTBEAT} seconds it tells Redis it lives
(the C{beat} script), and the same script reaps the nodes that stopped
beating: their users leave ("node lost") and their names are free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.internet import defer, task
from twisted.logger import Logger

from chatserver import LOG_NAMESPACE

if TYPE_CHECKING:
    from chatserver.cluster.node import ClusterNode

log = Logger(namespace=LOG_NAMESPACE)

HEARTBEAT = 2.0
"""
Seconds between two heartbeats of a node.
"""

DEAD_AFTER = 10.0
"""
Seconds without a heartbeat after which a node is dead: its users leave
("node lost") and their names are free.  With L{HEARTBEAT}, the others
notice within 12 seconds.
"""

NODE_LOST = "node lost"
"""
The reason the users of a dead node leave for.
"""


class Heartbeat:
    """
    The heartbeat of C{node}, and its reaping of the dead.

    @param node: The node that beats.
    """

    def __init__(self, node: ClusterNode) -> None:
        self.node = node
        self._beat = task.LoopingCall(self._heartbeat)
        self._beat.clock = node.reactor

    def start(self) -> None:
        """
        Beat every L{HEARTBEAT} seconds, unless beating already.
        """
        if not self._beat.running:
            self._beat.start(HEARTBEAT, now=False).addErrback(
                lambda f: log.failure("Heartbeat", f, chat_event="error")
            )

    def stop(self) -> None:
        """
        Stop beating.
        """
        if self._beat.running:
            self._beat.stop()

    def _heartbeat(self) -> defer.Deferred[None]:
        if not self.node.ready:
            return defer.succeed(None)
        d = defer.ensureDeferred(self.beat())
        d.addErrback(self.node.fireFailed, "beat")
        return d

    async def beat(self) -> None:
        """
        Beat now, reaping the dead; claim everything again if the cluster
        took this node for dead.
        """
        node = self.node
        known, reaped = await node.script("beat", node.name, int(DEAD_AFTER * 1000))
        for dead in reaped:
            log.warn(
                "Node {node} stopped beating: its users left ({reason})",
                node=dead,
                reason=NODE_LOST,
                chat_event="cluster",
            )
        if str(known) == "0" and node.ready:
            # Taken for dead (a long stall): claim everything again.
            log.warn(
                "The cluster took node {node} for dead: announcing its users again",
                node=node.name,
                chat_event="cluster",
            )
            await node.announceEveryone()
