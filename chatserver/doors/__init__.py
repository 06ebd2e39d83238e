"""
The wire protocols that reach the chat core, each a plugin providing
L{IChatDoor} (see L{chatserver.doors.plugin} and C{docs/doors.md}).
"""

from chatserver.doors.plugin import DoorOption, IChatDoor

__all__ = ["DoorOption", "IChatDoor"]
