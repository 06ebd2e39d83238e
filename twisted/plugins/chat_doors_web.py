"""
The web door (C{--web}, with C{--web-origin}), a C{twistd chat} door plugin
(L{chatserver.doors.IChatDoor}).
"""

from chatserver.doors.web.factory import door as web

__all__ = ["web"]
