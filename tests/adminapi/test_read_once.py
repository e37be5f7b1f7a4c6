"""Each thing read once per observation: kinds declared together that read one listing share its request."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.read_once import ReadOnce
from datacontrols.emulator import Emulator
from datacontrols.engine import observe
from testsupport.desired_files import write_desired_state

KEY = "sk-admin-read-once-0123456789abcdef"
SEED: dict[str, Any] = {
    "users": [
        {"id": "user-alice", "email": "alice@example.com", "name": "Alice", "role": "owner"},
        {"id": "user-bob", "email": "bob@example.com", "name": "Bob", "role": "reader"},
    ],
    "groups": [{"id": "group_sec", "name": "security", "users": ["alice@example.com"]}],
    "projects": [{"id": "proj_readonce00000000000001", "name": "Support"}],
}
# Users, groups, roles and assignments of the organization, and project members: several kinds each read
# the organization's users and the role list.
ORGANIZATION = """\
unmanaged_projects: ignore
organization:
  users: {roles: {alice@example.com: owner, bob@example.com: reader}}
  groups: {definitions: {security: {members: [alice@example.com]}}}
  roles: {custom: {auditor: {permissions: [api.organization.read]}}}
  role_assignments: {users: {bob@example.com: [auditor]}, groups: {security: [auditor]}}
"""
SUPPORT = "name: Support\nmembers: {users: {bob@example.com: member}, groups: {security: member}}\n"


async def test_an_observation_sends_each_get_once(tmp_path: Path) -> None:
    emulator = Emulator(admin_key=KEY, seed=SEED, rng_seed=2)
    desired = write_desired_state(tmp_path, ORGANIZATION, {"support": SUPPORT})
    async with AdminApi.connect(admin_key=KEY, http_transport=emulator.http_transport()) as api:
        await observe(api, desired)
        shared = api.transport.read_once.shared
    sent = Counter((e.path, tuple(sorted(e.query.items()))) for e in emulator.requests)
    assert [request for request, times in sent.items() if times > 1] == []
    assert shared > 0, "the declared kinds do read the same listings: they were shared, not avoided"
    assert ("/v1/organization/users", (("limit", "100"),)) in sent


async def test_outside_an_observation_every_get_is_sent() -> None:
    once = ReadOnce()
    calls: list[int] = []

    async def fetch() -> dict[str, int]:
        calls.append(1)
        return {"n": len(calls)}

    assert await once.get("/x", None, fetch) == {"n": 1}
    assert await once.get("/x", None, fetch) == {"n": 2}, "apply's re-reads must see writes made since"
    with once.open():
        with once.open():  # nested: the outer block's answers
            first, second = await asyncio.gather(once.get("/x", {"a": 1}, fetch), once.get("/x", {"a": 1}, fetch))
        third = await once.get("/x", {"a": 1}, fetch)
        other = await once.get("/x", {"a": 2}, fetch)
    assert first == second == third == {"n": 3} and other == {"n": 4}
    assert once.shared == 2 and len(calls) == 4
    first["n"] = 99
    assert await once.get("/x", None, fetch) == {"n": 5}, "closed again: sent"


async def test_a_failure_is_the_same_answer_for_every_kind_that_asks() -> None:
    once = ReadOnce()
    calls: list[int] = []

    async def fetch() -> None:
        calls.append(1)
        raise RuntimeError("403")

    with once.open():
        for _ in range(2):
            with pytest.raises(RuntimeError, match="403"):
                await once.get("/x", None, fetch)
    assert len(calls) == 1
