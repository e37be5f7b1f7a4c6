"""The one entry point, `reconcile`: a dry run judges the plan exactly as apply does, a refused plan is never
written, a declined review writes nothing, and every format says why apply would refuse."""

from __future__ import annotations

import json

from members_support import connect, desired, emulator, organization, project_users, registry

from datacontrols.desired.schema import DesiredState
from datacontrols.emulator import Emulator
from datacontrols.present import REFUSED_HEADING, render_outcome
from datacontrols.reconcile import Intent, Outcome, reconcile

ALICE = {"user": "alice@example.com", "role": "owner"}
BOB_OWNER = {"user": "bob@example.com", "role": "owner"}
CAROL = {"user": "carol@example.com", "role": "member"}


def lockout() -> tuple[Emulator, DesiredState]:
    """An organization whose desired state removes both owners of P (a broken guard)."""
    emu = emulator(organization(users=[ALICE, BOB_OWNER, CAROL]))
    return emu, desired(mode="authoritative", users={"carol@example.com": "member"})


async def test_a_dry_run_reports_the_guard_that_apply_would_break_and_writes_nothing() -> None:
    emu, state = lockout()
    reviewed: list[Outcome] = []

    async def review(outcome: Outcome) -> bool:
        reviewed.append(outcome)
        return True

    async with connect(emu) as api:
        outcome = await reconcile(api, state, registry=registry(), review=review)
    assert reviewed == [outcome], "the review sees the plan and its verdict once"
    assert outcome.refusal is not None and outcome.result is None
    assert outcome.refusal.guards and "would be left without an owner" in outcome.refusal.guards[0]
    assert not outcome.refusal.approvable
    assert emu.requests.writes() == []


async def test_apply_refuses_a_broken_guard_even_with_an_approval_and_writes_nothing() -> None:
    emu, state = lockout()
    async with connect(emu) as api:
        first = await reconcile(api, state, registry=registry())
        approved = Intent(apply=True, allow_unsafe=first.plan.digest())
        outcome = await reconcile(api, state, approved, registry=registry())
    assert outcome.refusal is not None and outcome.result is None
    assert "refusing to apply the plan, nothing was written" in outcome.refusal.message
    assert emu.requests.writes() == []
    assert project_users(emu) == {"user-alice": "owner", "user-bob": "owner", "user-carol": "member"}


async def test_a_declined_review_writes_nothing_and_an_accepted_one_applies() -> None:
    emu = emulator(organization(users=[ALICE, CAROL]))
    state = desired(mode="authoritative", users={"alice@example.com": "owner"})  # removes carol: no approval needed

    async def no(outcome: Outcome) -> bool:
        return False

    async with connect(emu) as api:
        declined = await reconcile(api, state, Intent(apply=True), registry=registry(), review=no)
        assert declined.declined and declined.result is None and declined.refusal is None
        assert emu.requests.writes() == []
        applied = await reconcile(api, state, Intent(apply=True), registry=registry())
    assert applied.result is not None and applied.result.ok and applied.result.applied
    assert project_users(emu) == {"user-alice": "owner"}


async def test_every_format_says_why_apply_would_refuse() -> None:
    emu, state = lockout()
    async with connect(emu) as api:
        outcome = await reconcile(api, state, registry=registry())
    refusal = outcome.refusal
    assert refusal is not None
    document = json.loads(render_outcome(outcome.plan, refusal, "json"))
    assert document["refused"]["guards"] == list(refusal.guards)
    assert document["refused"]["reasons"] and document["refused"]["approve_with"] is None
    assert document["refused"]["plan_digest"] == outcome.plan.digest()
    text = render_outcome(outcome.plan, refusal, "text")
    assert f"{REFUSED_HEADING}:" in text and "would be left without an owner" in text
    markdown = render_outcome(outcome.plan, refusal, "markdown").splitlines()
    assert markdown[0].startswith("### ") and markdown[2].startswith("> **Safety:** applying this plan will be refused")
    assert json.loads(render_outcome(outcome.plan, None, "json"))["refused"] is None
