"""`keys: {allowed_scopes, fix: scopes}` against the emulator: a key's scopes come from the audit log (the key
listing never answers them); keys with all permissions or scopes outside the list are high findings, narrowed
by `fix: scopes` to the allowed ones they hold; a key the log has no record of is noted, never written; the
scopes are read in one audit-log listing, only when the rule is declared; a refused log read is a note."""

from __future__ import annotations

import httpx
from members_support import ADMIN_KEY, DAY, NOW, actions, desired, emulator, organization, plan, reconcile, registry

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.audit_logs import AuditLog, scopes_set
from datacontrols.desired.members import KeyHygiene
from datacontrols.emulator import Emulator
from datacontrols.engine import diff, observe
from datacontrols.explain_access import explain_access
from datacontrols.plan import Change, Plan

BOB = {"type": "user", "id": "bob@example.com"}
WRITE, READ, FILES = "api.responses.write", "api.model.read", "api.files.write"
KEYS = [
    {"id": "key_allperms1", "owner": BOB, "created_at": NOW - DAY, "scopes": []},
    {"id": "key_toowide01", "owner": BOB, "created_at": NOW - DAY, "scopes": [WRITE, FILES]},
    {"id": "key_narrow001", "owner": BOB, "created_at": NOW - DAY, "scopes": [WRITE]},
    {"id": "key_onlybad01", "owner": BOB, "created_at": NOW - DAY, "scopes": [FILES]},
    {"id": "key_unknown01", "owner": BOB, "created_at": NOW - 400 * DAY},  # older than what the log holds
]
RULE = {"allowed_scopes": [WRITE, READ]}


def seeded() -> Emulator:
    return emulator(organization(users=[{"user": "bob@example.com", "role": "member"}], api_keys=KEYS))


def scopes(emu: Emulator) -> dict[str, tuple[str, ...] | None]:
    return {k.id: k.scopes for p in emu.state.projects.values() for k in p.api_keys.values()}


def by_key(found: Plan) -> dict[str, Change]:
    """The key changes by key id (a subject is `redacted value (id)`)."""
    return {(c.subject or "").split("(")[1].rstrip(")"): c for c in found if c.kind == "project_api_key"}


async def test_fix_scopes_narrows_keys_to_the_allowed_scopes_they_hold_then_converges() -> None:
    emu = seeded()
    run = await reconcile(emu, desired(keys={**RULE, "fix": "scopes"}))
    changes = by_key(run.before)
    assert {key: c.action for key, c in changes.items()} == {
        "key_allperms1": "update",
        "key_toowide01": "update",
        "key_onlybad01": "report",
        "key_unknown01": "report",
    }
    everything = changes["key_allperms1"]
    assert (everything.fields["scopes"].before, everything.fields["scopes"].after) == (
        "all permissions",
        f"[{WRITE}, {READ}]",
    )
    assert everything.severity == "high" and "has all permissions" in everything.reason
    wide = changes["key_toowide01"]
    assert wide.fields["scopes"].after == f"[{WRITE}]"
    assert f"may use [{FILES}], outside allowed_scopes" in wide.reason
    assert wide.disrupts and f"for anything outside [{WRITE}]" in wide.disrupts
    assert "none of them is allowed" in changes["key_onlybad01"].reason
    unknown = changes["key_unknown01"]
    assert unknown.severity == "normal" and "its scopes are unknown" in unknown.reason
    assert run.result.ok
    assert scopes(emu) == {
        "key_allperms1": (WRITE, READ),
        "key_toowide01": (WRITE,),
        "key_narrow001": (WRITE,),
        "key_onlybad01": (FILES,),
        "key_unknown01": None,  # never written: the fix could widen a key narrower than the rule
    }
    # The audit log now says what the update set, so the next plan has nothing to write.
    assert [a for a in actions(run.after, reports=True) if a[0] != "report"] == []
    assert sorted(by_key(run.after)) == ["key_onlybad01", "key_unknown01"]


async def test_the_default_reports_and_reads_the_log_once() -> None:
    emu = seeded()
    found = await plan(emu, desired(keys=RULE))
    assert {key: c.action for key, c in by_key(found).items()} == dict.fromkeys(
        ["key_allperms1", "key_toowide01", "key_onlybad01", "key_unknown01"], "report"
    )
    assert emu.requests.writes() == []
    assert len(emu.requests.for_template("/organization/audit_logs", "GET")) == 1


async def test_without_the_rule_the_log_is_not_read() -> None:
    emu = seeded()
    await plan(emu, desired(keys={"max_age_days": 30}))
    assert emu.requests.for_template("/organization/audit_logs") == []


async def test_a_key_narrowed_by_hand_later_is_judged_by_its_newest_setting() -> None:
    emu = seeded()
    async with AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emu.http_transport()) as api:
        (project_id,) = emu.state.projects
        await api.project_api_keys.update(project_id, "key_allperms1", scopes=[READ])
    assert "key_allperms1" not in by_key(await plan(emu, desired(keys=RULE)))


class _RefusedLog(httpx.AsyncBaseTransport):
    """The emulator, except that the audit log answers 403 (audit logging off, or a key that may not read it)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/organization/audit_logs"):
            body = {"error": {"message": "Audit logging is not enabled for this organization", "type": "invalid"}}
            return httpx.Response(403, json=body, request=request)
        return await self._inner.handle_async_request(request)


async def test_a_refused_log_read_is_a_note_on_each_key_and_nothing_is_written() -> None:
    emu = seeded()
    state = desired(keys={**RULE, "fix": "scopes"})
    transport = _RefusedLog(emu.http_transport())
    async with AdminApi.connect(admin_key=ADMIN_KEY, http_transport=transport) as api:
        found = diff(state, await observe(api, state, registry()), registry())
    changes = by_key(found)
    assert len(changes) == len(KEYS) and all(c.action == "report" for c in changes.values())
    reason = changes["key_allperms1"].reason
    assert "its scopes are not checked: the audit log refused the read (403" in reason
    assert ADMIN_KEY not in reason


def test_the_scopes_an_event_set() -> None:
    def event(kind: str, details: object) -> AuditLog:
        return AuditLog.model_validate({"id": "a", "type": kind, "effective_at": 1, kind: details})

    assert scopes_set(event("api_key.created", {"id": "k", "data": {"scopes": ["b", "a"]}})) == ("a", "b")
    assert scopes_set(event("api_key.created", {"id": "k"})) == ()  # made without scopes: all permissions
    assert scopes_set(event("api_key.updated", {"id": "k", "changes_requested": {"scopes": []}})) == ()
    assert scopes_set(event("api_key.updated", {"id": "k", "changes_requested": {"expires_in_seconds": 5}})) is None
    assert scopes_set(event("api_key.created", {"id": "k", "data": "odd"})) is None
    assert scopes_set(event("project.updated", {"id": "k"})) is None


async def test_explain_shows_each_key_scope_finding_and_what_the_fix_does() -> None:
    emu = seeded()
    (project_id,) = emu.state.projects
    rules = KeyHygiene.model_validate({**RULE, "fix": "scopes"})
    async with AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emu.http_transport()) as api:
        explained = await explain_access(api, project_id, rules, clock=lambda: NOW)
    lines = {text.split(":")[0]: text for label, text in explained.lines if label == "key finding"}
    assert f"fix: scopes narrows it to [{WRITE}, {READ}]" in lines["sk-...rms1 (key_allperms1)"]
    assert "none of them is allowed" in lines["sk-...ad01 (key_onlybad01)"]
    assert "its scopes are unknown" in lines["sk-...wn01 (key_unknown01)"]
    assert "key_narrow001" not in " ".join(lines)
    [summary] = [text for label, text in explained.lines if label == "key scopes"]
    assert summary == "1 with all permissions, 3 restricted, 1 unknown (from the audit log)"
    assert len(emu.requests.for_template("/organization/audit_logs", "GET")) == 1
