"""
What the chat server and its clients share: the chat's language as both ends
speak it, with nothing of either end.

    - L{chatwire.lines}: every line the line door sends, formatted and
      parsed side by side;
    - L{chatwire.commands}: what a user types, read as chat text or a
      command;
    - L{chatwire.names} and L{chatwire.text}: the rules for names and for
      text, and the case folding that makes a name unique;
    - L{chatwire.errors}: why an operation is refused, one class per reason;
    - L{chatwire.addresses}: how a host and port are written.

This package imports the standard library only, so a client (the Tk client,
a bot, a test) can use it without the server or the server's dependencies;
the server imports it too, so both ends follow one set of rules.
"""
