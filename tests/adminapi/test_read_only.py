"""A read-only (dry-run) client cannot write: the refusal happens before anything is sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import respx
from adminapi_support import MakeApi

from datacontrols.adminapi import AdminApi
from datacontrols.errors import WriteRefused

WRITES: dict[str, Callable[[AdminApi], Awaitable[object]]] = {
    "org-retention": lambda api: api.retention.update_organization("zero_data_retention"),
    "project-retention": lambda api: api.retention.update_project("proj_abc", "none"),
    "project-create": lambda api: api.projects.create("Payments"),
    "project-modify": lambda api: api.projects.modify("proj_abc", name="X"),
    "project-archive": lambda api: api.projects.archive("proj_abc"),
    "models-update": lambda api: api.model_permissions.update("proj_abc", mode="allow_list", model_ids=["o3"]),
    "models-delete": lambda api: api.model_permissions.delete("proj_abc"),
    "tools-update": lambda api: api.hosted_tools.update("proj_abc", {"mcp": False}),
}


@pytest.fixture
def dry_run(make_api: MakeApi, api_mock: respx.MockRouter) -> AdminApi:
    return make_api(read_only=True)


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
async def test_every_write_is_refused_before_it_is_sent(
    dry_run: AdminApi, api_mock: respx.MockRouter, write: Callable[[AdminApi], Awaitable[object]]
) -> None:
    posts = api_mock.post(path__regex=r".*")
    deletes = api_mock.delete(path__regex=r".*")
    reads = api_mock.get(path__regex=r".*").respond(404)  # a recheck must not be what saves us either

    with pytest.raises(WriteRefused, match="read-only"):
        await write(dry_run)

    assert (posts.call_count, deletes.call_count, reads.call_count) == (0, 0, 0)
    assert dry_run.transport.requests == []  # nothing left the process, so nothing is counted


async def test_a_read_only_client_still_reads(dry_run: AdminApi, api_mock: respx.MockRouter) -> None:
    api_mock.get("/organization/data_retention").respond(json={"type": "zero_data_retention"})

    assert dry_run.read_only
    assert (await dry_run.retention.get_organization()).type == "zero_data_retention"


async def test_read_write_is_the_default(api: AdminApi) -> None:
    assert not api.read_only
    assert "read-write" in repr(api)
