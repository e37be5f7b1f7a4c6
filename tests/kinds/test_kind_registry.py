"""The registry walks its kinds: a kind that leaves out a declaration fails here, not silently in a run."""

from __future__ import annotations

from typing import get_args

import pytest

from datacontrols.daemon.attribution import ALL_EVENT_TYPES, EVENT_TYPES_BY_KIND, KINDS_WITHOUT_EVENTS
from datacontrols.desired.enforcement import ENFORCEMENT_GROUPS, EnforcementGroup
from datacontrols.desired.schema import DesiredState, OrganizationFile, ProjectDefaults, ProjectFile, ProjectSettings
from datacontrols.export import exporter_of
from datacontrols.kinds import ALL_KINDS, ORGANIZATION_KINDS, PROJECT_KINDS, Kind, OrganizationKind, kind_for
from datacontrols.kinds.base import ARCHIVE_ORDER, CREATE_ORDER
from datacontrols.kinds.external_storage import SDK_EVENT_TYPES
from testsupport.spec import require_spec_document

DECLARATIONS = ("name", "scope", "group", "order", "audit_event_types", "exports")
# The only event types allowed beyond the pinned spec's enum: external storage's, which openai-python 3.63.0
# documents in both the `event_types[]` filter and the `type` enum (SDK-NEWER.md section 10).
SDK_ONLY_EVENT_TYPES = {"external_storage": {"external_storage.registered", "external_storage.removed"}}


@pytest.mark.parametrize("kind", ALL_KINDS, ids=lambda k: k.key)
def test_every_kind_declares_every_part(kind: Kind) -> None:
    missing = [name for name in DECLARATIONS if not hasattr(kind, name)]
    assert not missing, f"{type(kind).__name__} does not declare {', '.join(missing)}"
    assert kind.group in get_args(EnforcementGroup)
    assert kind.scope == ("organization" if isinstance(kind, OrganizationKind) else "project")
    assert CREATE_ORDER < kind.order < ARCHIVE_ORDER, "a kind's changes run between its project's create and archive"
    assert isinstance(kind.audit_event_types, tuple) and all(isinstance(t, str) for t in kind.audit_event_types)
    own_export = type(kind).export is not Kind.export
    assert own_export == kind.exports, "exports = True exactly when the kind implements export"
    assert (exporter_of(kind) is not None) == kind.exports


def test_keys_are_unique_and_lookup_is_by_scope() -> None:
    keys = [k.key for k in ALL_KINDS]
    assert len(keys) == len(set(keys))
    assert len({k.name for k in ORGANIZATION_KINDS}) == len(ORGANIZATION_KINDS)
    assert len({k.name for k in PROJECT_KINDS}) == len(PROJECT_KINDS)
    shared = {k.name for k in ORGANIZATION_KINDS} & {k.name for k in PROJECT_KINDS}
    assert shared == {"spend_limit", "spend_alert"}
    for name in shared:
        assert kind_for(name, "organization").scope == "organization"
        assert kind_for(name, "project").scope == "project"
    with pytest.raises(KeyError):
        kind_for("project_user", "organization")


def test_the_audit_event_maps_are_derived_from_the_kinds() -> None:
    for kind in ALL_KINDS:
        if kind.audit_event_types:
            assert set(kind.audit_event_types) <= set(EVENT_TYPES_BY_KIND[kind.name])
        elif kind.name not in EVENT_TYPES_BY_KIND:
            assert kind.name in KINDS_WITHOUT_EVENTS
    assert EVENT_TYPES_BY_KIND["project"][0] == "project.created"
    assert set(ALL_EVENT_TYPES) == {t for types in EVENT_TYPES_BY_KIND.values() for t in types}


def test_declared_event_types_exist_in_the_official_spec() -> None:
    enum = set(require_spec_document()["components"]["schemas"]["AuditLogEventType"]["enum"])
    for kind in ALL_KINDS:
        allowed = enum | SDK_ONLY_EVENT_TYPES.get(kind.name, set())
        assert set(kind.audit_event_types) <= allowed, (kind.key, sorted(set(kind.audit_event_types) - allowed))


def test_the_sdk_only_event_types_are_still_missing_from_the_spec() -> None:
    """When the pinned spec gains them, they are checked like every other and the exception goes."""
    enum = set(require_spec_document()["components"]["schemas"]["AuditLogEventType"]["enum"])
    sdk_only = {t for types in SDK_ONLY_EVENT_TYPES.values() for t in types}
    assert not sdk_only & enum, sorted(sdk_only & enum)
    assert set(SDK_EVENT_TYPES) == SDK_ONLY_EVENT_TYPES["external_storage"]


def test_enforcement_groups_are_the_enforcement_models_fields() -> None:
    assert get_args(EnforcementGroup) == ENFORCEMENT_GROUPS


def test_effective_merges_every_project_setting() -> None:
    """A field added to ProjectSettings is merged from project_defaults without an edit to `effective`."""
    defaults = ProjectDefaults.model_validate(
        {
            "data_retention": "zero_data_retention",
            "hosted_tools": {"web_search": False},
            "model_permissions": "unrestricted",
        }
    )
    desired = DesiredState(organization=OrganizationFile(project_defaults=defaults))
    project = ProjectFile.model_validate({"name": "P", "hosted_tools": {"mcp": False}})
    effective = desired.effective(project)
    assert effective.data_retention == "zero_data_retention"
    assert effective.hosted_tools == {"web_search": False, "mcp": False}, "tools merge tool by tool"
    assert effective.model_permissions == "unrestricted"
    assert set(type(effective).model_fields) == set(ProjectSettings.model_fields)
    for name in ProjectSettings.model_fields:
        if getattr(defaults, name) is not None:
            assert getattr(effective, name) is not None, f"{name} of project_defaults was dropped"
