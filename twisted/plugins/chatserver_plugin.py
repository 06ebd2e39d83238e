"""
The C{twistd chat} plugin.  No C{__init__.py} beside it, on purpose: see
Twisted's plugin howto.
"""

from twisted.application.service import ServiceMaker

chat = ServiceMaker(
    "chat",
    "chatserver.tap",
    "A group chat server for telnet, nc and the Tk client",
    "chat",
)
