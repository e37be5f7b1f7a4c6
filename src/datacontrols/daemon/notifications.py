"""Alerts: what changed since the last run (`DriftLedger`), and posting it to a webhook (`Notifier`).

Five events, each posted when it has something to say:

    drift_detected    drift items seen for the first time (each item is announced once, not every run)
    drift_corrected   items this daemon applied a correction for
    drift_resolved    items that went away without this daemon (fixed by hand, or the desired state changed)
    run_failed        the first failed run of an outage (the failures after it, until a run succeeds, are
                      the same outage and are only logged)
    run_recovered     the first successful run after an outage

`--webhook-format json` posts `{"source", "event", "run_id", "mode", "at", "summary", "items": [...]}`;
`slack` posts an incoming-webhook message (`text` + mrkdwn `blocks`). A webhook that fails, hangs or
answers an error is logged and counted, never raised: alerts must not fail the run they report on.
Everything sent passes `redact_value` first; the URL itself is a secret and is never logged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

import httpx
import structlog
from pydantic import SecretStr

from datacontrols import __version__
from datacontrols.daemon.metrics import DaemonMetrics
from datacontrols.plan import Change
from datacontrols.redaction import redact, redact_value

__all__ = ["DriftLedger", "Notifier", "OpenDrift", "Transitions", "drift_key", "render_slack"]

log = structlog.get_logger("datacontrols.daemon")

Event = Literal["drift_detected", "drift_corrected", "drift_resolved", "run_failed", "run_recovered"]
_SLACK_ITEMS: Final = 20
# (one, many): the plural is not always a trailing s ("2 drift items corrected", not "2 drift item correcteds").
_SUMMARIES: Final = {
    "drift_detected": ("new drift item", "new drift items"),
    "drift_corrected": ("drift item corrected", "drift items corrected"),
    "drift_resolved": ("drift item resolved", "drift items resolved"),
}


def drift_key(change: Change) -> str:
    """A drift item's identity across runs: what differs, not how it is worded or enforced."""
    data = change.to_json()
    identity = {name: data.get(name) for name in ("action", "kind", "project", "subject", "fields")}
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class OpenDrift:
    """A drift item as announced: the change, who made it, when it was first seen."""

    key: str
    change: dict[str, Any]
    attribution: dict[str, Any]
    first_seen: str
    project: str | None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, **self.change, "attribution": self.attribution, "first_seen": self.first_seen}


@dataclass(frozen=True)
class Transitions:
    new: list[OpenDrift] = field(default_factory=list)
    corrected: list[OpenDrift] = field(default_factory=list)
    resolved: list[OpenDrift] = field(default_factory=list)


@dataclass
class DriftLedger:
    """The drift items open after the last run; tells which are new, corrected or resolved."""

    open: dict[str, OpenDrift] = field(default_factory=dict)

    def update(
        self,
        drift: Iterable[tuple[Change, Mapping[str, Any]]],
        *,
        corrected: Iterable[Change] = (),
        unknown_projects: Iterable[str] = (),
        now: str,
    ) -> Transitions:
        """Take a run's drift (with attributions) and what it corrected. Items of projects that could not be
        read this run stay as they were: unknown is not resolved."""
        unknown = set(unknown_projects)
        fixed = {drift_key(change) for change in corrected}
        seen: dict[str, OpenDrift] = {}
        for change, attribution in drift:
            key = drift_key(change)
            previous = self.open.get(key)
            seen[key] = OpenDrift(
                key=key,
                # The alert's severity: critical when the live state exposes what the files forbid.
                change=change.to_json() | {"alert_severity": change.alert_severity},
                attribution=dict(attribution),
                first_seen=previous.first_seen if previous is not None else now,
                project=change.project,
            )
        transitions = Transitions(
            new=[item for key, item in seen.items() if key not in self.open],
            corrected=[item for key, item in seen.items() if key in fixed],
            resolved=[
                item
                for key, item in self.open.items()
                if key not in seen and key not in fixed and item.project not in unknown
            ],
        )
        kept = {key: item for key, item in self.open.items() if key not in seen and item.project in unknown}
        self.open = kept | {key: item for key, item in seen.items() if key not in fixed}
        return transitions


class Notifier:
    """Posts alert messages to one webhook URL (or does nothing when there is none)."""

    def __init__(
        self,
        url: SecretStr | None,
        fmt: Literal["json", "slack"] = "json",
        *,
        metrics: DaemonMetrics | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 5.0,
    ) -> None:
        self._url = url
        self.format = fmt
        self._metrics = metrics
        self._last_failure: str | None = None
        self._client = (
            httpx.AsyncClient(
                transport=transport,
                timeout=httpx.Timeout(timeout),
                follow_redirects=False,
                headers={"User-Agent": f"openai-datacontrols/{__version__}"},
            )
            if url is not None
            else None
        )

    @property
    def enabled(self) -> bool:
        return self._client is not None

    def __repr__(self) -> str:
        return f"Notifier(format={self.format!r}, enabled={self.enabled})"

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def announce(self, transitions: Transitions, *, run_id: str, mode: str, at: str) -> None:
        for event, items in (
            ("drift_detected", transitions.new),
            ("drift_corrected", transitions.corrected),
            ("drift_resolved", transitions.resolved),
        ):
            if items:
                count = len(items)
                one, many = _SUMMARIES[event]
                summary = f"{count} {one if count == 1 else many} ({mode} mode)"
                await self.send(
                    event,  # type: ignore[arg-type]
                    {"summary": summary, "items": [item.to_json() for item in items]},
                    run_id=run_id,
                    mode=mode,
                    at=at,
                )

    @property
    def outage(self) -> str | None:
        """The error the outage going on began with (None: runs succeed), as the alert ledger saves it."""
        return self._last_failure

    def resume_outage(self, error: str) -> None:
        """After a restart during an outage (the alert ledger): its failures are not a new outage."""
        self._last_failure = error

    async def run_failed(self, error: str, *, run_id: str, mode: str, at: str) -> None:
        """Post the first failed run of an outage; the runs that fail after it until one succeeds are the same
        outage (an API down for an hour is one alert, not twelve), whatever their error says."""
        if self._last_failure is not None:
            log.info("run_failed_again", error=error, first_error=self._last_failure)
            return
        self._last_failure = error
        await self.send(
            "run_failed", {"summary": f"run failed: {error}", "error": error}, run_id=run_id, mode=mode, at=at
        )

    async def run_succeeded(self, *, run_id: str, mode: str, at: str) -> None:
        """After an outage, post once that runs succeed again."""
        if self._last_failure is None:
            return
        error, self._last_failure = self._last_failure, None
        body = {"summary": f"runs succeed again (the outage began with: {error})", "error": error}
        await self.send("run_recovered", body, run_id=run_id, mode=mode, at=at)

    async def send(self, event: Event, body: Mapping[str, Any], *, run_id: str, mode: str, at: str) -> bool:
        """Post one message; True when the webhook accepted it. Never raises."""
        if self._client is None or self._url is None:
            return False
        message = redact_value(
            {"source": "openai-datacontrols", "event": event, "run_id": run_id, "mode": mode, "at": at, **body}
        )
        payload = render_slack(message) if self.format == "slack" else message
        try:
            response = await self._client.post(self._url.get_secret_value(), json=payload)
            ok = 200 <= response.status_code < 300
            problem = None if ok else f"HTTP {response.status_code}"
        except Exception as exc:  # a failing webhook must never fail the run
            ok, problem = False, type(exc).__name__
        if self._metrics is not None:
            self._metrics.notifications.labels(event, "sent" if ok else "failed").inc()
        if ok:
            log.info("notification_sent", notification=event, format=self.format)
        else:
            log.warning("notification_failed", notification=event, format=self.format, error=problem)
        return ok


def render_slack(message: Mapping[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message for one alert: a headline and one line per item (at most 20)."""
    headline = f"openai-datacontrols: {message.get('summary', message.get('event'))}"
    lines = [_slack_escape(headline)]
    items = list(message.get("items") or [])
    for item in items[:_SLACK_ITEMS]:
        where = f"project {item.get('project')}" if item.get("project") else "organization"
        subject = f" {item['subject']}" if item.get("subject") else ""
        attribution = (item.get("attribution") or {}).get("actor") or (item.get("attribution") or {}).get("note")
        severity = item.get("alert_severity", item.get("severity"))
        line = f"• {item.get('action')} {item.get('kind')}{subject} in {where} [{severity}]: {item.get('reason', '')}"
        if attribution:
            line += f" (by: {attribution})"
        lines.append(_slack_escape(line))
    if len(items) > _SLACK_ITEMS:
        lines.append(f"… and {len(items) - _SLACK_ITEMS} more")
    if message.get("error"):
        lines.append(_slack_escape(str(message["error"])))
    context = _slack_escape(f"run {message.get('run_id')} · {message.get('mode')} mode · {message.get('at')}")
    body = "\n".join(lines)[:2900]  # a section's text is capped at 3000 characters
    return {
        "text": _slack_escape(headline),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": body}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    }


def _slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions (`<!channel>`): a project name must not ping a channel.
    return redact(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def now_iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")
