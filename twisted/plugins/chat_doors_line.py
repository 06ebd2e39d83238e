"""
The line door (C{--port}, the default door) and the same door behind telnet
(C{--telnet}), as C{twistd chat} door plugins (L{chatserver.doors.IChatDoor}).
"""

from chatserver.doors.line.factory import door as port
from chatserver.doors.line.telnet import door as telnet

__all__ = ["port", "telnet"]
