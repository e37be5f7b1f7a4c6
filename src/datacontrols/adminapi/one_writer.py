"""One writer by check: a create without a natural id, made so that two appliers racing end with one object.

Projects cannot be deleted (only archived) and service accounts carry keys, so a duplicate made by two runs
started together (two `reconcile --auto-approve`, or CI and an enforcing daemon) is costly. The API offers no
conditional create, so `create_once` checks instead:

1. Immediately before the POST, it lists the objects of that name. One exists: another writer made it since
   the plan was read, and nothing is created (the object kept is the oldest, as below).
2. After the POST, it lists again. Another object of the name appeared: the oldest (`created_at`, then `id`)
   is kept, and the one this run made is discarded (archived or deleted) when it is not the oldest. Every
   writer applies the same rule to the same objects, so all of them keep the same one, and each discards
   only its own.

Between the create and the second list it waits `SETTLE_SECONDS`. `created_at` is in whole seconds: without
the wait, a writer whose second list came before a rival's create (and so kept its own) and that rival (which
sees both, and may win the id tie-break within the same second) could both keep theirs. After the wait, any
create the second list missed is stamped at least a second later, so it is the newer and its writer discards
it. The wait uses the transport's sleep, so tests with virtual time do not spend it.

Objects without a `created_at` (spend alerts) keep the first listed instead (`first_listed`): the API lists
them in the order they were made, which is the same order for every writer and needs no wait to be exact.

Both lists run only when there is a create to make: a run without creates sends no extra request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

__all__ = ["SETTLE_SECONDS", "Claim", "create_once", "first_listed", "oldest"]

# Not Final: in-process tests whose writers cannot race set it to 0 (the suite would wait a second per create).
SETTLE_SECONDS = 1.0


class Identified(Protocol):
    @property
    def id(self) -> str: ...


class Created(Identified, Protocol):
    @property
    def created_at(self) -> int: ...


T = TypeVar("T", bound=Identified)
C = TypeVar("C", bound=Created)


@dataclass(frozen=True)
class Claim(Generic[T]):
    """The object the create's dependants go to (`kept`) and what this run itself made (`created`)."""

    kept: T
    created: T | None  # None: another writer created it first, this run sent no create
    discarded: bool = False  # this run's object was the newer of two and was archived or deleted
    discarded_as: str = "deleted"  # how the family removes one: projects are archived

    @property
    def note(self) -> str | None:
        """For the report: why the outcome differs from a plain create (None when it does not)."""
        if self.created is None:
            return f"created meanwhile by another writer ({self.kept.id}); this run created nothing and used it"
        if self.discarded:
            return (
                f"another writer created it at the same time; the older {self.kept.id} is kept and this run's "
                f"{self.created.id} was {self.discarded_as}"
            )
        return None


def oldest(objects: Sequence[C]) -> C:
    """The one every writer keeps: the earliest created, ties broken by id."""
    return min(objects, key=lambda o: (o.created_at, o.id))


def first_listed(objects: Sequence[T]) -> T:
    """The one every writer keeps when objects carry no creation time: the first the API lists."""
    return objects[0]


async def create_once(
    *,
    find: Callable[[], Awaitable[Sequence[T]]],
    create: Callable[[], Awaitable[T]],
    discard: Callable[[T], Awaitable[object]],
    settle: Callable[[float], Awaitable[None]] | None,
    keep: Callable[[Sequence[T]], T],
    discarded_as: str = "deleted",
) -> Claim[T]:
    """Create unless `find()` (the live objects of the name, in the API's order) already has one; then settle
    duplicates: of several, `keep` (`oldest` or `first_listed`) names the one every writer keeps.

    `discard` is only ever called on the object `create` returned. `settle` sleeps (the transport's pause)
    for `SETTLE_SECONDS`, read at call time; None for `first_listed`, whose order needs no wait.
    """
    before = await find()
    if before:
        return Claim(kept=keep(before), created=None)
    mine = await create()
    if settle is not None:
        await settle(SETTLE_SECONDS)
    after = list(await find())
    if all(o.id != mine.id for o in after):
        after.append(mine)  # a list that lags behind the create: this run's own is the newest
    kept = keep(after)
    if kept.id == mine.id:
        return Claim(kept=mine, created=mine)
    await discard(mine)
    return Claim(kept=kept, created=mine, discarded=True, discarded_as=discarded_as)
