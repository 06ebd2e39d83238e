"""
Many nodes, one chat: the nodes share names, rooms, presence and history
through Redis (see C{docs/cluster.md}).
"""
