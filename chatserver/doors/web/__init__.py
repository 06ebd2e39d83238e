"""
The web door: a chat page and its WebSocket, served by twisted.web.
"""
