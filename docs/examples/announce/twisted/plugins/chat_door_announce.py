"""
The C{announce} door, as a plugin of C{twistd chat}: this folder
(C{twisted/plugins/}, with no C{__init__.py}) is looked in for plugins when
the folder above it is on C{sys.path}.
"""

from announce_door import AnnounceDoor

announce = AnnounceDoor()
