"""
The designs people would otherwise use, speaking the same line protocol as
C{chatserver} so that one load generator drives all three.
"""
