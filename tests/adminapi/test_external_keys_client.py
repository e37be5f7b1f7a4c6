"""The encryption key family: reads through the emulator, and the exact requests of a paged list.

Not in the pinned spec: openai-python 3.63.0's types are the authority (SDK-NEWER.md section 1).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from adminapi_support import ADMIN_KEY

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.external_keys import ExternalKey
from datacontrols.emulator import Emulator
from datacontrols.errors import ApiError

LIST = "/organization/external_keys"
BOUND = "proj_keysclient00000000001"


@pytest.fixture
async def emulated() -> AsyncIterator[tuple[AdminApi, Emulator]]:
    keys = [{"id": f"ekm_{i:03d}", "name": f"key-{i}", "type": "aws", "kms_arn": f"arn:{i}"} for i in range(150)]
    keys.append({"id": "ekm_psp", "name": "psp", "type": "oci", "purpose": "psp_decryption", "key_ocid": "ocid1"})
    seed = {"projects": [{"id": BOUND, "name": "Bound", "external_key_id": "ekm_007"}], "external_keys": keys}
    emulator = Emulator(admin_key=ADMIN_KEY, seed=seed, rng_seed=3)
    api = AdminApi.connect(admin_key=ADMIN_KEY, http_transport=emulator.http_transport())
    yield api, emulator
    await api.aclose()


async def test_the_list_follows_the_cursor_to_its_end(emulated: tuple[AdminApi, Emulator]) -> None:
    api, emulator = emulated
    keys = await api.external_keys.list()
    assert [k.id for k in keys] == [*(f"ekm_{i:03d}" for i in range(150)), "ekm_psp"]
    pages = emulator.requests.for_template(LIST, "GET")
    assert [p.query.get("after") for p in pages] == [None, "ekm_099"], "after = the last item's id"
    assert [k.id for k in await api.external_keys.list(purpose="psp_decryption")] == ["ekm_psp"]


async def test_one_key_its_projects_and_a_missing_one(emulated: tuple[AdminApi, Emulator]) -> None:
    api, emulator = emulated
    key = await api.external_keys.get("ekm_007")
    assert key is not None and (key.name, key.api_project_ids, key.locator) == ("key-7", [BOUND], "arn:7")
    assert key.encrypts_data
    psp = await api.external_keys.get("ekm_psp")
    assert psp is not None and not psp.encrypts_data and psp.locator == "ocid1"
    assert await api.external_keys.get("ekm_missing") is None, "404 reads as none"
    assert emulator.requests.methods() == {"GET"}


@pytest.mark.parametrize(
    ("fields", "locator"),
    [
        (
            {
                "type": "gcp",
                "kms_project_id": "p",
                "kms_key_location": "l",
                "kms_key_ring_name": "r",
                "kms_key_name": "k",
            },
            "p/l/r/k",
        ),
        ({"type": "azure", "vault_uri": "https://v", "key_name": "k"}, "https://v/keys/k"),
        ({"type": "hsm"}, None),
    ],
)
def test_responses_are_read_leniently(fields: dict[str, str], locator: str | None) -> None:
    """Fields and types the API adds later, a purpose it adds later: still readable, never read as EKM."""
    key = ExternalKey.model_validate({"id": "ekm_x", "name": "n", "purpose": "signing", "new_field": 1, **fields})
    assert key.locator == locator and not key.encrypts_data
    assert ExternalKey.model_validate({"id": "ekm_y", "name": "n", "type": "aws"}).encrypts_data, "no purpose"


async def test_an_unreadable_answer_is_an_api_error(api: AdminApi, api_mock: respx.MockRouter) -> None:
    api_mock.get(LIST).mock(
        return_value=httpx.Response(200, json={"object": "list", "data": [{"id": "x"}], "has_more": False})
    )
    with pytest.raises(ApiError, match="ExternalKey"):
        await api.external_keys.list()
