"""Each thing read once per observation: identical GETs made while one is open share one request.

Several kinds read the same listing when the files declare them together: the organization's users for
project members, organization roles and role assignments; the custom role list for roles and their
assignments. Each kind reads on its own (a kind module holds its reads), so the sharing is done here: while
`Transport.reading_once()` is open (the engine opens it around `observe`), a GET of a path and query
already asked for is answered by the same request, even one still in flight. Outside it (apply, its
re-checks, the one-writer lists, the guards' re-reads) every GET goes to the server: those must see
writes made since.

A failure is shared as well: within one observation a listing answers the same to every kind that asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

__all__ = ["ReadOnce"]

Key = tuple[str, tuple[tuple[str, str], ...]]


class ReadOnce:
    def __init__(self) -> None:
        self._answers: dict[Key, asyncio.Future[Any]] | None = None
        self._depth = 0
        self.shared = 0  # GETs answered by another's request (tests and the benchmarks count them)

    @contextlib.contextmanager
    def open(self) -> Iterator[None]:
        """Share identical GETs until the block ends; nested blocks share the outer one's answers."""
        if self._depth == 0:
            self._answers = {}
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._answers = None

    async def get(self, path: str, params: Mapping[str, Any] | None, fetch: Callable[[], Awaitable[Any]]) -> Any:
        if self._answers is None:
            return await fetch()
        key: Key = (path, tuple(sorted((name, repr(value)) for name, value in (params or {}).items())))
        answer = self._answers.get(key)
        if answer is None:
            answer = asyncio.ensure_future(fetch())
            self._answers[key] = answer
        else:
            self.shared += 1
        # A copy: families parse the body into models, but none may change what another kind is handed.
        return copy.deepcopy(await answer)
