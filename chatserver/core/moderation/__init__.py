"""
Moderation, once for every door: roles, masks, durations, room modes,
bans, mutes and klines with their ends, the moderation log, and the
operations moderators do.

    roles.py      room roles: operator (o, @) and voice (v, +)
    masks.py      what a ban matches: a name pattern, nick!ident@host, an
                  address or a network
    durations.py  30s, 10m, 2h, 7d
    modes.py      room modes (+i +m +t +k KEY +l N) and /mode's changes
    records.py    Ban (bans, mutes, klines) and LogEntry (/modlog)
    errors.py     one ChatError subclass per refusal, each with a code
    store.py      IModerationStore: where the state is kept across restarts
    state.py      Moderation: the state in memory, with expiry
    checks.py     ModerationChecks: before a join, a line, a topic; member lists
    actions.py    ModerationActions: the operations, mixed into ChatUser

See C{docs/moderation.md}.
"""
