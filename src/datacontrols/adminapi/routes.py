"""Endpoint paths: a concrete path and the template it came from (the template labels metrics and logs)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["Route", "route"]


@dataclass(frozen=True)
class Route:
    """A concrete path and the template it came from (the template labels metrics and logs)."""

    template: str
    path: str


def route(template: str, **params: str) -> Route:
    """Fill a path template, URL-quoting each parameter: `route("/x/{id}", id="a b")`.

    An empty, `.` or `..` id is refused: quoting leaves dots alone and httpx removes dot segments, so
    `project_id=".."` would silently address another endpoint (`/organization/data_retention`).
    """
    for name, value in params.items():
        if value in ("", ".", ".."):
            raise ValueError(f"{name} {value!r} is not a usable id")
    return Route(template, template.format(**{k: quote(v, safe="") for k, v in params.items()}))
