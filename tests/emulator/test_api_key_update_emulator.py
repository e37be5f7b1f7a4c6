"""The SDK's project key update (`POST .../api_keys/{api_key_id}`, openai-python 3.63.0): its body, its refusals
and its answer, which carries the redacted value only."""

from __future__ import annotations

import httpx

from datacontrols.emulator import Emulator

ADMIN_KEY = "sk-admin-keyupdate-tests-0123456789abcdef"
NOW = 1_780_000_000
PROJECT = "proj_keyupdate0000000000000"
PATH = f"/organization/projects/{PROJECT}/api_keys"


def emulator() -> Emulator:
    seed = {
        "users": [{"id": "user-bob", "email": "bob@example.com", "name": "Bob"}],
        "projects": [
            {
                "id": PROJECT,
                "name": "P",
                "users": [{"user": "bob@example.com", "role": "member"}],
                "service_accounts": [{"name": "bot", "role": "member"}],
                "api_keys": [
                    {"id": "key_user0001", "owner": {"type": "user", "id": "bob@example.com"}},
                    {"id": "key_bot00001", "owner": {"type": "service_account", "id": "bot"}},
                    {"id": "key_gone0001", "owner": {"type": "user", "id": "bob@example.com"}, "expires_at": NOW - 1},
                ],
            }
        ],
    }
    return Emulator(admin_key=ADMIN_KEY, seed=seed, rng_seed=1, clock=lambda: NOW)


def client(emu: Emulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=emu.http_transport(),
        base_url="https://api.openai.com/v1",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )


async def test_an_update_sets_expiry_and_spend_limit_and_answers_the_key_as_retrieve_does() -> None:
    emu = emulator()
    async with client(emu) as raw:
        limit = {"currency": "USD", "interval": "month", "threshold_amount": 500}
        answer = await raw.post(f"{PATH}/key_bot00001", json={"expires_in_seconds": 3600, "spend_limit": limit})
        assert answer.status_code == 200, answer.text
        key = answer.json()
        assert key["expires_at"] == NOW + 3600 and key["spend_limit"]["threshold_amount"] == 500
        assert key["owner"]["type"] == "service_account" and "value" not in key and "scopes" not in key
        assert (await raw.get(f"{PATH}/key_bot00001")).json() == key
        scoped = await raw.post(f"{PATH}/key_user0001", json={"scopes": ["api.all.read"], "spend_limit": None})
        assert scoped.status_code == 200 and "spend_limit" not in scoped.json()
    assert emu.state.projects[PROJECT].api_keys["key_user0001"].scopes == ("api.all.read",)
    (event, second) = [e for e in emu.events if e.type == "api_key.updated"]
    assert event.details["changes_requested"] == {"expires_in_seconds": 3600}
    assert second.details["changes_requested"] == {"scopes": ["api.all.read"]}


async def test_an_empty_body_an_expired_key_and_a_bad_expiry_are_refused() -> None:
    emu = emulator()
    async with client(emu) as raw:
        assert (await raw.post(f"{PATH}/key_user0001", json={})).status_code == 400
        assert (await raw.post(f"{PATH}/key_user0001", json={"expires_in_seconds": 0})).status_code == 400
        assert (await raw.post(f"{PATH}/key_gone0001", json={"expires_in_seconds": 60})).status_code == 400
        assert (await raw.post(f"{PATH}/key_unknown1", json={"expires_in_seconds": 60})).status_code == 404
    assert emu.state.projects[PROJECT].api_keys["key_user0001"].expires_at is None
    assert not [e for e in emu.events if e.type == "api_key.updated"]
