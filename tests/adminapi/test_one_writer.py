"""The keep-the-oldest rule of `create_once`, against a fake family: what is kept, what is discarded."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from datacontrols.adminapi.one_writer import Claim, create_once, first_listed, oldest

pytestmark = pytest.mark.settle  # writers race here: keep the real settle wait


@dataclass(frozen=True)
class Thing:
    id: str
    created_at: int


class Family:
    """A list of live objects of one name; `rival` appears while this run's create is in flight."""

    def __init__(self, live: list[Thing], *, mine: Thing, rival: Thing | None = None) -> None:
        self.live = list(live)
        self.mine = mine
        self.rival = rival
        self.created = 0
        self.discarded: list[str] = []
        self.settled = 0

    async def find(self) -> list[Thing]:
        return list(self.live)

    async def create(self) -> Thing:
        self.created += 1
        if self.rival is not None:
            self.live.append(self.rival)
        self.live.append(self.mine)
        return self.mine

    async def discard(self, thing: Thing) -> None:
        self.discarded.append(thing.id)
        self.live.remove(thing)

    async def settle(self, seconds: float) -> None:
        self.settled += 1

    async def run(self) -> Claim[Thing]:
        return await create_once(
            find=self.find, create=self.create, discard=self.discard, settle=self.settle, keep=oldest
        )


def test_the_oldest_is_the_earliest_created_then_the_lowest_id() -> None:
    assert oldest([Thing("b", 5), Thing("a", 6)]).id == "b"
    assert oldest([Thing("b", 5), Thing("a", 5)]).id == "a"


async def test_an_object_created_meanwhile_is_used_and_nothing_is_created() -> None:
    family = Family([Thing("p2", 20), Thing("p1", 20)], mine=Thing("mine", 30))
    claim = await family.run()
    assert claim.kept.id == "p1" and claim.created is None and family.created == 0 and not family.discarded
    assert claim.note is not None and claim.note.startswith("created meanwhile by another writer (p1)")


@pytest.mark.parametrize(
    ("mine", "rival", "kept", "discarded"),
    [
        (Thing("p9", 11), Thing("p5", 10), "p5", ["p9"]),  # the rival is older: this run's own goes
        (Thing("p1", 10), Thing("p5", 11), "p1", []),  # this run's is older: the rival's creator removes it
        (Thing("pb", 10), Thing("pa", 10), "pa", ["pb"]),  # same second: the lower id is kept
        (Thing("pa", 10), Thing("pb", 10), "pa", []),
    ],
)
async def test_of_racing_duplicates_the_oldest_is_kept_and_only_this_runs_own_is_discarded(
    mine: Thing, rival: Thing, kept: str, discarded: list[str]
) -> None:
    family = Family([], mine=mine, rival=rival)
    claim = await family.run()
    assert claim.kept.id == kept and claim.created == mine
    assert family.discarded == discarded and claim.discarded == bool(discarded)
    assert family.settled == 1, "the second look waits for the clock to move past this run's created_at"
    assert (claim.note is None) == (not discarded)


async def test_a_create_without_a_rival_is_a_plain_create() -> None:
    family = Family([], mine=Thing("p1", 10))
    claim = await family.run()
    assert claim == Claim(kept=Thing("p1", 10), created=Thing("p1", 10)) and claim.note is None


async def test_without_a_creation_time_the_first_listed_is_kept_whatever_the_ids() -> None:
    # Spend alerts: the API lists them in the order they were made, the same order for every writer.
    rival, mine = Thing("alert_z", 0), Thing("alert_a", 0)
    family = Family([], mine=mine, rival=rival)  # the rival's create landed first
    claim = await create_once(
        find=family.find, create=family.create, discard=family.discard, settle=family.settle, keep=first_listed
    )
    assert claim.kept.id == "alert_z" and family.discarded == ["alert_a"] and claim.discarded


async def test_a_list_that_lags_behind_the_create_counts_this_runs_own_as_the_newest() -> None:
    class Lagging(Family):
        async def find(self) -> list[Thing]:
            return [t for t in self.live if t is not self.mine]

    family = Lagging([], mine=Thing("mine", 10))
    claim = await create_once(
        find=family.find, create=family.create, discard=family.discard, settle=family.settle, keep=first_listed
    )
    assert claim.kept.id == "mine" and claim.created is not None and not family.discarded


async def test_first_listed_needs_no_settle_wait() -> None:
    # Spend alerts pass settle=None: the listing's order, not a creation second, decides, so nothing waits.
    rival, mine = Thing("alert_z", 0), Thing("alert_a", 0)
    family = Family([], mine=mine, rival=rival)
    claim = await create_once(
        find=family.find, create=family.create, discard=family.discard, settle=None, keep=first_listed
    )
    assert claim.kept.id == "alert_z" and family.discarded == ["alert_a"] and family.settled == 0
