"""Alerts: each drift item announced once; corrected and resolved said when they happen; failed runs posted
without repeats; JSON and Slack shapes; a failing webhook never failing a run."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from daemon_support import ADMIN_KEY, Hook, daemon_for, fix_hosted_tools_by_hand, metric_value

from datacontrols.daemon import DaemonMetrics, DriftLedger
from datacontrols.daemon.notifications import drift_key, render_slack
from datacontrols.emulator import Emulator
from datacontrols.plan import Change, FieldChange

SEED: dict[str, Any] = {
    "organization": {"data_retention": "zero_data_retention"},
    "projects": [
        {
            "id": "proj_support",
            "name": "Support Bot",
            "residency": "EU_STORAGE_PROCESSING",
            "data_retention": "zero_data_retention",
            "hosted_tools": {"web_search": True},
        }
    ],
}


def tools_change(project: str = "Support Bot", before: bool = True, reason: str = "enables web_search") -> Change:
    return Change(
        action="update",
        kind="project_hosted_tools",
        project=project,
        fields={"web_search": FieldChange(before, not before)},
        reason=reason,
        weakens="enables hosted tools: web_search" if not before else None,
        disrupts="requests that use web_search will be refused" if before else None,
    )


def test_the_ledger_announces_each_item_once_and_tells_corrected_from_resolved() -> None:
    ledger = DriftLedger()
    one, two = tools_change("A"), tools_change("B")
    first = ledger.update([(one, {}), (two, {})], now="t1")
    assert [i.key for i in first.new] == [drift_key(one), drift_key(two)] and not first.resolved
    again = ledger.update([(one, {}), (two, {})], now="t2")
    assert not again.new and not again.corrected and not again.resolved  # not every run
    assert ledger.open[drift_key(one)].first_seen == "t1"
    fixed = ledger.update([(one, {}), (two, {})], corrected=[one], now="t3")
    assert [i.key for i in fixed.corrected] == [drift_key(one)] and drift_key(one) not in ledger.open
    gone = ledger.update([], now="t4")
    assert [i.key for i in gone.resolved] == [drift_key(two)] and not ledger.open


def test_the_ledger_keeps_items_of_projects_it_could_not_read() -> None:
    ledger = DriftLedger()
    item = tools_change("A")
    ledger.update([(item, {})], now="t1")
    unknown = ledger.update([], unknown_projects=["A"], now="t2")
    assert not unknown.resolved and drift_key(item) in ledger.open


def test_an_items_identity_ignores_wording_and_enforcement() -> None:
    plain = tools_change()
    held = Change(**{**plain.__dict__, "reason": "x (not applied: enforcement)", "enforcement": "report"})
    assert drift_key(plain) == drift_key(held)
    assert drift_key(plain) != drift_key(tools_change(before=False))


async def test_json_messages_carry_the_items_and_no_secrets() -> None:
    hook = Hook()
    metrics = DaemonMetrics()
    sender = hook.notifier(metrics=metrics)
    ledger = DriftLedger()
    secretive = tools_change(reason="key sk-proj-abcdefghijklmnop leaked")
    transitions = ledger.update([(secretive, {"status": "audit_event", "actor": "alice@example.com"})], now="t")
    await sender.announce(transitions, run_id="r1", mode="report", at="2026-01-01T00:00:00Z")
    [message] = hook.posted
    assert message["event"] == "drift_detected" and message["run_id"] == "r1" and message["mode"] == "report"
    assert message["summary"] == "1 new drift item (report mode)"
    [item] = message["items"]
    assert item["kind"] == "project_hosted_tools" and item["attribution"]["actor"] == "alice@example.com"
    assert "sk-proj" not in json.dumps(message)
    assert (
        metric_value(
            metrics.render().decode(), "datacontrols_notifications_total", event="drift_detected", result="sent"
        )
        == 1
    )
    await sender.aclose()


async def test_slack_messages_are_escaped_and_bounded() -> None:
    items = [
        {"action": "update", "kind": "k", "project": f"<!channel> {n}", "severity": "high", "reason": "r"}
        for n in range(25)
    ]
    message = render_slack({"event": "drift_detected", "summary": "25 new drift items", "items": items, "run_id": "r"})
    assert message["text"] == "openai-datacontrols: 25 new drift items"
    body = message["blocks"][0]["text"]["text"]
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body
    assert "… and 5 more" in body and len(body) <= 3000
    hook = Hook()
    sender = hook.notifier("slack")
    await sender.run_failed("boom", run_id="r", mode="enforce", at="t")
    assert set(hook.posted[0]) == {"text", "blocks"}
    await sender.aclose()


async def test_an_outage_is_posted_once_and_its_end_once() -> None:
    hook = Hook()
    sender = hook.notifier()
    for error in ("HTTP 503", "HTTP 503", "HTTP 401"):  # one outage, whatever each run's error says
        await sender.run_failed(error, run_id="r", mode="report", at="t")
    await sender.run_succeeded(run_id="r", mode="report", at="t")
    await sender.run_succeeded(run_id="r", mode="report", at="t")  # no outage: nothing to say
    await sender.run_failed("HTTP 401", run_id="r", mode="report", at="t")
    assert [(m["event"], m["error"]) for m in hook.posted] == [
        ("run_failed", "HTTP 503"),
        ("run_recovered", "HTTP 503"),
        ("run_failed", "HTTP 401"),
    ]
    assert hook.posted[1]["summary"] == "runs succeed again (the outage began with: HTTP 503)"
    await sender.aclose()


@pytest.mark.parametrize(
    "hook", [Hook(status=500), Hook(error=httpx.ConnectError("refused")), Hook(error=httpx.ReadTimeout("slow"))]
)
async def test_a_failing_webhook_never_fails_a_run(hook: Hook) -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=SEED, rng_seed=2)
    metrics = DaemonMetrics()
    daemon = daemon_for(emulator, notifier=hook.notifier(metrics=metrics), mode="report")
    try:
        run = await daemon.run_once()
        assert run is not None and run.outcome == "success" and hook.posted
        text = metrics.render().decode()
        assert metric_value(text, "datacontrols_notifications_total", event="drift_detected", result="failed") == 1
    finally:
        await daemon.aclose()


async def test_report_mode_announces_new_drift_once_and_resolution_when_fixed_by_hand() -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=SEED, rng_seed=2)
    hook = Hook()
    daemon = daemon_for(emulator, notifier=hook.notifier(), mode="report")
    try:
        await daemon.run_once()
        assert hook.events() == ["drift_detected"]
        detected = {(i["kind"], i["project"]) for i in hook.posted[0]["items"]}
        assert ("project_hosted_tools", "Support Bot") in detected
        await daemon.run_once()
        assert hook.events() == ["drift_detected"]  # the same drift is not announced again

        await fix_hosted_tools_by_hand(emulator)
        await daemon.run_once()
        assert hook.events() == ["drift_detected", "drift_resolved"]
        [resolved] = hook.posted[1]["items"]
        assert resolved["kind"] == "project_hosted_tools" and resolved["project"] == "Support Bot"
    finally:
        await daemon.aclose()


async def test_enforce_mode_announces_drift_and_its_correction_in_the_same_run() -> None:
    emulator = Emulator(admin_key=ADMIN_KEY, seed=SEED, rng_seed=2)
    hook = Hook()
    daemon = daemon_for(emulator, notifier=hook.notifier(), mode="enforce")
    try:
        run = await daemon.run_once()
        assert run is not None and run.result is not None
        assert hook.events() == ["drift_detected", "drift_corrected"]
        assert len(hook.posted[1]["items"]) == len(run.result.applied)
        await daemon.run_once()
        assert hook.events() == ["drift_detected", "drift_corrected"]  # converged: nothing more to say
    finally:
        await daemon.aclose()
