"""A stateful, in-memory fake of the OpenAI Admin API, as an ASGI (Starlette) app.

    emulator = Emulator(admin_key="sk-admin-test", seed="org.yaml", rng_seed=0)
    api = AdminApi.connect(admin_key="sk-admin-test", http_transport=emulator.http_transport())
    ...
    assert emulator.requests.methods() == {"GET"}          # a dry run sent only reads

The same app runs in-process (`emulator.http_transport()`, no sockets) or served by uvicorn
(`datacontrols.emulator.server.serve`, `python -m datacontrols.emulator`). Responses follow the official
spec's schemas; it shares only the API's pydantic models with the client, never the client's logic.

Served: every operation of the pinned spec (tests/contract checks it), and external storage from the SDK's
newer types. One module per family in `routes/`.

Where the spec is silent, the emulator assumes (and a reconciler must not depend on more than this):
- A fresh organization (no seed) has one project, "Default project", marked default: modifying or
  archiving it answers 400. Its data retention is `modified_abuse_monitoring` (the spec's example value;
  the organization enum has no "standard" value), and every retention type is approved.
- A new project starts `active`, with residency `GLOBAL` unless one was given, data retention
  `organization_default`, no model policy (GET model_permissions answers 404) and all five hosted tools
  enabled.
- Writing a retention type the organization is not approved for answers 403 `not_approved` (the org and
  project endpoints alike, except `organization_default` and `none`); so does creating a project in a
  residency outside `approved_residencies`, when that list is set.
- Archived projects stay readable; every write to them (modify, retention, permissions) answers 400.
  Archiving is one-way and archiving twice answers the project unchanged.
- Projects list in creation order; an unknown `after` cursor or a `limit` outside 1..100 answers 400.
- In a modify, `name: null` leaves the name, `external_key_id: null` clears it; `residency` answers 400.
- Unknown body fields, wrong types and malformed JSON answer 400; unknown paths and methods 404
  ("Invalid URL"); a missing or wrong bearer key 401. See `errors.py` for the whole catalogue.
- Every project has one rate-limit row per model of the organization's `model_rate_limits` (a fixed list
  by default, `state.default_model_rate_limits()`); rows are updated partially, never created or deleted,
  and may not be raised above the organization's limit (400). Hard spend limits answer 404 while unset;
  spend alerts are replaced whole on update. See `routes/rate_limits.py`, `routes/spend.py`.
- As strict as the spec and no stricter: a rule it states (an enum, a `minimum`, a `limit` range in its
  schema or its description, `order` where a listing declares it) is enforced; one it does not state is not
  (no `limit` maximum on rate limits or admin keys, a spend alert may have no recipients, `after` and
  `before` may be sent together). An integer field takes `83.0`, as JSON Schema's `integer` does. Every
  error, a 404 for any odd path included, is the API's JSON envelope.
- Every response carries `x-request-id: req_<32 hex>`; timestamps are Unix seconds from the clock given.
- Accepted project writes append `project.created/updated/archived` events to `emulator.events`, served by
  `GET /organization/audit_logs` (retention and permissions have no audit event type in the spec). Writes
  made with the admin key are by an `api_key` actor; a request carrying `x-emulator-actor: <email>` is
  recorded as that person's dashboard `session` instead (a test hook: the real API has no such header).
"""

from __future__ import annotations

from datacontrols.emulator.app import API_PREFIX, Emulator, create_app
from datacontrols.emulator.asgi import ConnectionDropped, EmulatorTransport, transport
from datacontrols.emulator.faults import FaultConfig
from datacontrols.emulator.ratelimit import RateLimitConfig
from datacontrols.emulator.requestlog import RequestLog, RequestLogEntry
from datacontrols.emulator.seed import SeedDocument, SeedError, dump_state, load_seed, write_document
from datacontrols.emulator.state import EmulatorState, Event

__all__ = [
    "API_PREFIX",
    "ConnectionDropped",
    "Emulator",
    "EmulatorState",
    "EmulatorTransport",
    "Event",
    "FaultConfig",
    "RateLimitConfig",
    "RequestLog",
    "RequestLogEntry",
    "SeedDocument",
    "SeedError",
    "create_app",
    "dump_state",
    "load_seed",
    "transport",
    "write_document",
]
