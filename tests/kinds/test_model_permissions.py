"""A project's model policy: model ids are a set; `unrestricted` removes the policy."""

from __future__ import annotations

from typing import Any

import pytest
from kinds_support import desired_project, permissions, policy, world

from datacontrols.adminapi.permissions import ModelPermissions
from datacontrols.desired.schema import ProjectDefaults
from datacontrols.kinds.base import NOT_CREATED
from datacontrols.kinds.model_permissions import ModelPermissionFacts, ProjectModelPermissions
from datacontrols.plan import FieldChange

KIND = ProjectModelPermissions()


def project(setting: Any) -> Any:
    return desired_project(name="x", model_permissions=setting)


def test_unmanaged_when_neither_file_nor_defaults_name_it() -> None:
    assert not KIND.manages(desired_project(name="x"))
    assert KIND.compare(desired_project(name="x"), permissions("allow_list", "o3"), world()) == []


@pytest.mark.parametrize(
    ("setting", "observed"),
    [
        pytest.param("unrestricted", None, id="unrestricted-no-policy"),
        pytest.param(policy("allow_list", "o3", "gpt-4.1"), permissions("allow_list", "gpt-4.1", "o3"), id="reordered"),
        pytest.param(policy("allow_list", "o3"), permissions("allow_list", "o3", "o3"), id="live-repeats-an-id"),
        pytest.param(policy("deny_list", "o3"), permissions("deny_list", "o3"), id="deny"),
        pytest.param(policy("deny_list"), permissions("deny_list"), id="empty-deny"),
        pytest.param("unrestricted", NOT_CREATED, id="new-project-unrestricted"),
    ],
)
def test_equal_is_quiet(setting: Any, observed: Any) -> None:
    assert KIND.compare(project(setting), observed, world()) == []


def test_unrestricted_deletes_a_live_policy() -> None:
    [change] = KIND.compare(project("unrestricted"), permissions("allow_list", "o3", "gpt-4.1"), world())
    assert (change.action, change.kind, change.severity) == ("delete", "project_model_permissions", "critical")
    assert change.fields == {
        "mode": FieldChange("allow_list", None),
        "model_ids": FieldChange(["gpt-4.1", "o3"], None),
    }


def test_a_policy_where_none_exists_is_created() -> None:
    [change] = KIND.compare(project(policy("allow_list", "o3", "gpt-4.1")), None, world())
    assert (change.action, change.severity) == ("create", "high")  # every model is usable live: some are withdrawn
    assert change.fields == {
        "mode": FieldChange(None, "allow_list"),
        "model_ids": FieldChange(None, ["gpt-4.1", "o3"]),
    }
    assert change.facts == ModelPermissionFacts(mode="allow_list", model_ids=("gpt-4.1", "o3"))


@pytest.mark.parametrize(
    ("setting", "observed", "fields", "reason"),
    [
        pytest.param(
            policy("allow_list", "o3", "gpt-4.1"),
            permissions("allow_list", "o3"),
            {"model_ids": FieldChange(["o3"], ["gpt-4.1", "o3"])},
            "allow list adds gpt-4.1",
            id="widens-allow-list",
        ),
        pytest.param(
            policy("allow_list", "o3"),
            permissions("allow_list", "o3", "gpt-4.1"),
            {"model_ids": FieldChange(["gpt-4.1", "o3"], ["o3"])},
            "allow list removes gpt-4.1",
            id="narrows-allow-list",
        ),
        pytest.param(
            policy("deny_list", "o3", "gpt-4o"),
            permissions("deny_list", "o3", "gpt-4.1"),
            {"model_ids": FieldChange(["gpt-4.1", "o3"], ["gpt-4o", "o3"])},
            "deny list adds gpt-4o and removes gpt-4.1",
            id="swaps-deny-list",
        ),
        pytest.param(
            policy("deny_list", "o3"),
            permissions("allow_list", "o3"),
            {"mode": FieldChange("allow_list", "deny_list")},
            "switches from allow_list to deny_list",
            id="mode-only",
        ),
    ],
)
def test_a_differing_policy_is_one_whole_update(
    setting: Any, observed: ModelPermissions, fields: dict[str, FieldChange], reason: str
) -> None:
    [change] = KIND.compare(project(setting), observed, world())
    assert change.action == "update"
    assert change.severity == ("critical" if change.weakens else "high"), "each case widens or withdraws models"
    assert change.fields == fields
    assert change.reason == reason
    # The API replaces the policy whole, so apply needs the complete desired policy, not only what differs.
    assert change.facts == ModelPermissionFacts(mode=setting.mode, model_ids=tuple(sorted(setting.model_ids)))


def test_new_project_policy_is_created_after_the_project() -> None:
    [change] = KIND.compare(project(policy("deny_list", "o3")), NOT_CREATED, world())
    assert (change.action, change.severity, change.reason) == ("create", "normal", "set on the new project")
    assert change.fields == {"mode": FieldChange(None, "deny_list"), "model_ids": FieldChange(None, ["o3"])}
    assert change.order > 0


@pytest.mark.parametrize(
    ("defaults", "own", "expected"),
    [
        pytest.param(ProjectDefaults(model_permissions=policy("allow_list", "o3")), {}, "o3", id="default-applies"),
        pytest.param(
            ProjectDefaults(model_permissions=policy("allow_list", "o3")),
            {"model_permissions": policy("allow_list", "gpt-4.1")},
            "gpt-4.1",
            id="file-overrides",
        ),
    ],
)
def test_defaults_unless_the_file_says_otherwise(defaults: ProjectDefaults, own: dict[str, Any], expected: str) -> None:
    project_ = desired_project(defaults, name="x", **own)
    assert KIND.compare(project_, permissions("allow_list", expected), world()) == []


def test_file_unrestricted_overrides_a_default_policy() -> None:
    project_ = desired_project(
        ProjectDefaults(model_permissions=policy("allow_list", "o3")), name="x", model_permissions="unrestricted"
    )
    [change] = KIND.compare(project_, permissions("allow_list", "o3"), world())
    assert change.action == "delete"
