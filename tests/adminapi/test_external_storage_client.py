"""The external storage family: reads through the emulator, and the exact requests of a paged list (respx).

Not in the pinned spec: openai-python 3.63.0's types are the authority (SDK-NEWER.md section 2).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx
from adminapi_support import ADMIN_KEY

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.external_storage import ExternalStorageConfiguration, StorageProvider
from datacontrols.emulator import Emulator
from datacontrols.errors import ApiError

SUPPORT = "proj_storageclient000000001"
OTHER = "proj_storageclient000000002"
LIST = "/organization/external_storage"


def _storage(index: int) -> dict[str, Any]:
    return {
        "id": f"extstore_{index:03d}",
        "provider": {"type": "gcp", "bucket": f"bucket-{index}", "region": "europe-west4"},
        "status": "validated",
    }


@pytest.fixture
async def emulated() -> AsyncIterator[tuple[AdminApi, Emulator]]:
    seed = {
        "projects": [
            {"id": SUPPORT, "name": "Support", "external_storage": [_storage(i) for i in range(150)]},
            {
                "id": OTHER,
                "name": "Other",
                "external_storage": [
                    {
                        "id": "extstore_azure",
                        "provider": {"type": "azure", "account_name": "acme", "container": "openai"},
                        "status": "unhealthy",
                    }
                ],
            },
        ]
    }
    emulator = Emulator(admin_key=ADMIN_KEY, seed=seed, rng_seed=3)
    api = AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emulator.http_transport())
    yield api, emulator
    await api.aclose()


async def test_a_projects_list_follows_the_cursor_to_its_end(emulated: tuple[AdminApi, Emulator]) -> None:
    api, emulator = emulated
    configs = await api.external_storage.list(project_id=SUPPORT)
    assert [c.id for c in configs] == [f"extstore_{i:03d}" for i in range(150)]
    assert {c.project_id for c in configs} == {SUPPORT}
    assert configs[0].provider.location == "bucket-0" and configs[0].geography == "EU"
    pages = emulator.requests.for_template(LIST, "GET")
    assert [p.query.get("after") for p in pages] == [None, "extstore_099"], "after = the last item's id"
    assert all(p.query["project_id"] == SUPPORT for p in pages)


async def test_the_whole_organization_and_one_configuration(emulated: tuple[AdminApi, Emulator]) -> None:
    api, _ = emulated
    everything = await api.external_storage.list()
    assert len(everything) == 151
    azure = await api.external_storage.get("extstore_azure")
    assert azure is not None and (azure.project_id, azure.status) == (OTHER, "unhealthy")
    assert azure.provider.location == "acme/openai", "Azure's location is account/container"
    assert await api.external_storage.get("extstore_missing") is None, "404 reads as none"
    assert emulated[1].requests.methods() == {"GET"}


def test_responses_are_read_leniently() -> None:
    """Fields the API adds later, a provider type it adds later, an unknown status: still readable."""
    config = ExternalStorageConfiguration.model_validate(
        {
            "id": "extstore_x",
            "object": "organization.external_storage",
            "project_id": "proj_x",
            "provider": {"type": "ibm", "bucket": "b", "cos_instance": "i"},
            "status": "migrating",
            "geography": "US",
            "created_at": 1,
            "new_field": True,
        }
    )
    assert (config.provider.type, config.provider.location, config.status) == ("ibm", "b", "migrating")
    assert StorageProvider(type="azure").location is None


async def test_an_unreadable_answer_is_an_api_error(api: AdminApi, api_mock: respx.MockRouter) -> None:
    api_mock.get(LIST).mock(
        return_value=httpx.Response(200, json={"object": "list", "data": [{"id": "x"}], "has_more": False})
    )
    with pytest.raises(ApiError, match="ExternalStorageConfiguration"):
        await api.external_storage.list()
