"""The contract suite's machinery: the official spec, openapi-core adapters for httpx, and `ValidatingTransport`.

    spec = require_spec()                                   # skips the importing module when the spec is absent
    checked = ValidatingTransport(emulator.http_transport(), spec)
    api = AdminApi.connect(admin_key=KEY, base_url=BASE_URL, http_transport=checked)
    ...                                                     # every request and response is checked as it passes
    assert checked.violations == []

What is checked, for every exchange:
- the request (client -> spec): it names a documented operation; path, query and body validate with
  openapi-core, with undocumented body fields forbidden (the spec's request schemas do not say
  `additionalProperties: false`, but a field the API does not document is a client bug: at best ignored, at
  worst a 400); no query parameter the operation does not declare; no body where the operation takes none.
- the response (emulator -> spec): a documented status validates in full with openapi-core (schema,
  content type), again with undocumented fields forbidden, so the emulator cannot teach the client to rely on a
  field the real API does not promise; an undocumented status must be an error (>= 400) in the spec's
  `ErrorResponse` envelope, checked with jsonschema (Draft 2020-12) against `components.schemas.ErrorResponse`.

Finding the spec and the openapi-core adapters are shared with the other test folders: `testsupport.spec`.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs installed
from openapi_core import Config, OpenAPI
from openapi_core.exceptions import OpenAPIError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from datacontrols.redaction import redact
from testsupport.spec import HttpxOpenAPIRequest, HttpxOpenAPIResponse, require_spec_path, spec_document

__all__ = [
    "ADMIN_KEY",
    "BASE_URL",
    "ISSUE2_OPERATIONS",
    "Exchange",
    "HttpxOpenAPIRequest",
    "HttpxOpenAPIResponse",
    "Operation",
    "Spec",
    "ValidatingTransport",
    "Violation",
    "describe",
    "load_spec",
    "require_spec",
]

ADMIN_KEY = "sk-admin-contract-tests-0123456789"
BASE_URL = "https://api.openai.com/v1"  # never contacted: the transports below end in the in-process emulator
_METHODS = ("get", "post", "put", "patch", "delete")
_SPEC_URN = "urn:openai-admin-spec"

# The operations of issue 2 (retention, projects, model and hosted tool permissions), by the spec's operationId.
ISSUE2_OPERATIONS = frozenset(
    {
        "retrieve-organization-data-retention",
        "update-organization-data-retention",
        "list-projects",
        "create-project",
        "retrieve-project",
        "modify-project",
        "archive-project",
        "retrieve-project-data-retention",
        "update-project-data-retention",
        "retrieve-project-model-permissions",
        "update-project-model-permissions",
        "delete-project-model-permissions",
        "retrieve-project-hosted-tool-permissions",
        "update-project-hosted-tool-permissions",
    }
)


# --- the spec ----------------------------------------------------------------------------------------------


def require_spec() -> Spec:
    """The loaded spec; when there is none, skip the calling test module and say where it was looked for."""
    return load_spec(require_spec_path(module_level=True))


@functools.cache
def load_spec(path: Path) -> Spec:
    """One parsed spec per file per test session: building the validators costs about a second."""
    return Spec(spec_document(path), source=path)


@dataclass(frozen=True)
class Operation:
    """One documented operation, as far as the contract checks need it."""

    method: str  # upper case
    template: str  # as in the spec, without the /v1 server prefix
    operation_id: str
    statuses: frozenset[int]
    query: frozenset[str]
    takes_body: bool

    def __str__(self) -> str:
        return f"{self.method} {self.template} ({self.operation_id})"

    def matches(self, method: str, api_path: str) -> bool:
        return method.upper() == self.method and _template_pattern(self.template).fullmatch(api_path) is not None

    @property
    def literal_segments(self) -> int:
        return sum(1 for s in self.template.split("/") if s and not s.startswith("{"))


@functools.cache
def _template_pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[A-Za-z0-9_]+\\\}", "[^/]+", re.escape(template)))


class Spec:
    """The official Admin API spec with the validators the contract checks use."""

    def __init__(self, document: dict[str, Any], *, source: Path | None = None) -> None:
        self.document = document
        self.source = source
        self.server_prefix = _server_prefix(document)
        # The spec document itself is validated once, in test_contract_spec.py; skip it here (about a second).
        strict = Config(spec_validator_cls=None, additional_properties_default_policy="forbid")
        self.openapi = OpenAPI.from_dict(document, config=strict)
        self._registry: Registry[Any] = Registry().with_resource(
            _SPEC_URN, Resource.from_contents(document, default_specification=DRAFT202012)
        )
        self.error_envelope = self.validator("ErrorResponse")
        self.operations = _operations(document)

    def operation(self, method: str, path: str) -> Operation | None:
        """The documented operation a request path (with the /v1 prefix) and method land on, if any.

        A literal segment beats a template (`/certificates/activate` over `/certificates/{certificate_id}`)."""
        if not path.startswith(self.server_prefix + "/"):
            return None
        api_path = path.removeprefix(self.server_prefix)
        found = [op for op in self.operations if op.matches(method, api_path)]
        return max(found, key=lambda op: op.literal_segments, default=None)

    def operation_by_id(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)

    def validator(self, name: str) -> Draft202012Validator:
        """A JSON Schema (2020-12) validator for one of `components.schemas`, its `$ref`s resolved in the spec."""
        return Draft202012Validator({"$ref": f"{_SPEC_URN}#/components/schemas/{name}"}, registry=self._registry)

    def schema(self, name: str) -> dict[str, Any]:
        schema: dict[str, Any] = self.document["components"]["schemas"][name]
        return schema

    def request_problems(self, request: httpx.Request, operation: Operation) -> list[str]:
        """What is wrong with a request to a documented operation (empty when nothing is)."""
        problems = []
        undeclared = sorted(set(request.url.params.keys()) - operation.query)
        if undeclared:
            problems.append(f"query parameters the operation does not declare: {undeclared}")
        if request.content and not operation.takes_body:
            problems.append(redact(f"a body was sent to an operation that takes none: {request.content[:200]!r}"))
        try:
            self.openapi.validate_request(HttpxOpenAPIRequest(request))
        except OpenAPIError as exc:
            problems.append(describe(exc))
        return problems

    def response_problems(self, request: httpx.Request, response: httpx.Response, operation: Operation) -> list[str]:
        """What is wrong with a (read) response from a documented operation (empty when nothing is)."""
        if response.status_code in operation.statuses:
            try:
                self.openapi.validate_response(HttpxOpenAPIRequest(request), HttpxOpenAPIResponse(response))
            except OpenAPIError as exc:
                return [describe(exc)]
            return []
        if response.status_code < 400:
            return [f"undocumented non-error status {response.status_code}; documented: {sorted(operation.statuses)}"]
        return self.envelope_problems(response)

    def envelope_problems(self, response: httpx.Response) -> list[str]:
        """An undocumented error status must still carry the spec's ErrorResponse envelope, as JSON."""
        content_type = response.headers.get("content-type", "")
        if not content_type.startswith("application/json"):
            return [f"error response is {content_type or 'without a content type'}, not application/json"]
        try:
            body = response.json()
        except ValueError as exc:
            return [f"error response is not JSON: {exc}"]
        errors = sorted(self.error_envelope.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path])
        if not errors:
            return []
        found = "; ".join(f"{e.message} at /{'/'.join(str(p) for p in e.absolute_path)}" for e in errors)
        return [redact(f"not the spec's ErrorResponse: {found}")]


def _server_prefix(document: dict[str, Any]) -> str:
    """The path part of the (only) server URL: `/v1` for `https://api.openai.com/v1`."""
    servers = document.get("servers") or [{"url": "/"}]
    return httpx.URL(servers[0]["url"]).path.rstrip("/")


def _operations(document: dict[str, Any]) -> list[Operation]:
    operations = []
    for template, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method in _METHODS:
            if method not in item:
                continue
            op = item[method]
            parameters = [_resolve(document, p) for p in [*shared, *op.get("parameters", [])]]
            operations.append(
                Operation(
                    method=method.upper(),
                    template=template,
                    operation_id=op.get("operationId", f"{method} {template}"),
                    statuses=frozenset(int(code) for code in op["responses"] if code.isdigit()),
                    query=frozenset(p["name"] for p in parameters if p.get("in") == "query"),
                    takes_body="requestBody" in op,
                )
            )
    return operations


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def describe(exc: OpenAPIError) -> str:
    """openapi-core's error in one line, secrets redacted.

    Schema errors are given one by one with their JSON path (`'MARS' is not one of [...] at /residency`);
    other errors as their chain of causes (`Query parameter error: limit; Failed to cast value ...`)."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None:
        chain.append(cause)
        cause = cause.__cause__
    schema_errors = [error for c in chain for error in getattr(c, "schema_errors", None) or ()]
    if schema_errors:
        parts = [f"{type(exc).__name__}:"]
        for error in schema_errors:
            path = "/".join(str(p) for p in getattr(error, "absolute_path", ()))
            parts.append(f"{getattr(error, 'message', error)} at /{path};")
        return redact(" ".join(parts).rstrip(";"))
    messages: list[str] = []
    for c in chain:
        text = str(c) if str(c).startswith(type(c).__name__) else f"{type(c).__name__}: {c}"
        if not any(str(c) in earlier for earlier in messages):
            messages.append(text)
    return redact("; ".join(messages))


# --- the validating transport -------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """A request or response that broke the contract."""

    side: str  # "request" or "response"
    method: str
    path: str
    operation: Operation | None
    status: int | None
    message: str

    def __str__(self) -> str:
        where = str(self.operation) if self.operation is not None else f"{self.method} {self.path} (undocumented)"
        status = f" -> {self.status}" if self.status is not None else ""
        return f"{self.side} {where}{status}: {self.message}"


@dataclass(frozen=True)
class Exchange:
    """One validated request/response pair."""

    operation: Operation | None
    status: int | None
    ok: bool


@dataclass
class _Record:
    exchanges: list[Exchange] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)


class ValidatingTransport(httpx.AsyncBaseTransport):
    """An httpx transport that checks every request it is given and every response it returns against the spec.

    A violation is recorded in `violations` and, unless `raise_on_violation=False`, raised as an
    AssertionError right away (naming the operation, the status and the validator's message), so the test
    fails at the exchange that broke the contract. A request that breaks it is not sent when raising.
    Tests still assert `violations == []` at the end in case the code under test swallowed the error.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, spec: Spec, *, raise_on_violation: bool = True) -> None:
        self._inner = inner
        self.spec = spec
        self.raise_on_violation = raise_on_violation
        self._record = _Record()

    @property
    def exchanges(self) -> list[Exchange]:
        return self._record.exchanges

    @property
    def violations(self) -> list[Violation]:
        return self._record.violations

    def share_records_with(self, other: ValidatingTransport) -> None:
        """Record into `other`'s lists, so a reader and a writer client can be checked as one run."""
        self._record = other._record

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        operation = self.spec.operation(request.method, request.url.path)
        if operation is None:
            self._fail("request", request, None, None, ["no documented operation has this method and path"])
        else:
            self._fail("request", request, operation, None, self.spec.request_problems(request, operation))

        response = await self._inner.handle_async_request(request)
        await response.aread()
        problems = (
            self.spec.response_problems(request, response, operation)
            if operation is not None
            else self.spec.envelope_problems(response)
        )
        self._fail("response", request, operation, response.status_code, problems)
        self.exchanges.append(Exchange(operation, response.status_code, ok=not problems))
        return response

    def _fail(
        self, side: str, request: httpx.Request, operation: Operation | None, status: int | None, problems: list[str]
    ) -> None:
        """Record (and raise, unless told not to) one violation holding every problem found on this side."""
        if not problems:
            return
        violation = Violation(side, request.method, request.url.path, operation, status, "; ".join(problems))
        self.violations.append(violation)
        if self.raise_on_violation:
            raise AssertionError(f"contract violation: {violation}")

    async def aclose(self) -> None:
        await self._inner.aclose()

    # --- what was exercised ----------------------------------------------------------------------------

    def operations_exercised(self) -> set[str]:
        """operationIds that were called and validated at least once."""
        return {e.operation.operation_id for e in self.exchanges if e.operation is not None}

    def statuses_by_operation(self) -> dict[str, Counter[int]]:
        seen: dict[str, Counter[int]] = {}
        for e in self.exchanges:
            if e.operation is not None and e.status is not None:
                seen.setdefault(e.operation.operation_id, Counter())[e.status] += 1
        return seen

    def coverage_report(self) -> str:
        """A table of the operations exercised, with their statuses, and how many the spec documents."""
        lines = [f"{len(self.exchanges)} exchanges validated, {len(self.violations)} violations"]
        by_op = self.statuses_by_operation()
        for op in sorted((self.spec.operation_by_id(o) for o in by_op), key=lambda op: (op.template, op.method)):
            statuses = ", ".join(f"{status}x{count}" for status, count in sorted(by_op[op.operation_id].items()))
            lines.append(f"  {op.method:<6} {op.template:<66} {op.operation_id:<48} {statuses}")
        lines.append(f"{len(by_op)} of {len(self.spec.operations)} documented operations exercised")
        return "\n".join(lines)
