"""
The IRC door (C{--irc}), a C{twistd chat} door plugin
(L{chatserver.doors.IChatDoor}).
"""

from chatserver.doors.irc.factory import door as irc

__all__ = ["irc"]
