"""/status without the token is states and counts only; with `DATACONTROLS_STATUS_TOKEN` as a bearer token it
is the full document; a wrong token is refused (401). The probes and metrics stay open, and the token is in no
log line and no answer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from daemon_support import ADMIN_KEY, BEARER, DEMO_SEED, STATUS_TOKEN, capture_logs, daemon_for, daemon_http
from pydantic import SecretStr, ValidationError

from datacontrols.daemon import Daemon, DaemonSettings
from datacontrols.daemon.http import create_app
from datacontrols.daemon.status import StatusAccess
from datacontrols.emulator import Emulator

# In the demo organization's drift (bob made an owner by hand, mallory not in the files, her and bob's keys),
# so the full document holds each of them: the summary must hold none.
PRIVATE = (
    "bob@example.com",
    "mallory@example.com",
    "@example.com",
    "bob-laptop",
    "mallory-notebook",
    "Support Bot",
    "Research Sandbox",
    "Legacy Chatbot",
    "proj_",
    "key_",
)


@pytest.fixture
async def daemon() -> AsyncIterator[Daemon]:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=DEMO_SEED, rng_seed=7)
    built = daemon_for(emulator, mode="report", status_token=STATUS_TOKEN)
    yield built
    await built.aclose()


@pytest.fixture
async def http(daemon: Daemon) -> AsyncIterator[httpx.AsyncClient]:
    async with daemon_http(daemon) as client:
        yield client


async def test_status_without_a_token_holds_states_and_counts_but_no_member_key_or_project(
    daemon: Daemon, http: httpx.AsyncClient
) -> None:
    await daemon.run_once()
    full = json.dumps(daemon.status())
    assert "bob@example.com" in full and "key_DemoMallory" in full  # the detail that must stay behind the token
    response = await http.get("/status")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    summary = response.json()
    text = response.text
    for private in PRIVATE:
        assert private not in text, private
    assert summary["detail"] == "summary" and "DATACONTROLS_STATUS_TOKEN" in summary["note"]
    run = summary["last_run"]
    assert run["outcome"] == "success" and run["counts"]["drift"] > 0
    assert "plan" not in run and "drift" not in run and "error" not in run and "plan_digest" not in run
    assert summary["open_drift"]["count"] == run["counts"]["drift"]
    assert summary["open_drift"]["by_kind"]["project_user"] >= 1
    assert sum(summary["open_drift"]["by_severity"].values()) == summary["open_drift"]["count"]
    assert summary["ready"] is True and summary["desired_state"] == {"valid": True, "problem_count": 0, "problems": []}


async def test_the_token_shows_the_full_document(daemon: Daemon, http: httpx.AsyncClient) -> None:
    await daemon.run_once()
    response = await http.get("/status", headers=BEARER)
    assert response.status_code == 200
    status = response.json()
    assert status["detail"] == "full" and status["last_run"]["plan"]["format_version"] == 1
    subjects = {item.get("subject") for item in status["open_drift"]}
    assert "bob@example.com" in subjects
    lowercase_scheme = await http.get("/status", headers={"Authorization": f"bearer {STATUS_TOKEN}"})
    assert lowercase_scheme.json()["detail"] == "full"


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {STATUS_TOKEN}x", f"Bearer {STATUS_TOKEN[:-1]}", "Bearer ", f"Basic {STATUS_TOKEN}", "Bearer é"],
)
async def test_a_wrong_token_is_refused_with_401_and_no_detail(
    daemon: Daemon, http: httpx.AsyncClient, authorization: str
) -> None:
    await daemon.run_once()
    response = await http.get("/status", headers={"Authorization": authorization.encode("latin-1")})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "@example.com" not in response.text and STATUS_TOKEN not in response.text


async def test_without_a_configured_token_every_token_is_refused_and_the_summary_is_all() -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=DEMO_SEED, rng_seed=7)
    daemon = daemon_for(emulator, mode="report")
    try:
        await daemon.run_once()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(daemon)), base_url="http://d"
        ) as http:
            assert (await http.get("/status", headers=BEARER)).status_code == 401
            summary = await http.get("/status")
            assert summary.status_code == 200 and "@example.com" not in summary.text
    finally:
        await daemon.aclose()


async def test_probes_and_metrics_stay_open_without_a_token(daemon: Daemon, http: httpx.AsyncClient) -> None:
    await daemon.run_once()
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await http.get(path)).status_code == 200, path
        assert (await http.get(path, headers={"Authorization": "Bearer wrong-token-000000"})).status_code == 200


async def test_the_token_is_in_no_log_line_no_answer_and_no_repr() -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=DEMO_SEED, rng_seed=7)
    with capture_logs() as logs:
        daemon = daemon_for(emulator, mode="report", status_token=STATUS_TOKEN)
        try:
            await daemon.run_once()
            transport = httpx.ASGITransport(app=create_app(daemon))
            async with httpx.AsyncClient(transport=transport, base_url="http://d") as http:
                answers = [
                    (await http.get(path, headers=headers)).text
                    for path in ("/status", "/healthz", "/readyz", "/metrics")
                    for headers in ({}, BEARER, {"Authorization": "Bearer wrong-token-000000"})
                ]
            answers += [repr(daemon.settings), repr(daemon.status_access), json.dumps(daemon.status())]
        finally:
            await daemon.aclose()
    lines = logs.getvalue().splitlines()
    assert any('"daemon_started"' in line or '"run_finished"' in line for line in lines)
    for text in (*lines, *answers):
        assert STATUS_TOKEN not in text


def test_the_token_is_read_from_the_environment_and_must_be_long_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATACONTROLS_STATUS_TOKEN", f"  {STATUS_TOKEN}\n")
    settings = DaemonSettings()
    assert settings.status_token is not None and settings.status_token.get_secret_value() == STATUS_TOKEN
    assert STATUS_TOKEN not in repr(settings)
    monkeypatch.setenv("DATACONTROLS_STATUS_TOKEN", "short")
    with pytest.raises(ValidationError, match="at least 16"):
        DaemonSettings()
    monkeypatch.setenv("DATACONTROLS_STATUS_TOKEN", "")
    assert DaemonSettings().status_token is None


def test_the_access_check() -> None:
    access = StatusAccess(SecretStr(STATUS_TOKEN))
    assert access.check(None) == access.check("") == "summary"
    assert access.check(f"Bearer {STATUS_TOKEN}") == "full"
    assert access.check(f"Bearer {STATUS_TOKEN} ") == "full"
    assert access.check("Bearer nope") == access.check(STATUS_TOKEN) == "denied"
    assert StatusAccess(None).check(f"Bearer {STATUS_TOKEN}") == "denied"
