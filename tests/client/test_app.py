"""
The command line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatclient.app import Options, parse_arguments
from tests.client.certs import self_signed

ROOT = Path(__file__).resolve().parents[2]

hosts = st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}", fullmatch=True)
names = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}", fullmatch=True)


def test_defaults() -> None:
    assert parse_arguments([]) == Options("localhost", 8123, "", 5000)


@given(hosts, st.integers(1, 65535), names, st.integers(1, 10**6))
def test_every_option(host: str, port: int, name: str, scrollback: int) -> None:
    argv = [f"--host={host}", "--port", str(port), f"--name={name}"]
    argv += ["--scrollback", str(scrollback)]
    assert parse_arguments(argv) == Options(host, port, name, scrollback)


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=65536)))
def test_bad_port_numbers(port: int) -> None:
    with pytest.raises(SystemExit):
        parse_arguments(["--port", str(port)])


@given(st.text(max_size=8).filter(lambda t: not re.fullmatch("[0-9]+", t.strip())))
def test_ports_that_are_not_numbers(text: str) -> None:
    with pytest.raises(SystemExit):
        parse_arguments([f"--port={text}"])


def test_odd_numbers_are_refused() -> None:
    for text in ("1_000", "+80", "٨٠", "0x50", ""):
        with pytest.raises(SystemExit):
            parse_arguments([f"--port={text}"])


@given(st.integers(max_value=0))
def test_scrollback_is_positive(lines: int) -> None:
    with pytest.raises(SystemExit):
        parse_arguments([f"--scrollback={lines}"])


def test_help_from_python_m() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chatclient", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for option in ("--host", "--port", "--name", "--scrollback", "--tls", "--ca"):
        assert option in result.stdout


def test_help_from_the_installed_chat_client_script() -> None:
    # The gui_scripts entry point of setup.cfg, installed beside Python.
    script = Path(sys.executable).parent / "chat-client"
    result = subprocess.run(
        [str(script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.startswith("usage: chat-client")


def test_tls_and_ca(tmp_path: Path) -> None:
    assert parse_arguments(["--tls"]) == Options(tls=True)
    _, cert = self_signed().write(tmp_path, "chat")
    # --ca implies --tls; the path is kept absolute.
    options = parse_arguments(["--ca", str(cert)])
    assert options == Options(tls=True, ca=str(cert.resolve()))
    server, _ = self_signed().write(tmp_path, "server")
    assert parse_arguments([f"--ca={server}", "--tls"]).ca == str(server)


def test_bad_ca_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(SystemExit):
        parse_arguments(["--ca", str(missing)])
    assert "cannot read" in capsys.readouterr().err
    junk = tmp_path / "junk.pem"
    junk.write_text("hello\n")
    with pytest.raises(SystemExit):
        parse_arguments(["--ca", str(junk)])
    assert "no PEM certificate" in capsys.readouterr().err


def test_no_password_on_the_command_line() -> None:
    # A command line is visible to every user of the machine.
    for argv in (["--password", "x"], ["--password-file", "x"]):
        with pytest.raises(SystemExit):
            parse_arguments(argv)


def test_scale() -> None:
    assert parse_arguments([]).scale is None  # from the screen
    assert parse_arguments(["--scale", "2"]).scale == 2.0
    assert parse_arguments(["--scale=1.25"]).scale == 1.25
    for bad in ("0", "5", "big", "-1"):
        with pytest.raises(SystemExit):
            parse_arguments(["--scale", bad])
