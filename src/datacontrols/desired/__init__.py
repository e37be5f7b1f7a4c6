"""The desired state: the YAML files under `desired_state/`, their models, their loader and their JSON Schema."""

from __future__ import annotations

from datacontrols.desired.jsonschema import desired_state_json_schema
from datacontrols.desired.loader import load_desired_state, print_warnings
from datacontrols.desired.schema import (
    DesiredState,
    ModelPolicy,
    OrganizationFile,
    OrganizationSettings,
    ProjectDefaults,
    ProjectFile,
    ProjectSettings,
)

__all__ = [
    "DesiredState",
    "ModelPolicy",
    "OrganizationFile",
    "OrganizationSettings",
    "ProjectDefaults",
    "ProjectFile",
    "ProjectSettings",
    "desired_state_json_schema",
    "load_desired_state",
    "print_warnings",
]
