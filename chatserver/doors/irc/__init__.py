"""
The IRC door: IRC clients (irssi, WeeChat, HexChat, bots) in the same chat
as every other door.  See C{docs/irc.md}.
"""
