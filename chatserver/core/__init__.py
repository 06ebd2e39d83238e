"""
The chat itself: users, rooms, history, every operation, events as data.
It knows no bytes, no sockets and no wire format.
"""
