"""The two list envelopes of the spec, for route modules that serve lists of records.

    style A  {object: "list", data, first_id, last_id, has_more}    cursor: after=<id of the last item>
    style B  {object: "list", data, has_more, next}                 cursor: after=<next>

Both take `after` as an item id here (for style B, `next` is the last id of the page). An `after` that names
no item answers 400, as the projects list does; `limit` is bounded per endpoint, as the spec says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.routing import Call

__all__ = ["page_a", "page_b"]

T = TypeVar("T")


def _page(
    call: Call, items: Sequence[T], ident: Callable[[T], str], default: int, minimum: int, maximum: int
) -> tuple[list[T], bool]:
    limit = call.int_query("limit", default=default, minimum=minimum, maximum=maximum)
    after = call.query.get("after")
    remaining = list(items)
    if after is not None:
        ids = [ident(item) for item in remaining]
        if after not in ids:
            raise ApiFailure.bad_request(
                f"Invalid 'after': no item with id '{after}'.", param="after", code="invalid_value"
            )
        remaining = remaining[ids.index(after) + 1 :]
    return remaining[:limit], len(remaining) > limit


def page_a(
    call: Call,
    items: Sequence[T],
    render: Callable[[T], dict[str, Any]],
    ident: Callable[[T], str],
    *,
    default: int = 20,
    minimum: int = 1,
    maximum: int = 100,
) -> dict[str, Any]:
    page, more = _page(call, items, ident, default, minimum, maximum)
    return {
        "object": "list",
        "data": [render(item) for item in page],
        "first_id": ident(page[0]) if page else None,
        "last_id": ident(page[-1]) if page else None,
        "has_more": more,
    }


def page_b(
    call: Call,
    items: Sequence[T],
    render: Callable[[T], dict[str, Any]],
    ident: Callable[[T], str],
    *,
    default: int = 100,
    minimum: int = 0,
    maximum: int = 1000,
) -> dict[str, Any]:
    page, more = _page(call, items, ident, default, minimum, maximum)
    return {
        "object": "list",
        "data": [render(item) for item in page],
        "has_more": more and bool(page),
        "next": ident(page[-1]) if more and page else None,
    }
