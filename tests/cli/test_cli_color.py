"""Colour follows the terminal, NO_COLOR turns it off, FORCE_COLOR turns it on (NO_COLOR wins)."""

from __future__ import annotations

import io

import pytest

from datacontrols.commands.terminal import color


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("no_color", "force_color", "tty", "expected"),
    [
        (None, None, True, True),
        (None, None, False, False),
        ("1", None, True, False),
        (None, "1", False, True),
        ("1", "1", False, False),
    ],
)
def test_color_rules(
    monkeypatch: pytest.MonkeyPatch, no_color: str | None, force_color: str | None, tty: bool, expected: bool
) -> None:
    for name, value in (("NO_COLOR", no_color), ("FORCE_COLOR", force_color)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert color(Tty() if tty else io.StringIO()) is expected
