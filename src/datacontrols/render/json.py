"""The plan as the machine contract: plan JSON format version 1.

    {"changes": [{"action", "fields": {name: {"after", "before"}}, "kind", "project", "reason", "severity"
                  (, "subject")}],
     "format_version": 1,
     "summary": {"archive", "create", "delete", "report", "uncorrectable", "update"}}

plus whatever top-level keys the caller adds (a digest, the git revision). Keys sorted, two-space indent,
a trailing newline, non-ASCII characters kept as they are (UTF-8): the same plan always gives the same
bytes. Pipelines parse this; change its shape only with a new `format_version`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from datacontrols.plan import Plan
from datacontrols.redaction import redact_value
from datacontrols.render.notation import redact_plan

__all__ = ["render_json"]


def render_json(plan: Plan, **extra: Any) -> str:
    """Render `plan` as plan JSON v1; `extra` adds top-level keys and may not replace the v1 ones."""
    document = redact_plan(plan).to_json()
    clash = sorted(document.keys() & extra.keys())
    if clash:
        raise ValueError(f"extra keys would replace plan JSON keys: {', '.join(clash)}")
    document.update(redact_value(extra))
    # default=str: the same fallback as Plan.digest, so a stray datetime renders instead of failing.
    text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, default=str)
    # Readable names stay readable (no ensure_ascii), but what a terminal could act on is escaped: the
    # encoder escapes C0 itself; C1 controls and bidi overrides are valid JSON raw, so they are escaped here.
    return _TERMINAL_ACTIVE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


_TERMINAL_ACTIVE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
