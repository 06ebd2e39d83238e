"""
IRCv3 C{labeled-response}: the replies to a command that carried a C{label}
tag, labeled.  One reply carries the label itself; none is an C{ACK} with
it; several come in a C{labeled-response} batch that carries it.
"""

from __future__ import annotations

from chatserver.doors.irc import message
from chatserver.doors.irc.codec import new_batch_id


def labeled(serverName: str, label: str, data: bytes) -> bytes:
    """
    @param data: The replies to the command, encoded (each with its CR LF).
    @return: The replies, labeled with C{label}.
    """
    tag = {"label": label}
    lines: list[bytes] = []
    # A message to oneself comes twice, the same line (and msgid): the echo
    # is the reply, the other the message received, sent after it unlabeled.
    received = b""
    for line in data.split(b"\r\n"):
        if line and line + b"\r\n" in lines:
            received += line + b"\r\n"
        elif line:
            lines.append(line + b"\r\n")
    return _labeled(serverName, tag, lines) + received


def _labeled(serverName: str, tag: dict[str, str], lines: list[bytes]) -> bytes:
    if not lines:
        return message.encode("ACK", prefix=serverName, tags=tag)
    if len(lines) == 1:
        return message.add_tags(lines[0], tag)
    reference = new_batch_id()
    inner = {"batch": reference}
    return b"".join(
        [
            message.encode(
                "BATCH",
                "+" + reference,
                "labeled-response",
                prefix=serverName,
                tags=tag,
            ),
            # A line of a batch within (a chathistory reply) stays in it; that
            # batch's own BATCH lines are in this one.
            *(
                line
                if "batch" in message.tags_of(line)
                else message.add_tags(line, inner)
                for line in lines
            ),
            message.encode("BATCH", "-" + reference, prefix=serverName),
        ]
    )
