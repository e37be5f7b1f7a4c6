"""A name, subject, reason or field read from the API cannot put a control character into any output."""

from __future__ import annotations

import json

import pytest

from datacontrols.plan import Change, FieldChange, Plan
from datacontrols.render import render

HOSTILE = "A\x1b[31mB\x07C\x9bD\u202eE\rF"


def controls(text: str) -> list[str]:
    return [
        f"U+{ord(ch):04X}"
        for ch in text
        if (ord(ch) < 0x20 and ch not in "\n") or 0x7F <= ord(ch) < 0xA0 or ch in "\u202a\u202b\u202c\u202d\u202e"
    ]


def hostile_plan() -> Plan:
    change = Change(
        action="update",
        kind="project_data_retention",
        project=HOSTILE,
        subject=HOSTILE,
        reason=f"because {HOSTILE}",
        fields={f"field{HOSTILE}": FieldChange(HOSTILE, [HOSTILE])},
        weakens=f"weakens {HOSTILE}",
        order=10,
    )
    return Plan.of([change])


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_no_control_character_reaches_the_page(fmt: str) -> None:
    out = render(hostile_plan(), fmt, color=False)  # type: ignore[arg-type]
    assert controls(out) == []
    assert "\\u001b" in out or "\\x1b" in out or "\\u001B" in out, "the character is shown, escaped, not dropped"


def test_json_keeps_the_exact_value_escaped_by_the_encoder() -> None:
    out = render(hostile_plan(), "json", color=False)
    assert controls(out) == []
    assert json.loads(out)["changes"][0]["project"] == HOSTILE
