"""The emulator's service tier settings, as openai-python 3.63.0's types describe them (not in the pinned spec).

The spec cannot check these answers, so each is validated against a closed model written from the SDK's
`ProjectServiceTierSettings` (SDK-NEWER.md section 3).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
import pytest
from emulator_support import ADMIN_KEY, BASE_URL, check_envelope
from pydantic import BaseModel, ConfigDict

from datacontrols.emulator import Emulator
from datacontrols.emulator.seed import SeedError

SUPPORT = "proj_tierssupport00000000001"
OLD = "proj_tiersarchived0000000001"
PATH = f"/organization/projects/{SUPPORT}/service_tier_settings"


class SdkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    object: Literal["project.service_tier_settings"]
    default: Literal["standard", "fast", "scale"]
    enabled_tiers: Literal["all"] | list[Literal["flex", "fast", "ultrafast"]]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    seed: dict[str, Any] = {
        "projects": [{"id": SUPPORT, "name": "Support"}, {"id": OLD, "name": "Old", "status": "archived"}]
    }
    emulator = Emulator(admin_key=ADMIN_KEY, seed=seed, rng_seed=0)
    async with httpx.AsyncClient(
        transport=emulator.http_transport(), base_url=BASE_URL, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    ) as client:
        yield client


async def settings(http: httpx.AsyncClient) -> SdkSettings:
    response = await http.get(PATH)
    assert response.status_code == 200, response.text
    return SdkSettings.model_validate(response.json())


async def test_an_update_is_partial_and_a_field_left_out_keeps_its_value(http: httpx.AsyncClient) -> None:
    assert (await settings(http)).model_dump() == {
        "object": "project.service_tier_settings",
        "default": "standard",
        "enabled_tiers": "all",
    }
    answer = await http.post(PATH, json={"enabled_tiers": ["flex"]})
    assert answer.status_code == 200, answer.text
    assert SdkSettings.model_validate(answer.json()).enabled_tiers == ["flex"]
    await http.post(PATH, json={"default": "scale"})
    assert (await settings(http)).default == "scale"
    assert (await settings(http)).enabled_tiers == ["flex"], "left out: kept"
    await http.post(PATH, json={"enabled_tiers": []})
    assert (await settings(http)).enabled_tiers == [], "[] is Standard only"


@pytest.mark.parametrize(
    "body",
    [{}, {"default": "flex"}, {"enabled_tiers": ["standard"]}, {"enabled_tiers": "some"}, {"tier": "fast"}],
    ids=["empty", "flex-is-no-default", "standard-is-not-additional", "only-all-as-string", "unknown-field"],
)
async def test_a_wrong_body_is_a_400_and_changes_nothing(http: httpx.AsyncClient, body: dict[str, Any]) -> None:
    answer = await http.post(PATH, json=body)
    assert answer.status_code == 400, answer.text
    check_envelope(answer.json())
    assert (await settings(http)).enabled_tiers == "all"


async def test_unknown_and_archived_projects(http: httpx.AsyncClient) -> None:
    missing = await http.get("/organization/projects/proj_nothere000000000000001/service_tier_settings")
    assert missing.status_code == 404
    check_envelope(missing.json())
    archived = await http.post(f"/organization/projects/{OLD}/service_tier_settings", json={"default": "fast"})
    assert archived.status_code == 400
    check_envelope(archived.json())


async def test_a_seed_sets_the_tiers_and_the_dump_gives_them_back() -> None:
    seed: dict[str, Any] = {
        "projects": [{"id": SUPPORT, "name": "Support", "service_tiers": {"default": "scale", "enabled_tiers": []}}]
    }
    emulator = Emulator(admin_key=ADMIN_KEY, seed=seed, rng_seed=0)
    async with httpx.AsyncClient(
        transport=emulator.http_transport(), base_url=BASE_URL, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    ) as client:
        answer = (await client.get(PATH)).json()
    assert SdkSettings.model_validate(answer).model_dump() == {
        "object": "project.service_tier_settings",
        "default": "scale",
        "enabled_tiers": [],
    }
    [dumped] = emulator.dump_state()["projects"]
    assert dumped["service_tiers"] == {"default": "scale", "enabled_tiers": []}
    assert Emulator(admin_key=ADMIN_KEY, seed=emulator.dump_state(), rng_seed=0).dump_state() == emulator.dump_state()
    with pytest.raises(SeedError, match=r"service_tiers\.enabled_tiers"):
        Emulator(admin_key=ADMIN_KEY, seed={"projects": [{"name": "X", "service_tiers": {"enabled_tiers": ["x"]}}]})
