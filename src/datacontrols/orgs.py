"""Several organizations in one repository: `orgs/NAME/`, each a whole desired state, picked with `--org NAME`.

    orgs/
      prod/     organization.yaml (identity: {default_project_id: ..., admin_key_env: OPENAI_ADMIN_KEY_PROD})
                projects/*.yaml
      staging/  organization.yaml, projects/

A repository holds either `desired_state/` (one organization) or `orgs/` (several). Which directory a command
reads is decided here, once, for every front end: an `orgs/` tree without `--org` is an error (a plan of the
wrong organization must not be one forgotten flag away), and so is `--org` where it cannot be honoured (no
`orgs/` tree, or a `--desired-state` naming another directory).

Two organizations must never be confused. Each organization of a tree names its own identity (its default
project's id, `datacontrols.identity`), so a key that reaches another organization is refused before any
write, and no two organizations of the tree may name the same one: a copied directory left unedited would
otherwise apply one organization's files to the other's live state. The key reference lives beside the
identity (`identity.admin_key_env`): the name of the variable, never the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from datacontrols.credentials import ADMIN_KEY_ENV
from datacontrols.desired import load_desired_state
from datacontrols.desired.loader import ORGANIZATION_FILE
from datacontrols.desired.reading import FileProblem, read_text
from datacontrols.desired.schema import DesiredState
from datacontrols.desired.yamlparse import parse_yaml
from datacontrols.errors import ConfigError

__all__ = [
    "DEFAULT_DESIRED_STATE",
    "ORGS_DIR",
    "DeclaredIdentity",
    "admin_key_variable",
    "all_organizations",
    "check_identities",
    "declared_identity",
    "organization_names",
    "pick_desired_state",
    "pick_export_dir",
]

ORGS_DIR: Final = Path("orgs")  # relative to the working directory, as `desired_state/` is
DEFAULT_DESIRED_STATE: Final = Path("desired_state")


@dataclass(frozen=True)
class DeclaredIdentity:
    """What an organization.yaml says about its organization, read without validating the rest."""

    default_project_id: str | None
    admin_key_env: str | None


def organization_names(orgs: Path = ORGS_DIR) -> list[str]:
    """The organizations of an `orgs/` tree: its subdirectories, sorted (dot directories are not ones)."""
    if not orgs.is_dir():
        return []
    return sorted(p.name for p in orgs.iterdir() if p.is_dir() and not p.name.startswith("."))


def pick_desired_state(desired_state: Path | None, org: str | None, *, orgs: Path = ORGS_DIR) -> Path:
    """The desired-state directory a command reads, from `--desired-state` (None: not given) and `--org`.

    Raises a one-line `ConfigError` for an `orgs/` tree without `--org`, an unknown name, `--org` in a
    repository of one organization, `--org` with a `--desired-state` elsewhere, and for a tree whose
    organizations do not each name their own identity.
    """
    if org is None:
        if desired_state is not None:
            return desired_state
        if orgs.is_dir():
            raise ConfigError(
                f"this repository holds several organizations ({orgs.as_posix()}/: {_listed(orgs)}); "
                f"pass --org NAME to pick one (validate: --all-orgs checks them all)"
            )
        return DEFAULT_DESIRED_STATE
    chosen = _known(org, orgs)
    if desired_state is not None and desired_state.resolve() != chosen.resolve():
        raise ConfigError(
            f"--org {org} reads {chosen.as_posix()}, but --desired-state names {desired_state.as_posix()}; "
            "nothing was read: pass one of them"
        )
    check_identities(orgs, only=org)
    return chosen


def pick_export_dir(out: Path | None, org: str | None, *, orgs: Path = ORGS_DIR) -> Path:
    """Where `reconcile export` writes: `--out DIR`, or `orgs/NAME/` for `--org NAME` (which may be new)."""
    if org is None:
        if out is None:
            raise ConfigError("export needs --out DIR (or --org NAME in a repository of several organizations)")
        return out
    if not orgs.is_dir():
        raise ConfigError(
            f"--org {org}: this repository holds one organization (there is no {orgs.as_posix()}/ directory); "
            "drop --org, or create orgs/NAME/ for each organization"
        )
    _check_name(org, orgs)
    chosen = orgs / org
    if out is not None and out.resolve() != chosen.resolve():
        raise ConfigError(
            f"--org {org} writes {chosen.as_posix()}, but --out names {out.as_posix()}; nothing was written: "
            "pass one of them"
        )
    return chosen


def all_organizations(orgs: Path = ORGS_DIR) -> list[tuple[str, Path]]:
    """Every organization of the tree with its directory, after the identity check; an error without a tree."""
    names = organization_names(orgs)
    if not names:
        raise ConfigError(
            f"--all-orgs: there is no organization under {orgs.as_posix()}/; it checks a repository of "
            "several organizations (orgs/NAME/organization.yaml)"
        )
    check_identities(orgs)
    return [(name, orgs / name) for name in names]


def check_identities(orgs: Path = ORGS_DIR, *, only: str | None = None) -> None:
    """Refuse a tree where an organization (`only`, else every one) names no identity, or one another names.

    Only organization.yaml's identity is read here: a sibling's other mistakes are its own run's to report,
    so a broken staging file does not stop a production run.
    """
    declared = {name: declared_identity(orgs / name) for name in organization_names(orgs)}
    for name in [only] if only is not None else list(declared):
        pin = declared[name].default_project_id
        where = (orgs / name / ORGANIZATION_FILE).as_posix()
        if pin is None:
            load_desired_state(orgs / name)  # an unreadable file: its own problems, with their positions
            raise ConfigError(
                f"{where} does not name its organization: in a repository of several organizations each one "
                f"must, so add identity.default_project_id (reconcile export --org {name} --merge writes it)"
            )
        if twins := [other for other, theirs in declared.items() if other != name and theirs.default_project_id == pin]:
            raise ConfigError(
                f"{where} and {(orgs / twins[0] / ORGANIZATION_FILE).as_posix()} name the same organization "
                f"(default project {pin}); nothing was read: each directory must hold its own organization's "
                "identity (reconcile export --org NAME --merge writes the right one)"
            )


def declared_identity(directory: Path) -> DeclaredIdentity:
    """The identity in `directory/organization.yaml`, read leniently (None for what is absent or unreadable)."""
    path = directory / ORGANIZATION_FILE
    if not path.is_file():
        return DeclaredIdentity(None, None)
    problems: list[FileProblem] = []
    text = read_text(path, problems)
    parsed = parse_yaml(text, problems, "") if text is not None else None
    data: Any = parsed.data if parsed is not None else None
    identity = data.get("identity") if isinstance(data, dict) else None
    if not isinstance(identity, dict):
        return DeclaredIdentity(None, None)
    pin, variable = identity.get("default_project_id"), identity.get("admin_key_env")
    return DeclaredIdentity(
        pin.strip() if isinstance(pin, str) and pin.strip() else None,
        variable if isinstance(variable, str) and variable else None,
    )


def admin_key_variable(desired: DesiredState | None) -> str:
    """The environment variable the admin key comes from when no --admin-key-file is given."""
    identity = desired.organization.identity if desired is not None else None
    return (identity.admin_key_env if identity is not None else None) or ADMIN_KEY_ENV


def _known(org: str, orgs: Path) -> Path:
    if not orgs.is_dir():
        raise ConfigError(
            f"--org {org}: this repository holds one organization (there is no {orgs.as_posix()}/ directory); "
            "drop --org"
        )
    _check_name(org, orgs)
    if org not in organization_names(orgs):
        raise ConfigError(f"--org {org}: no such organization; {orgs.as_posix()}/ holds: {_listed(orgs)}")
    return orgs / org


def _check_name(org: str, orgs: Path) -> None:
    # A name is one directory below orgs/, never a path out of it.
    if not org or org.startswith(".") or "/" in org or "\\" in org:
        raise ConfigError(f"--org {org!r} must be the name of a directory in {orgs.as_posix()}/, not a path")


def _listed(orgs: Path) -> str:
    return ", ".join(organization_names(orgs)) or "no organization yet"
