"""
Hypothesis strategies shared by the property tests.
"""

from hypothesis import strategies as st

from chatwire import lines
from chatwire.names import LOOKALIKES, MAX_NAME_LENGTH, MAX_ROOM_NAME_LENGTH
from chatwire.text import forbidden, shows_nothing

# Letters of any script and decimal digits, plus the three punctuation marks.
name_characters = st.one_of(
    st.characters(categories=("Lu", "Ll", "Lt", "Lm", "Lo", "Nd")).filter(
        lambda char: not forbidden(char) and not LOOKALIKES.match(char)
    ),
    st.sampled_from("_-."),
)
names = st.text(name_characters, min_size=1, max_size=MAX_NAME_LENGTH).filter(
    lambda name: not name.startswith("/")
)
# What a user may send: anything printable (any script), spaces and tabs; no
# control or format characters (chatwire.text), so no line breaks;
# nor the joiners and variation selectors, which show nothing alone.
texts = st.text(
    st.characters(exclude_categories=("Cc", "Cs", "Cf", "Zl", "Zp")).filter(
        lambda char: not forbidden(char) and (char.isspace() or not shows_nothing(char))
    )
    | st.just("\t"),
    min_size=1,
)
room_names = st.text(name_characters, min_size=1, max_size=MAX_ROOM_NAME_LENGTH).map(
    lambda bare: "#" + bare
)
# Whole seconds since 1970 up to 9999: history lines show times to the second.
whole_seconds = st.integers(min_value=0, max_value=253402300799).map(float)
# Ban masks: a name pattern, an IRC mask, an address (no spaces).
masks = st.text(
    st.characters(exclude_categories=("Cc", "Cs", "Cf", "Zl", "Zp", "Zs")).filter(
        lambda char: not forbidden(char) and not char.isspace()
    ),
    min_size=1,
)
moderation_events = st.one_of(
    st.builds(lines.RoleChanged, names, names, st.sampled_from("ov"), st.booleans()),
    st.builds(
        lines.BanChanged,
        names,
        st.sampled_from(["ban", "mute"]),
        masks,
        st.just(True),
        st.none() | whole_seconds,
        texts | st.just(""),
    ),
    st.builds(
        lines.BanChanged,
        names | st.just(""),
        st.sampled_from(["ban", "mute"]),
        masks,
        st.just(False),
    ),
    st.builds(
        lines.ModeChanged,
        names,
        st.from_regex(r"[+-][imtklov]{1,3}(?:[+-][imtklov]{1,3})?", fullmatch=True),
        st.lists(masks, max_size=3).map(tuple),
    ),
)
# Every kind of plain server line, with arbitrary names and texts.
plain_events = st.one_of(
    st.builds(lines.Message, names, texts),
    st.builds(lines.Action, names, texts),
    st.builds(lines.PrivateIn, names, texts),
    st.builds(lines.PrivateOut, names, texts),
    st.builds(lines.Joined, names),
    st.builds(lines.Left, names, texts | st.just("")),
    st.builds(lines.Renamed, names, names),
    st.builds(lines.UserList, st.lists(names, max_size=20).map(tuple)),
    st.builds(lines.Welcome, texts, names),
    st.builds(lines.Prompt, st.sampled_from(["name", "password"]), texts),
    moderation_events,
    st.builds(lines.Info, texts),
    st.builds(lines.Error, texts),
    st.builds(lines.TopicSet, names, texts | st.just("")),
    st.builds(lines.TopicIs, texts, names) | st.just(lines.TopicIs("")),
    st.builds(lines.RoomsHeader, st.integers(min_value=0)),
    st.builds(
        lines.RoomEntry, room_names, st.integers(min_value=0), texts | st.just("")
    ),
    st.builds(lines.HistoryEnd, st.integers(min_value=0)),
    st.builds(lines.SearchHeader, st.integers(min_value=0), texts),
    st.builds(lines.SearchEnd, st.integers(min_value=1), st.booleans())
    | st.builds(lines.SearchEnd, st.just(0), st.booleans()),
    st.builds(
        lines.ReadUpTo,
        names | room_names,
        st.integers(min_value=0),
        st.integers(min_value=0),
    ),
    st.just(lines.UnreadFrom()),
)
kept_events = plain_events | st.builds(
    lines.History, st.integers(min_value=1), whole_seconds, plain_events
)
# Every kind of server line: plain, kept from history, marked with a room.
events = kept_events | st.builds(lines.InRoom, room_names, kept_events)
