"""A plain text table for the terminal (no colour, so it pastes into docs and CI logs as it is)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Table", "ratio", "share"]


@dataclass
class Table:
    title: str
    columns: Sequence[str]
    rows: list[Sequence[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: Any) -> None:
        self.rows.append(cells)

    def render(self) -> str:
        cells = [[str(c) for c in self.columns], *([_cell(c) for c in row] for row in self.rows)]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        lines = [self.title, "=" * len(self.title)]
        for index, row in enumerate(cells):
            # The first column (a label) is left-aligned, the figures right-aligned.
            padded = (c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
            lines.append("  ".join(padded))
            if index == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "-" if value is None else str(value)


def ratio(value: float, reference: float) -> float | None:
    """value / reference, or None when the reference is 0."""
    return value / reference if reference else None


def share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"
