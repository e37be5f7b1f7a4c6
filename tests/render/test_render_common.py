"""What holds for every format: the dispatcher, redaction of secrets, no color codes by default."""

from __future__ import annotations

import re
from typing import Any

import pytest
from render_plans import representative_changes

from datacontrols.plan import Change, FieldChange, Plan
from datacontrols.render import FORMATS, render, render_json, render_markdown, render_text

KEY = "sk-proj-AbCdEf0123456789xyzXYZ"
KEY_SHAPED = re.compile(r"sk-[A-Za-z0-9_\-]{6,}")


def leaky_plan() -> Plan:
    return Plan.of(
        [
            *representative_changes(),
            Change(
                "update",
                "project_service_account",
                f"Bot {KEY}",
                {
                    "note": FieldChange(f"old {KEY}", KEY),
                    "credentials": FieldChange({"api_key": "plain-secret-value-1"}, [{"value": "plain-secret-2"}]),
                },
                reason=f"rotated {KEY}",
                disrupts=f"rotates the key of Bot {KEY}",
                subject=KEY,
            ),
        ]
    )


@pytest.mark.parametrize(
    "rendered",
    [
        lambda p: render_text(p),
        lambda p: render_text(p, color=True),
        lambda p: render_json(p, note=KEY),
        lambda p: render_markdown(p),
        lambda p: render_markdown(p, max_chars=2000),
    ],
    ids=["text", "text-color", "json", "markdown", "markdown-truncated"],
)
def test_no_renderer_prints_a_key(rendered: Any) -> None:
    out = rendered(leaky_plan())
    assert not KEY_SHAPED.search(out)
    assert "plain-secret" not in out
    assert "REDACTED" in out  # markdown escapes the brackets of [REDACTED]


def test_redaction_keeps_everything_else() -> None:
    out = render_text(leaky_plan())
    assert 'project "Bot [REDACTED]"' in out
    assert (
        'credentials: {api_key: "[REDACTED]"} -> [{value: "[REDACTED]"}]; note: "old [REDACTED]" -> "[REDACTED]"' in out
    )


def test_dispatch() -> None:
    plan = Plan.of(representative_changes())
    assert render(plan, "text") == render_text(plan)
    assert render(plan, "json") == render_json(plan)
    assert render(plan, "markdown") == render_markdown(plan)


def test_color_reaches_text_only() -> None:
    plan = Plan.of(representative_changes())
    assert render(plan, "text", color=True) == render_text(plan, color=True)
    assert "\x1b" not in render(plan, "json", color=True)
    assert "\x1b" not in render(plan, "markdown", color=True)


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown plan format 'yaml'"):
        render(Plan(), "yaml")  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", FORMATS)
def test_deterministic(fmt: Any) -> None:
    assert render(Plan.of(representative_changes()), fmt) == render(Plan.of(representative_changes()), fmt)
