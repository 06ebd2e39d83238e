"""
The web door's C{search} message and its answer, C{found}.
"""

from __future__ import annotations

import json

from chatserver.testing import ChatHarness
from tests.doors.test_web import session


def logged_in():
    server = ChatHarness(rate=0)
    web, transport, _ = session(server)
    web.textMessageReceived('{"type": "login", "name": "bob"}')
    for text in ("deploy one", "nothing", "deploy two"):
        web.textMessageReceived(json.dumps({"type": "say", "text": text}))
    transport.sent.clear()
    return web, transport


def test_search_answers_with_the_lines_found_and_where_to_go_on():
    web, transport = logged_in()
    web.textMessageReceived('{"type": "search", "query": "deploy", "limit": 1}')
    (found,) = transport.sent
    assert found["type"] == "found" and found["words"] == "deploy"
    (entry,) = found["entries"]
    assert (entry["room"], entry["from"], entry["text"]) == (
        "#lobby",
        "bob",
        "deploy two",
    )
    assert found["more"] and found["next"] == entry["id"]
    web.textMessageReceived(
        json.dumps({"type": "search", "query": "deploy", "before": found["next"]})
    )
    assert [e["text"] for e in transport.sent[-1]["entries"]] == ["deploy one"]


def test_search_without_a_query_is_the_next_page():
    web, transport = logged_in()
    web.textMessageReceived('{"type": "search", "query": "deploy", "limit": 1}')
    web.textMessageReceived('{"type": "search"}')
    assert [e["text"] for e in transport.sent[-1]["entries"]] == ["deploy one"]


def test_a_bad_search_is_an_error_about_search():
    web, transport = logged_in()
    web.textMessageReceived('{"type": "search", "query": "after:never x"}')
    assert transport.sent[-1]["type"] == "error"
    assert transport.sent[-1]["about"] == "search"
    assert "is not a date" in transport.sent[-1]["message"]
    web.textMessageReceived('{"type": "search", "query": "#elsewhere x"}')
    assert transport.sent[-1]["message"] == "you are not in #elsewhere"
