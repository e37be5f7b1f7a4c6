"""Issue-level round trip: an organization set up by hand through the official endpoints exports to files
whose plan is empty, and after hand-made drift those files alone bring every control back.

A pending invite is part of the setup but not of the files: it is a step in flight, not desired state (the
files say who belongs where; `invite_missing_users` sends the invites), so the plan leaves it alone.

The setup and the drift go through raw HTTP requests (as a person with curl or the SDK would make them), not
through the tool's client, so the test does not lean on the code it checks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.demo import demo_seed_path
from datacontrols.desired import load_desired_state
from datacontrols.emulator import Emulator
from datacontrols.engine import apply, diff, observe
from datacontrols.export import export_organization
from datacontrols.plan import Plan
from datacontrols.safety import SafetyCheck
from testsupport.certificates import PEM

KEY = "sk-admin-restore-everything-0123456789"
BASE = "https://api.openai.com/v1"
SUPPORT = "proj_DemoSupportBot00000000001"
BOB = "user-DemoBob00000000000001"
CAROL = "user-DemoCarol000000000001"


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(admin_key=KEY, seed=demo_seed_path(), rng_seed=3)


@pytest.fixture
async def http(emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=BASE, transport=emulator.http_transport(), headers={"Authorization": f"Bearer {KEY}"}
    ) as client:
        yield client


async def call(http: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    answer = await http.request(method, path, json=body)
    assert answer.status_code == 200, (method, path, answer.text)
    return answer.json()


async def by_hand(http: httpx.AsyncClient) -> dict[str, str]:
    """The organization as a person sets it up; the ids the drift needs."""
    org_cert = (await call(http, "POST", "/organization/certificates", {"name": "corp-ca", "certificate": PEM}))["id"]
    await call(http, "POST", "/organization/certificates/activate", {"certificate_ids": [org_cert]})
    project_cert = (await call(http, "POST", "/organization/certificates", {"name": "partner", "certificate": PEM}))[
        "id"
    ]
    await call(
        http, "POST", f"/organization/projects/{SUPPORT}/certificates/activate", {"certificate_ids": [project_cert]}
    )
    group = (await call(http, "POST", "/organization/groups", {"name": "security"}))["id"]
    await call(http, "POST", f"/organization/groups/{group}/users", {"user_id": CAROL})
    org_role = (
        await call(
            http,
            "POST",
            "/organization/roles",
            {"role_name": "data-auditor", "permissions": ["api.organization.read"], "description": "Reads"},
        )
    )["id"]
    await call(http, "POST", f"/organization/groups/{group}/roles", {"role_id": org_role})
    await call(
        http,
        "POST",
        f"/projects/{SUPPORT}/roles",
        {"role_name": "key-rotator", "permissions": ["api.organization.projects.api_keys.write"]},
    )
    limits = (await call(http, "GET", f"/organization/projects/{SUPPORT}/rate_limits?limit=100"))["data"]
    limit = next(r for r in limits if r["model"] == "gpt-4.1-mini")
    await call(
        http, "POST", f"/organization/projects/{SUPPORT}/rate_limits/{limit['id']}", {"max_requests_per_1_minute": 400}
    )
    alert = {
        "threshold_amount": 250,
        "currency": "USD",
        "interval": "month",
        "notification_channel": {"type": "email", "recipients": ["alice@example.com"]},
    }
    await call(http, "POST", "/organization/spend_alerts", alert)
    await call(http, "POST", f"/organization/projects/{SUPPORT}/spend_alerts", {**alert, "threshold_amount": 50})
    await call(http, "POST", "/organization/invites", {"email": "dana@example.com", "role": "reader"})
    return {
        "org_cert": org_cert,
        "project_cert": project_cert,
        "group": group,
        "org_role": org_role,
        "limit": limit["id"],
    }


async def drift(http: httpx.AsyncClient, ids: dict[str, str]) -> None:
    await call(http, "POST", "/organization/certificates/deactivate", {"certificate_ids": [ids["org_cert"]]})
    await call(http, "DELETE", f"/organization/groups/{ids['group']}/roles/{ids['org_role']}")
    await call(http, "DELETE", f"/organization/groups/{ids['group']}/users/{CAROL}")
    await call(
        http,
        "POST",
        f"/organization/projects/{SUPPORT}/rate_limits/{ids['limit']}",
        {"max_requests_per_1_minute": 9000},
    )


def changes(plan: Plan) -> list[tuple[str, str | None, str | None, str]]:
    return [(c.kind, c.project, c.subject, c.action) for c in plan if c.action != "report"]


async def test_exported_files_plan_empty_and_alone_restore_the_organization_after_drift(
    tmp_path: Path, emulator: Emulator, http: httpx.AsyncClient
) -> None:
    ids = await by_hand(http)
    out = tmp_path / "exported"
    async with AdminApi.connect(admin_key=KEY, base_url=BASE, http_transport=emulator.http_transport()) as api:
        exported = await export_organization(api, out, also=("project_rate_limit",))
        assert exported.desired is not None
        assert changes(diff(exported.desired, await observe(api, exported.desired))) == []
        organization = (out / "organization.yaml").read_text()
        support = (out / "projects" / "support-bot.yaml").read_text()
        for written in ("corp-ca:", "data-auditor", "security:", "- carol@example.com", "threshold_usd: 2.5"):
            assert written in organization, written
        for written in ("- partner", "key-rotator:", "max_requests_per_1_minute: 400", "threshold_usd: 0.5"):
            assert written in support, written
        assert (out / "certificates" / "corp-ca.pem").read_text().strip() == PEM.strip()

        await drift(http, ids)
        desired = load_desired_state(out)  # the files alone, read back as a pipeline would
        observed = await observe(api, desired)
        plan = diff(desired, observed)
        assert sorted(changes(plan)) == [  # one correction per hand-made drift, nothing else
            ("organization_certificates", None, "corp-ca", "update"),
            ("organization_group", None, "security: carol@example.com", "create"),
            ("organization_role_assignments", None, "group security: data-auditor", "create"),
            ("project_rate_limit", "Support Bot", "gpt-4.1-mini", "update"),
        ]
        result = await apply(api, plan, safety=SafetyCheck.of(desired, observed, allow_unsafe=plan.digest()))
        assert result.ok, result
        assert changes(diff(desired, await observe(api, desired))) == []

    state = emulator.state
    assert state.certificates[ids["org_cert"]].active
    assert CAROL in state.groups[ids["group"]].user_ids
    held = [(a.role_id, a.principal_type, a.principal_id, a.project_id) for a in state.role_assignments]
    assert (ids["org_role"], "group", ids["group"], None) in held
    assert state.projects[SUPPORT].rate_limits["gpt-4.1-mini"]["max_requests_per_1_minute"] == 400
