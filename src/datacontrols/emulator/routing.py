"""What a route module writes against: `ApiRoute` (method + spec path template + handler) and `Call`.

A handler is a plain synchronous function `(Call) -> JSON body`. It validates its input, changes the state and
returns the 200 body, or raises `ApiFailure`. Synchronous on purpose: a handler runs under the emulator's lock
and cannot interleave with another, so a test sees each write as atomic, like the real API's.
Templates are the spec's `paths` keys without the `/v1` server prefix, the same strings the client logs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ValidationError

from datacontrols.emulator.errors import ApiFailure
from datacontrols.emulator.state import EmulatorState, Event, IdFactory, ProjectRecord

__all__ = ["ApiRoute", "Call", "Handler", "RouteTable", "WholeNumber"]

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")
Handler = Callable[["Call"], dict[str, Any]]


def _whole_float_to_int(value: Any) -> Any:
    """`83.0` -> `83`: the spec's schemas are JSON Schema 2020-12, where `type: integer` is any number with a
    zero fractional part, so a body field documented as an integer accepts `83.0` (and still not `83.5`)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer body field of a strict request model, as the spec defines an integer (see above).
WholeNumber = Annotated[int, BeforeValidator(_whole_float_to_int)]


@dataclass(frozen=True)
class ApiRoute:
    method: str
    template: str
    handler: Handler

    @property
    def writes(self) -> bool:
        return self.method != "GET"


@dataclass
class Call:
    """One request as a handler sees it, with the state it may change."""

    state: EmulatorState
    ids: IdFactory
    now: int  # Unix seconds from the emulator clock
    method: str
    template: str
    params: dict[str, str]  # path parameters
    query: Mapping[str, str]
    raw_body: bytes = b""
    # Every query parameter in order, repeats kept (`event_types[]=a&event_types[]=b`); `query` keeps the last.
    raw_query: tuple[tuple[str, str], ...] = ()
    # Who sent the request, as the spec's AuditLogActor; None: the admin key's own api_key actor.
    actor: dict[str, Any] | None = None
    _json: Any = field(default=None, init=False, repr=False)

    # --- input -----------------------------------------------------------------------------------------

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; an empty body counts as `{}`."""
        if self._json is None:
            if not self.raw_body.strip():
                self._json = {}
            else:
                try:
                    self._json = json.loads(self.raw_body)
                except ValueError:
                    raise ApiFailure.invalid_json() from None
            if not isinstance(self._json, dict):
                raise ApiFailure.invalid_json()
        return dict(self._json)

    def body(self, model: type[M]) -> M:
        """The body validated against a strict request model; the first problem becomes a 400."""
        try:
            return model.model_validate(self.json())
        except ValidationError as exc:
            raise _bad_body(exc) from None

    def int_query(self, name: str, *, default: int, minimum: int, maximum: int | None) -> int:
        """An integer query parameter; `maximum=None` where the spec states no maximum (none is enforced)."""
        raw = self.query.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiFailure.bad_request(
                f"Invalid '{name}': expected an integer.", param=name, code="invalid_type"
            ) from None
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise ApiFailure.bad_request(f"Invalid '{name}': must be {bounds}.", param=name, code="invalid_value")
        return value

    def order_query(self, *, default: str) -> str:
        """The `order` parameter (`asc` or `desc`, by creation) of the listings whose spec declares it."""
        order = self.query.get("order", default)
        if order not in ("asc", "desc"):
            raise ApiFailure.bad_request(
                "Invalid 'order': must be 'asc' or 'desc'.", param="order", code="invalid_value"
            )
        return order

    def list_query(self, name: str) -> list[str]:
        """Every value of a repeatable parameter, in order."""
        return [value for key, value in self.raw_query if key == name]

    def bool_query(self, name: str, *, default: bool) -> bool:
        raw = self.query.get(name)
        if raw is None:
            return default
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise ApiFailure.bad_request(f"Invalid '{name}': expected a boolean.", param=name, code="invalid_type")

    # --- lookups shared by the families ---------------------------------------------------------------

    def lookup(self, records: Mapping[str, R], param: str, what: str, *, scope: str = "") -> R:
        """The record the path parameter `param` names, or the API's 404 `No <what> with id '<id>'<scope>.`"""
        record_id = self.params[param]
        record = records.get(record_id)
        if record is None:
            raise ApiFailure.not_found(f"No {what} with id '{record_id}'{scope}.", param=param)
        return record

    def project(self) -> ProjectRecord:
        project_id = self.params["project_id"]
        project = self.state.projects.get(project_id)
        if project is None:
            raise ApiFailure.not_found(f"No project found with id '{project_id}'.", param="project_id")
        return project

    def readable_project(self) -> ProjectRecord:
        """The project, refusing even reads of an archived one (the member families' lists answer 400)."""
        project = self.project()
        if project.archived:
            raise ApiFailure.bad_request(
                f"Project '{project.id}' is archived.", param="project_id", code="project_archived"
            )
        return project

    def writable_project(self) -> ProjectRecord:
        """The project, refusing writes to an archived one ("Archived projects cannot be used or updated")."""
        project = self.project()
        if project.archived:
            raise ApiFailure.bad_request(
                f"Project '{project.id}' is archived; archived projects cannot be updated.",
                param="project_id",
                code="project_archived",
            )
        return project

    # --- output ----------------------------------------------------------------------------------------

    def record_event(self, type: str, *, project_id: str | None, details: dict[str, Any]) -> Event:
        """Note an accepted write for the audit log, by the request's actor."""
        event = Event(
            id=self.ids.resource("audit_log-", 24),
            type=type,
            effective_at=self.now,
            project_id=project_id,
            details=details,
            actor=self.actor,
        )
        self.state.events.append(event)
        return event


class RouteTable:
    """Matches `(method, path)` to a route; `None` when no endpoint has that path and method."""

    def __init__(self, routes: list[ApiRoute]) -> None:
        self._routes = [(route, _compile(route.template)) for route in routes]
        seen = [(r.method, r.template) for r in routes]
        if len(seen) != len(set(seen)):
            raise ValueError("two emulator routes share a method and template")

    @property
    def routes(self) -> list[ApiRoute]:
        return [route for route, _ in self._routes]

    def match(self, method: str, path: str) -> tuple[ApiRoute, dict[str, str]] | None:
        for route, pattern in self._routes:
            if route.method != method:
                continue
            found = pattern.fullmatch(path)
            if found:
                return route, found.groupdict()
        return None


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z_]+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(regex)


def _bad_body(exc: ValidationError) -> ApiFailure:
    """One validation problem, worded like the API's; the offending value is never echoed.

    An unknown field is reported before anything else: sending `type` where `retention_type` belongs is the
    likelier mistake than leaving the field out.
    """
    errors = exc.errors(include_input=False)
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    param = ".".join(str(part) for part in error["loc"]) or None
    kind = error["type"]
    if kind == "extra_forbidden":
        return ApiFailure.bad_request(
            f"Unrecognized request argument supplied: {param}", param=param, code="unknown_parameter"
        )
    if kind == "missing":
        return ApiFailure.bad_request(
            f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
        )
    if kind in (
        "literal_error",
        "enum",
        "value_error",
        "string_too_short",
        "string_too_long",
        "too_short",
        "too_long",
        "greater_than_equal",
        "less_than_equal",
    ):
        return ApiFailure.bad_request(f"Invalid value for '{param}': {error['msg']}", param=param, code="invalid_value")
    return ApiFailure.bad_request(f"Invalid type for '{param}': {error['msg']}", param=param, code="invalid_type")
