"""
A small group chat server on Twisted, reached from telnet, nc and a Tk
desktop client.
"""
