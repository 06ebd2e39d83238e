"""
A small group chat server on Twisted, reached from telnet, nc and a Tk
desktop client.
"""

#: The twisted.logger namespace of the server's own events, which the server
#: console shows.
LOG_NAMESPACE = "chatserver"
