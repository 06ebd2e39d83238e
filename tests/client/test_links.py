"""
Links in chat lines, without Tk: http and https URLs are cut out as links,
nothing else ever is, and the line reads as before.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chatclient.model import Part, find_links, linked, render
from chatwire import lines
from tests.strategies import texts


def urls(text: str) -> list[str]:
    return [text[start:end] for start, end in find_links(text)]


def test_http_and_https_urls_are_links() -> None:
    assert urls("see https://example.org/a?b=1#c and http://x.test") == [
        "https://example.org/a?b=1#c",
        "http://x.test",
    ]


def test_other_schemes_are_never_links() -> None:
    for text in (
        "javascript:alert(1)",
        "javascript://example.org/%0aalert(1)",
        "ftp://example.org/file",
        "file:///etc/passwd",
        "data:text/html,<b>x</b>",
        "xhttps://example.org",
        "git+https://example.org/repo",
        "https://",
    ):
        assert urls(text) == [], text


def test_sentence_punctuation_is_not_part_of_the_link() -> None:
    assert urls("look at https://example.org/page.") == ["https://example.org/page"]
    assert urls("(see https://example.org/x)") == ["https://example.org/x"]
    assert urls("wiki https://en.wikipedia.org/wiki/Tk_(toolkit), yes") == [
        "https://en.wikipedia.org/wiki/Tk_(toolkit)"
    ]
    assert urls('"https://example.org/q"') == ["https://example.org/q"]


def test_a_message_with_a_link_renders_it_as_a_part_of_its_own() -> None:
    kind, parts = render(lines.Message("bob", "docs: https://example.org/d ok"))
    assert kind == "message"
    assert [p for p in parts if p.link] == [Part("https://example.org/d", link=True)]
    assert "".join(p.text for p in parts) == "<bob> docs: https://example.org/d ok"


def test_names_are_never_links() -> None:
    parts = linked((Part("https://a.test", "https://a.test"),))
    assert not parts[0].link


@given(texts)
def test_linking_keeps_the_text(text: str) -> None:
    parts = linked((Part(text),))
    assert "".join(part.text for part in parts) == text
    for part in parts:
        if part.link:
            assert part.text.lower().startswith(("http://", "https://"))
            assert not any(c.isspace() for c in part.text)


@given(st.text(), st.sampled_from(["https://h.test/p", "http://h.test"]))
def test_a_url_after_a_space_is_found_whole(before: str, url: str) -> None:
    text = f"{before} {url} end"
    assert url in urls(text)
