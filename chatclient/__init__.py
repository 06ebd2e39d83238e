"""
The Tk desktop client of the chat server, running inside the Twisted
reactor.
"""
