"""What every endpoint family shares: the response model base, answer parsing and the family base class."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from datacontrols.adminapi.transport import Route, Transport
from datacontrols.errors import ApiError, NotFound
from datacontrols.redaction import redact_value

__all__ = ["ApiModel", "Family", "parse"]

M = TypeVar("M", bound=BaseModel)


class ApiModel(BaseModel):
    """A response object. Lenient on purpose: fields the API adds later must not break a run.

    Its repr is redacted: with `extra="allow"` an answer can carry fields we never declared (a created
    key's `value`, an echoed header), and a repr ends up in logs and tracebacks. `model_dump()` is not
    redacted: code that must hand a secret to its sink reads it from there, on purpose.
    """

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            # Through a one-key mapping, so a secret-looking field name (`value`, `api_key`) redacts whole.
            yield name, redact_value({name: value})[name] if name is not None else redact_value(value)


def parse(model: type[M], data: Any, where: Route | None = None) -> M:
    """Validate an answer; a shape we cannot read becomes an ApiError naming the fields, not their values.

    pydantic's own message quotes the input, which may hold anything the server sent back.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)[:5]
        )
        source = f" from {where.template}" if where is not None else ""
        raise ApiError(f"unexpected answer{source}, not a {model.__name__} ({problems})") from None


class Family:
    """An endpoint family (projects, data retention, ...): a thin typed layer over the transport."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def _get_or_none(self, model: type[M], where: Route) -> M | None:
        """GET one object; None when the API answers 404 (there is none, or no longer)."""
        try:
            data = await self._t.get(where)
        except NotFound:
            return None
        return parse(model, data, where)

    async def _delete(self, where: Route, find: Callable[[], Awaitable[object | None]]) -> bool:
        """DELETE; False when the API answers 404: already gone counts as done.

        When the outcome is unknown, `find()` re-reads the object: None there means the delete took effect."""

        async def recheck() -> bool | None:
            return True if await find() is None else None

        try:
            await self._t.write("DELETE", where, recheck=recheck)
        except NotFound:
            return False
        return True
