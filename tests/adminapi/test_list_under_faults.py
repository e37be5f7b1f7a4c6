"""The done-when case of the client: 250 projects in 3 pages of 100, with 30% of all answers a 429 (with or
without Retry-After) or a 503, come back complete, each exactly once."""

from __future__ import annotations

import random
from collections import Counter

import httpx
import pytest
import respx

from datacontrols.adminapi import AdminApi
from testsupport.clock import FakeClock

TOTAL = 250
FAULT_RATE = 0.30
SEEDS = 5
LISTINGS = 10  # per seed, through one client: 3 pages each leave too few answers for 30% to mean much
PROJECTS = [
    {"id": f"proj_{n:03d}", "object": "organization.project", "name": f"project {n}", "created_at": n}
    for n in range(TOTAL)
]


class FlakyProjectList:
    """Serves PROJECTS in style-A pages; a seeded RNG turns 30% of answers into faults."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.faults: Counter[str] = Counter()
        self.pages_served = 0
        self.last_two: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.rng.random() < FAULT_RATE:
            kind = self.rng.choice(["429-retry-after", "429-retry-after-ms", "429-bare", "503"])
            if kind == "429-bare" and self.last_two == ["429-bare", "429-bare"]:
                # Bare 429s in a row are how a quota stop looks, and the client rightly gives up on them
                # (test_retries); this server models a busy API, so its third one carries a hint.
                kind = "429-retry-after"
            self.last_two = [*self.last_two[-1:], kind]
            self.faults[kind] += 1
            error = {"error": {"message": "slow down", "type": "requests", "code": None, "param": None}}
            headers = {
                "429-retry-after": {"retry-after": "2"},
                "429-retry-after-ms": {"retry-after-ms": "750"},
                "429-bare": {},
                "503": {},
            }[kind]
            return httpx.Response(503 if kind == "503" else 429, json=error, headers=headers)
        self.last_two = [*self.last_two[-1:], "ok"]
        after = request.url.params.get("after")
        start = 0 if after is None else next(i for i, p in enumerate(PROJECTS) if p["id"] == after) + 1
        page = PROJECTS[start : start + int(request.url.params["limit"])]
        self.pages_served += 1
        return httpx.Response(
            200,
            json={
                "object": "list",
                "data": page,
                "first_id": page[0]["id"],
                "last_id": page[-1]["id"],
                "has_more": start + len(page) < TOTAL,
            },
        )


@pytest.mark.parametrize("seed", range(SEEDS))
async def test_250_projects_come_back_exactly_once_through_30_percent_faults(
    api: AdminApi, api_mock: respx.MockRouter, fake_time: FakeClock, seed: int
) -> None:
    server = FlakyProjectList(seed)
    route = api_mock.get("/organization/projects").mock(side_effect=server)

    for listing in range(LISTINGS):
        started = fake_time.now
        projects = await api.projects.list(include_archived=True)

        ids = [p.id for p in projects]
        assert Counter(ids) == Counter(p["id"] for p in PROJECTS), f"listing {listing}"  # each exactly once
        assert len(ids) == TOTAL
        assert fake_time.now - started < 300.0  # inside the default per-call budget, on fake time

    assert server.pages_served == 3 * LISTINGS
    assert route.call_count == 3 * LISTINGS + sum(server.faults.values())


def simulated_faults(seed: int) -> tuple[Counter[str], int]:
    """The faults a seed injects over LISTINGS listings (the RNG does not depend on the request)."""
    server = FlakyProjectList(seed)
    request = httpx.Request("GET", "https://x.test/v1/organization/projects?limit=100")
    answers = 0
    while server.pages_served < 3 * LISTINGS:
        server(request)
        answers += 1
    return server.faults, answers


def test_the_seeds_really_inject_every_kind_of_fault() -> None:
    # Guard against seeds that would make the test above pass trivially.
    runs = [simulated_faults(seed) for seed in range(SEEDS)]
    kinds = sum((faults for faults, _ in runs), Counter[str]())
    rate = sum(kinds.values()) / sum(answers for _, answers in runs)

    assert set(kinds) == {"429-retry-after", "429-retry-after-ms", "429-bare", "503"}
    assert all(sum(faults.values()) >= 8 for faults, _ in runs)
    assert 0.25 < rate < 0.35
