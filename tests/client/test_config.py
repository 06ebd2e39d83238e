from __future__ import annotations

from pathlib import Path

import pytest

from chatclient import config


def test_remembers_under_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config.config_path() == tmp_path / "chatclient" / "config.json"
    assert config.load() == config.Remembered()
    config.save(config.Remembered(host="h", port=1, name="al", rooms=["#dev"]))
    loaded = config.load()
    assert (loaded.host, loaded.port, loaded.name, loaded.rooms) == (
        "h",
        1,
        "al",
        ["#dev"],
    )
    config.config_path().write_text("not json")
    assert config.load() == config.Remembered()


def test_private_conversations_are_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    config.save(config.Remembered(privates=["bob", "Carol"]))
    assert config.load().privates == ["bob", "Carol"]


def test_a_bad_list_of_private_conversations_is_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    path = config.config_path()
    path.parent.mkdir(parents=True)
    path.write_text('{"privates": "bob", "rooms": [1], "name": "al"}')
    loaded = config.load()
    assert (loaded.privates, loaded.rooms, loaded.name) == ([], [], "al")
