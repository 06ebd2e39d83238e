"""
The theme's colours, without Tk: every kind of line and every name is
readable on the chat view's background in both palettes.
"""

from __future__ import annotations

import pytest

from chatclient.model import KINDS, PALETTE
from chatclient.theme import (
    LINE_COLOURS,
    NAME_COLOURS,
    PALETTES,
    STATUS_COLOURS_BY_THEME,
)
from chatclient.window import KIND_STYLES, _scaled_geometry


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """
    The WCAG contrast ratio of two colours.
    """
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


THEMES = sorted(PALETTES)


def test_every_kind_is_styled() -> None:
    assert set(KIND_STYLES) == set(KINDS)
    for theme in THEMES:
        for style in KIND_STYLES.values():
            if "foreground" in style:
                assert style["foreground"] in LINE_COLOURS[theme]


@pytest.mark.parametrize("theme", THEMES)
def test_lines_are_readable(theme: str) -> None:
    panel = PALETTES[theme]["panel"]
    assert contrast(PALETTES[theme]["fg"], panel) >= 7
    for kind, colour in LINE_COLOURS[theme].items():
        assert contrast(colour, panel) >= 4.5, (theme, kind, colour)


@pytest.mark.parametrize("theme", THEMES)
def test_names_are_readable(theme: str) -> None:
    assert len(NAME_COLOURS[theme]) == len(PALETTE)
    panel = PALETTES[theme]["panel"]
    for colour in NAME_COLOURS[theme]:
        assert contrast(colour, panel) >= 4.5, (theme, colour)


@pytest.mark.parametrize("theme", THEMES)
def test_muted_is_muted_but_legible(theme: str) -> None:
    colours = PALETTES[theme]
    history = contrast(colours["history"], colours["panel"])
    assert 2.5 <= history < contrast(colours["fg"], colours["panel"]) / 2
    mention = contrast(colours["fg"], colours["mention"])
    assert mention >= 4.5
    for colour in STATUS_COLOURS_BY_THEME[theme].values():
        assert contrast(colour, colours["bg"]) >= 4.5, (theme, colour)


def test_scaled_geometry() -> None:
    assert _scaled_geometry("900x560", 1.0) == "900x560"
    assert _scaled_geometry("900x560", 2.0) == "1800x1120"
    assert _scaled_geometry("900x560+10+20", 1.5) == "1350x840+10+20"
    assert _scaled_geometry("nonsense", 2.0) == "nonsense"


@pytest.mark.parametrize("theme", THEMES)
def test_links_are_readable(theme: str) -> None:
    colours = PALETTES[theme]
    assert contrast(colours["link"], colours["panel"]) >= 4.5
