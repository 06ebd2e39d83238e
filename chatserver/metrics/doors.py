"""
Which door a connection came through, as metrics and the JSON log label it.
"""

from __future__ import annotations


def door_of(mind: object) -> str:
    """
    @return: The door family of a logged-in user's connection (C{line},
        C{irc}, C{web}), from its module: the core knows no doors, and a
        door plugin from elsewhere is labelled with its module.
    """
    return door_of_class(type(mind))


def door_of_class(kind: type) -> str:
    """
    @return: The door family of connections of the class C{kind}, as
        L{door_of} tells it.
    """
    module = kind.__module__
    parts = module.split(".")
    if parts[:2] == ["chatserver", "doors"] and len(parts) > 2:
        return parts[2]
    return module
