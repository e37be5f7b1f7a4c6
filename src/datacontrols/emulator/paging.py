"""The two list envelopes of the spec, and the SDK's, for route modules that serve lists of records.

    style A  {object: "list", data, first_id, last_id, has_more}    cursor: after=<id of the last item>
    style B  {object: "list", data, has_more, next}                 cursor: after=<next>
    cursor   {object: "list", data, has_more}                        openai-python's CursorPage (`cursor_page`):
                                                                     the families newer than the pinned spec

Both take `after` as an item id here (for style B, `next` is the last id of the page). An `after` that names
no item answers 400, as the projects list does; `limit` is bounded per endpoint where the spec states a
bound (its schema or its description), and unbounded above (`maximum=None`) where it states none.
`style_a_page` also takes `before`, for the endpoints whose spec documents it (rate limits, spend alerts);
`envelope_a` is the style-A object alone, for lists that cut their pages their own way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.routing import Call

__all__ = ["cursor_page", "envelope_a", "in_order", "page_a", "page_b", "style_a_page"]

T = TypeVar("T")


def _page(
    call: Call, items: Sequence[T], ident: Callable[[T], str], default: int, minimum: int, maximum: int | None
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


def in_order(call: Call, items: Sequence[T], *, default: str) -> list[T]:
    """`items` (kept in creation order) as the listing's `order` parameter asks; see `Call.order_query`."""
    return list(items) if call.order_query(default=default) == "asc" else list(reversed(items))


def cursor_page(
    call: Call, items: Sequence[T], render: Callable[[T], dict[str, Any]], ident: Callable[[T], str]
) -> dict[str, Any]:
    """An SDK `CursorPage` of `items` (kept in creation order): `order` asc (default) or desc, `after` an item
    id, `limit` 1..100 (default 20), as openai-python 3.63.0's list parameters are for these families."""
    page, more = _page(call, in_order(call, items, default="asc"), ident, 20, 1, 100)
    return {"object": "list", "data": [render(item) for item in page], "has_more": more}


def envelope_a(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    """The style-A list object around one page of rendered items (each with its `id`)."""
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def page_a(
    call: Call,
    items: Sequence[T],
    render: Callable[[T], dict[str, Any]],
    ident: Callable[[T], str],
    *,
    default: int = 20,
    minimum: int = 1,
    maximum: int | None = 100,
) -> dict[str, Any]:
    page, more = _page(call, items, ident, default, minimum, maximum)
    return envelope_a([render(item) for item in page], more)


def page_b(
    call: Call,
    items: Sequence[T],
    render: Callable[[T], dict[str, Any]],
    ident: Callable[[T], str],
    *,
    default: int = 100,
    minimum: int = 0,
    maximum: int | None = 1000,
) -> dict[str, Any]:
    page, more = _page(call, items, ident, default, minimum, maximum)
    return {
        "object": "list",
        "data": [render(item) for item in page],
        "has_more": more and bool(page),
        "next": ident(page[-1]) if more and page else None,
    }


def style_a_page(call: Call, items: list[dict[str, Any]], limit: int, what: str) -> dict[str, Any]:
    """A style-A list page of `items` (each with an `id`), cut by the `after` / `before` cursors.

    `after` gives the `limit` items following the cursor, `before` the `limit` items right before it; an id
    that is not in the list is a 400.
    """
    ids = [item["id"] for item in items]
    start, end = 0, len(items)
    for name in ("after", "before"):
        cursor = call.query.get(name)
        if cursor is None:
            continue
        if cursor not in ids:
            raise ApiFailure.bad_request(
                f"Invalid '{name}': no {what} with id '{cursor}'.", param=name, code="invalid_value"
            )
        if name == "after":
            start = ids.index(cursor) + 1
        else:
            end = ids.index(cursor)
    window = items[start:end]
    backwards = "before" in call.query and "after" not in call.query
    page = (window[-limit:] if limit else []) if backwards else window[:limit]
    return envelope_a(page, len(window) > len(page))
