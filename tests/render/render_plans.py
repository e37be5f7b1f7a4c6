"""Plans the renderer tests share (a module of its own: importing from conftest is ambiguous when
several test directories have one)."""

from __future__ import annotations

from collections.abc import Callable

from datacontrols.plan import Change, FieldChange

CheckGolden = Callable[[str, str], None]


def representative_changes() -> list[Change]:
    """Every action, organization and project level, every severity, subjects, reasons, awkward names."""
    return [
        Change(
            action="update",
            kind="organization_data_retention",
            project=None,
            fields={"type": FieldChange("none", "zero_data_retention")},
            reason="organization data retention differs from the desired state",
        ),
        Change(
            action="report",
            kind="project",
            project=None,
            subject="Legacy sandbox",
            severity="normal",
            reason="live project proj_legacy is not in the desired state, so its data controls are not checked",
        ),
        Change(
            action="create",
            kind="project",
            project="Support Bot",
            fields={"name": FieldChange(None, "Support Bot"), "geography": FieldChange(None, "EU")},
            reason="declared in the desired state and not present live",
        ),
        Change(
            action="create",
            kind="project_data_retention",
            project="Support Bot",
            fields={"type": FieldChange(None, "zero_data_retention")},
        ),
        Change(
            action="update",
            kind="project_model_permissions",
            project="Data | Science <beta>",
            fields={
                "mode": FieldChange("deny_list", "allow_list"),
                "model_ids": FieldChange(["o3"], ["gpt-4.1", "ft:gpt-4o:acme:*bold*:1"]),
            },
            disrupts="requests to o3 will be refused",
        ),
        Change(
            action="update",
            kind="project_hosted_tools",
            project="Data | Science <beta>",
            fields={"web_search": FieldChange(True, False), "code_interpreter": FieldChange(None, False)},
            reason="web_search is enabled live and disabled in the desired state",
            disrupts="requests that use web_search will be refused",
        ),
        Change(
            action="update",
            kind="project_rate_limit",
            project="Data | Science <beta>",
            subject="gpt-4.1",
            fields={"max_tokens_per_1_minute": FieldChange(30000, 10000)},
        ),
        Change(
            action="update",
            kind="spend_alert",
            project="Data | Science <beta>",
            subject="80%",
            fields={"alert": FieldChange({"threshold": 80, "currency": "usd"}, {"threshold": 0.8, "currency": "usd"})},
        ),
        Change(
            action="delete",
            kind="project_user",
            project="Data | Science <beta>",
            subject="bob@example.com",
            fields={"role": FieldChange("member", None)},
            reason="not a member in the desired state",
            disrupts="removes bob@example.com's access to the project",
        ),
        Change(
            action="uncorrectable",
            kind="project",
            project="Data | Science <beta>",
            fields={"geography": FieldChange("US", "EU")},
            severity="critical",
            reason="residency is chosen at creation and cannot be changed",
        ),
        Change(
            action="archive",
            kind="project",
            project="Ünïcode 研究 `tick` @team",
            fields={"status": FieldChange("active", "archived")},
            reason="status: archived in the desired state; archiving is one-way",
            disrupts="archives the project for good",
        ),
        Change(
            action="report",
            kind="project_api_key",
            project="Ünïcode 研究 `tick` @team",
            subject="ci key",
            fields={"last_used_at": FieldChange(None, None)},
            reason="this key has never been used",
        ),
    ]
