"""The policy check of the loader: each breach of `policy:` by a project's effective settings, positioned.

A value a project sets itself is reported in its file; a value it inherits from `project_defaults` is
reported once in organization.yaml, at the default, naming every project that inherits it (a bad default is
one line to fix, however many projects follow it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from datacontrols.desired.policy import Breach, Policy, declared_breaches
from datacontrols.desired.reading import Position
from datacontrols.desired.schema import DesiredState, OrganizationFile, ProjectFile
from datacontrols.desired.wording import dotted
from datacontrols.desired.yamlparse import Parsed

__all__ = ["PolicyProblem", "policy_problems"]


@dataclass(frozen=True)
class PolicyProblem:
    relative: str  # the file, relative to the desired-state directory
    position: Position
    field: str  # `policy.<rule>`
    message: str


def policy_problems(
    organization: OrganizationFile,
    organization_file: str,
    organization_parsed: Parsed | None,
    projects: Sequence[tuple[str, ProjectFile, Parsed]],
) -> list[PolicyProblem]:
    """Every breach of the organization's policy by the projects given (file, model, parsed data)."""
    policy = organization.policy
    if policy is None:
        return []
    state = DesiredState(organization=organization, projects=tuple(project for _, project, _ in projects))
    found: list[PolicyProblem] = []
    inherited: dict[tuple[str, tuple[str | int, ...], str], list[str]] = {}
    for relative, project, parsed in projects:
        for breach in _breaches(policy, organization, state, project):
            text = f"{dotted(breach.loc)}: {breach.message}"
            if breach.inherited:
                inherited.setdefault((breach.rule, breach.loc, text), []).append(project.name)
            else:
                found.append(PolicyProblem(relative, parsed.position(breach.loc), f"policy.{breach.rule}", text))
    for (rule, loc, text), names in inherited.items():
        position = organization_parsed.position(("project_defaults", *loc)) if organization_parsed else (1, 1)
        who = ", ".join(repr(name) for name in names)
        message = f"project_defaults.{text}; inherited by {who}"
        found.append(PolicyProblem(organization_file, position, f"policy.{rule}", message))
    return found


def _breaches(
    policy: Policy, organization: OrganizationFile, state: DesiredState, project: ProjectFile
) -> list[Breach]:
    if project.status != "active":
        return []  # an archived project sends no traffic: nothing of it is held to the policy
    return declared_breaches(
        policy,
        project,
        organization.project_defaults,
        state.effective(project),
        residency=project.residency,
        organization_retention=organization.organization.data_retention,
    )
