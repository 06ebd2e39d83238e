"""
Hypothesis strategies shared by the property tests.
"""

from hypothesis import strategies as st

from chatserver.core.names import MAX_NAME_LENGTH
from chatserver.doors.line import lines

# Letters of any script and decimal digits, plus the three punctuation marks.
name_characters = st.one_of(
    st.characters(categories=("Lu", "Ll", "Lt", "Lm", "Lo", "Nd")),
    st.sampled_from("_-."),
)
names = st.text(name_characters, min_size=1, max_size=MAX_NAME_LENGTH).filter(
    lambda name: not name.startswith("/")
)
# What a user may send: anything printable (any script), spaces and tabs; no
# control characters, so no line breaks.
texts = st.text(
    st.characters(exclude_categories=("Cc", "Cs")) | st.just("\t"), min_size=1
)
# Every kind of server line, with arbitrary names and texts.
events = st.one_of(
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
    st.builds(lines.Info, texts),
    st.builds(lines.Error, texts),
)
