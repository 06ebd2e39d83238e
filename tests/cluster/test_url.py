"""
The C{--cluster} URL: what it may say and the one-line errors for the rest.
"""

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatserver.cluster.url import (
    DEFAULT_PORT,
    PASSWORD_VARIABLE,
    RedisURL,
    parse_redis_url,
    with_password,
)


def test_host_alone_means_the_default_port_and_database_0():
    assert parse_redis_url("redis://localhost") == RedisURL("localhost")


def test_port_database_and_password():
    url = parse_redis_url("redis://:s3cret@10.0.0.5:7000/2")
    assert (url.host, url.port, url.db, url.password) == ("10.0.0.5", 7000, 2, "s3cret")
    assert url.username is None and not url.tls


def test_rediss_is_tls_and_may_name_a_certificate_authority():
    url = parse_redis_url("rediss://user:p%40ss@redis.example:6380/1?ca=/etc/ca.pem")
    assert url.tls and url.ca == "/etc/ca.pem"
    assert (url.username, url.password) == ("user", "p@ss")


def test_an_ipv6_address_in_brackets():
    assert parse_redis_url("redis://[::1]:6390").host == "::1"


def test_the_password_is_never_shown():
    url = parse_redis_url("redis://:s3cret@host/3")
    assert str(url) == "redis://***@host:6379/3"
    assert "s3cret" not in repr(url)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("http://host", "it starts with redis:// or rediss://"),
        ("host:6379", "it starts with redis:// or rediss://"),
        ("redis://", "it has no host"),
        ("redis://host/one", "the database is a number"),
        ("redis://host:99999", "Port out of range 0-65535"),
        ("redis://host?ca=x.pem", "ca= is for rediss://"),
        ("rediss://host?verify=no", "unknown option verify"),
    ],
)
def test_nonsense_is_refused_in_one_line(text, why):
    with pytest.raises(ValueError, match="^bad Redis URL .*: " + why) as caught:
        parse_redis_url(text)
    assert "\n" not in str(caught.value)


hosts = st.from_regex(
    r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){0,2}", fullmatch=True
)


@given(
    host=hosts,
    port=st.integers(1, 65535),
    db=st.integers(0, 15),
    password=st.none() | st.text(min_size=1, max_size=30),
    tls=st.booleans(),
)
def test_any_url_built_from_parts_gives_them_back(host, port, db, password, tls):
    auth = "" if password is None else ":" + quote(password, safe="") + "@"
    scheme = "rediss" if tls else "redis"
    url = parse_redis_url(f"{scheme}://{auth}{host}:{port}/{db}")
    assert url == RedisURL(host, port, db, None, password, tls)


@given(st.text(max_size=60))
def test_any_text_is_a_url_or_a_one_line_error(text):
    try:
        url = parse_redis_url(text)
    except ValueError as e:
        assert str(e).startswith("bad Redis URL") and "\n" not in str(e)
    else:
        assert url.host and 0 <= url.port <= 65535 and url.db >= 0
        assert url.port == DEFAULT_PORT or str(url.port) in text


@pytest.mark.parametrize(
    "text",
    [
        "redis://:s3cret@host/one",
        "redis://user:s3cret@host:99999",
        "http://:s3cret@host",
        "redis://:s3cret@/2",
        "redis:s3cret@host",
    ],
)
def test_an_error_about_a_url_never_shows_its_password(text):
    with pytest.raises(ValueError) as caught:
        parse_redis_url(text)
    assert "s3cret" not in str(caught.value)
    assert "***@" in str(caught.value)


@given(
    user=st.text(max_size=10),
    password=st.text(max_size=20),
    rest=st.sampled_from(["host:0x/1", "host/db", "/1", "host?x=1", "h:99999"]),
)
def test_no_error_about_a_url_shows_its_password(user, password, rest):
    secret = "Zq" + quote(password, safe="")
    text = f"redis://{quote(user, safe='')}:{secret}@{rest}"
    with pytest.raises(ValueError) as caught:
        parse_redis_url(text)
    assert secret not in str(caught.value)


def test_a_password_file_wins_over_the_url_s_password(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("from file\nignored\n")
    url = with_password(parse_redis_url("redis://:in-url@host"), str(secret))
    assert url.password == "from file"


def test_the_environment_gives_the_password_a_url_lacks():
    environ = {PASSWORD_VARIABLE: "from env"}
    assert with_password(parse_redis_url("redis://host"), "", environ).password == (
        "from env"
    )
    url = with_password(parse_redis_url("redis://:in-url@host"), "", environ)
    assert url.password == "in-url"
