"""`reconcile export --out DIR`: the live organization written as a desired state, to start from what exists.

It writes `DIR/organization.yaml` and `DIR/projects/<name>.yaml` for every live active project, from live
state, with every control that has an exporter, so that planning the written files against the same
organization gives an empty plan (the round-trip; tested against the demo organization). Archived projects
are left out (archive is one-way; they need no file) and `unmanaged_projects: report` is written, so a
project created later is reported, never archived.

**Each kind exports its own part.** A kind that declares `exports = True` implements

    def export(self, observed: Any) -> Mapping[str, Any] | None

returning the desired-state keys for the value it observed (`None`: nothing to write), or raising
`NotExportable(reason)` when the live value cannot be written as a valid file (it is left out, with a note).
Project kinds' keys go into the project file; organization kinds' keys into `organization:`. A kind that
does not export is not read and is named in a note, so a new control shows up as a gap rather than
silently. A kind may also write files its entries name (`export_files`: each organization certificate's PEM
in `certificates/`), read only by export and written before the YAML. Every project file also pins `id`,
states `residency` as reported, and manages `external_key_id` (null when there is none).

Files: keys in a stable order (name, id, residency, external_key_id, then the kinds in registry order), a
`yaml-language-server` header line whose `$schema` resolves wherever the files are (see `_schema_home`),
YAML 1.2, kebab-case file names from the project name (`Support Bot` -> `support-bot.yaml`; a clash gets
`-2`, `-3` in (name, id) order). Nothing is overwritten without `force` or `merge`: without them, a directory
that already holds organization.yaml or any project file is refused before any request. With `force`, files
this export writes are replaced; with `merge`, the live values are folded into the existing files, keeping
their comments (`export_merge`). Either way other project files are left and named in a note (they would
still be part of the desired state). Every file is rendered before the first is written, and what was
written is loaded back with the real loader before returning: an export that would not load is an error.

`--project NAME` (repeatable) adds those live projects to a desired state that exists: only their files are
read and written (the project list and each one's own reads; nothing of the organization), organization.yaml
is left as it is, and only those files must be new (or `force`). A project another file already describes
is refused: it would be two files for one project.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from datacontrols.desired.jsonschema import SCHEMA_FILES, write_schema_files
from datacontrols.desired.loader import ORGANIZATION_FILE, PROJECT_SUFFIXES, PROJECTS_DIR, load_desired_state
from datacontrols.desired.schema import DesiredState
from datacontrols.engine import DEFAULT_REGISTRY, Registry
from datacontrols.errors import ConfigError
from datacontrols.export_merge import merge_document
from datacontrols.files import write_text_atomically
from datacontrols.identity import default_project_id
from datacontrols.kinds.base import Kind, NotExportable
from datacontrols.orgs import declared_identity

if TYPE_CHECKING:
    from datacontrols.adminapi import AdminApi
    from datacontrols.adminapi.projects import Project

__all__ = [
    "ExportResult",
    "NotExportable",
    "check_target",
    "export_organization",
    "exporter_of",
    "file_stems",
    "project_document",
    "render_yaml",
]

Exporter = Callable[[Any], Mapping[str, Any] | None]

_SCHEMA_DIR: Final = Path("docs") / "schema"
_BESIDE: Final = "schema"  # out/schema/, when the files carry their own schema
_SCHEMA_MARK: Final = "# yaml-language-server: $schema="
_MAX_STEM: Final = 60


def exporter_of(kind: Kind) -> Exporter | None:
    """The kind's own `export`, when it declares one (`exports`); else None: the kind is not exported."""
    return kind.export if kind.exports else None


# --- documents ----------------------------------------------------------------------------------------------


def project_document(project: Project, parts: list[Mapping[str, Any]]) -> dict[str, Any]:
    """A project file's content: the project's own attributes, then each kind's part in registry order."""
    document: dict[str, Any] = {"name": project.name if project.name else project.id, "id": project.id}
    if project.effective_residency:
        document["residency"] = project.effective_residency
    document["external_key_id"] = project.external_key_id
    for part in parts:
        for key, value in part.items():
            # Several kinds may write under one key (members: users, groups, service_accounts): merge a level.
            previous = document.get(key)
            if isinstance(previous, Mapping) and isinstance(value, Mapping):
                document[key] = {**previous, **value}
            else:
                document[key] = value
    return document


def file_stems(projects: list[Project]) -> dict[str, str]:
    """project id -> file stem: kebab-case of the name, clashes numbered in (name, id) order."""
    stems: dict[str, str] = {}
    taken: set[str] = set()
    for project in sorted(projects, key=lambda p: (p.name or "", p.id)):
        base = _kebab(project.name or project.id)
        stem, number = base, 1
        while stem in taken:
            number += 1
            stem = f"{base}-{number}"
        taken.add(stem)
        stems[project.id] = stem
    return stems


def _kebab(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:_MAX_STEM].strip("-")
    return stem or "project"


def render_yaml(document: Mapping[str, Any], header: str) -> str:
    yaml = _round_trip()
    buffer = io.StringIO()
    # A round-trip node is dumped as it is (its comments are a person's); anything else as a plain mapping.
    yaml.dump(document if isinstance(document, CommentedMap) else dict(document), buffer)
    return header + buffer.getvalue()


def _round_trip() -> YAML:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 4096  # one value per line, however long
    yaml.indent(mapping=2, sequence=4, offset=2)
    # `external_key_id: null` says "no key, managed"; an empty value reads like a mistake.
    yaml.representer.add_representer(type(None), _null)
    return yaml


def _null(representer: Any, _: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _schema_home(out: Path) -> Path | None:
    """Where the `$schema` references point: this repository's maintained docs/schema when the current
    directory holds it and `out` is inside it; None: schema files written beside the files, in
    `out/schema/`, so the references resolve in any repository (nothing is published to point a URL at)."""
    cwd = Path.cwd()
    home = cwd / _SCHEMA_DIR
    inside = out.resolve().is_relative_to(cwd)
    return home if inside and all((home / name).is_file() for name in SCHEMA_FILES.values()) else None


def _schema_line(target: Path, schema: Path) -> str:
    relative = os.path.relpath(schema.resolve(), target.parent.resolve()).replace(os.sep, "/")
    return f"{_SCHEMA_MARK}{relative}"


def _schema_name(path: Path, out: Path) -> str:
    return SCHEMA_FILES["organization" if path == out / ORGANIZATION_FILE else "project"]


def _header(schema_line: str) -> str:
    return (
        f"{schema_line}\n"
        "#\n"
        "# Written by `reconcile export` from the live organization. Review it before committing: a setting\n"
        "# deleted from this file is no longer managed.\n\n"
    )


def _render(path: Path, document: Mapping[str, Any], schema: Path, merge: bool, notes: list[str]) -> str:
    """The file's new text: written anew, or (`merge`, the file exists) the live values folded into it."""
    line = _schema_line(path, schema)
    if not (merge and path.is_file()):
        return render_yaml(document, _header(line))
    try:
        existing = _round_trip().load(path.read_text(encoding="utf-8"))
    except Exception as exc:  # any YAML error: the file is the user's; say which and write nothing
        raise ConfigError(
            f"{path} cannot be merged, it is not valid YAML ({type(exc).__name__}); nothing was written"
        ) from None
    merged, kept = merge_document(existing, document)
    if kept:
        notes.append(f"{path.name}: kept as written (export does not write them, or live has none): {', '.join(kept)}")
    text = render_yaml(merged, "")
    lines = text.splitlines(keepends=True)
    for index, current in enumerate(lines):
        if current.startswith(_SCHEMA_MARK):
            lines[index] = line + "\n"  # a reference that resolves from where the file now is
            return "".join(lines)
    return f"{line}\n{text}"


# --- the command --------------------------------------------------------------------------------------------


@dataclass
class ExportResult:
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    desired: DesiredState | None = None  # the written files, loaded back
    schemas: list[Path] = field(default_factory=list)  # schema files written beside them, if any


def _existing(out: Path) -> list[Path]:
    found = [out / ORGANIZATION_FILE] if (out / ORGANIZATION_FILE).exists() else []
    projects = out / PROJECTS_DIR
    if projects.is_dir():
        found += sorted(p for p in projects.iterdir() if p.suffix in PROJECT_SUFFIXES)
    return found


def check_target(out: Path, *, force: bool, adding: bool = False, merge: bool = False) -> None:
    """Refuse, before any request, to write over an existing desired state without `force` or `merge`
    (`adding`: a `--project` export, which adds files to one; its own files are checked once their names are
    known)."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} exists and is not a directory")
    if force and merge:
        raise ConfigError("--force and --merge contradict each other (replace the files, or fold into them); pass one")
    if adding or merge:
        return
    existing = _existing(out)
    if existing and not force:
        shown = ", ".join(p.relative_to(out).as_posix() for p in existing[:3])
        more = f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        raise ConfigError(
            f"--out {out} already holds a desired state ({shown}{more}); nothing was written. "
            "Pass --merge to fold the live values into them (comments kept), --force to overwrite them, "
            "or choose an empty directory"
        )


async def export_organization(
    api: AdminApi,
    out: Path,
    *,
    force: bool = False,
    merge: bool = False,
    registry: Registry = DEFAULT_REGISTRY,
    only: Sequence[str] = (),
    also: Sequence[str] = (),
) -> ExportResult:
    """Read the organization and write it as a desired state under `out` (see the module docstring);
    `only`: the names of the live projects to add, and nothing else; `also`: the names of kinds exported
    only when asked (`export_by_default = False`) to export this time."""
    check_target(out, force=force, adding=bool(only), merge=merge)
    result = ExportResult()
    wanted = [k for k in (*registry.organization, *registry.project) if k.export_by_default or k.name in also]
    org_kinds = [
        (k, e) for k in registry.organization if k in wanted and (e := exporter_of(k)) is not None and not only
    ]
    project_kinds = [(k, e) for k in registry.project if k in wanted and (e := exporter_of(k)) is not None]
    missing = list(dict.fromkeys(k.name for k in (*registry.organization, *registry.project) if not exporter_of(k)))
    if unasked := [k.name for k in (*registry.organization, *registry.project) if k.exports and k not in wanted]:
        result.notes.append(f"not exported unless asked (each later plan would read them too): {', '.join(unasked)}")

    every = [p for p in await api.projects.list(include_archived=False) if not p.archived]
    stems = file_stems(every)  # of the whole organization: a file name does not depend on what is exported
    live = _chosen(every, only, out, stems, replace=force or merge) if only else every
    with api.transport.read_once.open():  # kinds that read the same listing share one request
        organization_values, project_values = await asyncio.gather(
            asyncio.gather(*(kind.observe(api) for kind, _ in org_kinds)),
            asyncio.gather(*(asyncio.gather(*(kind.observe(api, p) for kind, _ in project_kinds)) for p in live)),
        )

    # Files a kind's entries name (certificates' PEM), read now: only export needs them.
    with_files = await asyncio.gather(
        *(kind.export_files(api, value) for (kind, _), value in zip(org_kinds, organization_values, strict=True))
    )
    organization_values = [value for value, _ in with_files]
    beside = {out / relative: text for _, files in with_files for relative, text in files.items()}
    _check_beside(beside, replace=force or merge)

    organization: dict[str, Any] = {}
    for (kind, exporter), value in zip(org_kinds, organization_values, strict=True):
        organization.update(_exported(kind, exporter, value, "the organization", result.notes))
    org_document: dict[str, Any] = {}
    if (pin := default_project_id(live)) is not None:
        org_document["identity"] = {"default_project_id": pin}  # the pin: another organization's key is refused
        if variable := declared_identity(out).admin_key_env:
            # The key reference is the repository's, not the organization's: --force must not drop it, or the
            # next run would quietly fall back to OPENAI_ADMIN_KEY.
            org_document["identity"]["admin_key_env"] = variable
    if organization:
        org_document["organization"] = organization
    org_document["unmanaged_projects"] = "report"

    documents: list[tuple[Path, dict[str, Any]]] = []
    homes = _homes(live, out, stems, keep_files=force or merge)
    for project, values in zip(live, project_values, strict=True):
        where = f"project {project.name or project.id!r} ({project.id})"
        parts = [
            _exported(kind, exporter, value, where, result.notes)
            for (kind, exporter), value in zip(project_kinds, values, strict=True)
        ]
        documents.append((homes[project.id], project_document(project, parts)))
    documents.sort(key=lambda item: item[0].name)

    if not only:
        documents.insert(0, (out / ORGANIZATION_FILE, org_document))
    home = _schema_home(out)
    schemas = home or out / _BESIDE
    # Every file rendered (and every merge's read done) before the first write.
    texts = [
        (path, _render(path, document, schemas / _schema_name(path, out), merge, result.notes))
        for path, document in documents
    ]
    (out / PROJECTS_DIR).mkdir(parents=True, exist_ok=True)
    if home is None:
        result.schemas = write_schema_files(schemas)  # the installed version's schema, beside the files
    for path, text in sorted(beside.items()):  # before the YAML that names them
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, text)
        result.written.append(path)
    for path, text in texts:
        write_text_atomically(path, text)
        result.written.append(path)

    written = set(result.written)
    result.notes += (
        []
        if only
        else [
            f"{p.relative_to(out).as_posix()} was not written by this export and is still part of the desired state"
            for p in _existing(out)
            if p not in written
        ]
    )
    if missing:
        result.notes.append(f"not exported (these kinds have no exporter yet): {', '.join(missing)}")
    result.desired = load_desired_state(out)  # what was written must load; a DesiredStateError here is a bug
    return result


def _check_beside(files: Mapping[Path, str], *, replace: bool) -> None:
    """Refuse, before any write, to replace a different file a kind's entry would name (without `force` or
    `merge`: `replace`); the same content is written again harmlessly."""
    for path, text in sorted(files.items()):
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise ConfigError(f"{path} exists and is not a plain file; nothing was written")
        if not replace and path.is_file() and path.read_text(encoding="utf-8", errors="replace") != text:
            raise ConfigError(
                f"{path} exists with other content; nothing was written. Pass --force to overwrite it, or move it"
            )


def _chosen(
    every: list[Project], only: Sequence[str], out: Path, stems: Mapping[str, str], *, replace: bool
) -> list[Project]:
    """The live projects `--project` names, once each; refused before any other read when a name is not a live
    project, when its file exists (without `force` or `merge`: `replace`), or when another file of `out`
    describes it already."""
    by_name = {p.name: p for p in every if p.name}
    unknown = [name for name in only if name not in by_name]
    if unknown:
        listed = ", ".join(sorted(by_name)) or "none"
        raise ConfigError(f"--project {unknown[0]!r} is not a live project (live: {listed}); names match exactly")
    chosen = [by_name[name] for name in dict.fromkeys(only)]
    described = _described(out)
    for project in chosen:
        path = out / PROJECTS_DIR / f"{stems[project.id]}.yaml"
        elsewhere = described.get(project.name or "")
        if elsewhere is not None and elsewhere != path and not replace:  # --merge/--force write it there
            raise ConfigError(
                f"project {project.name!r} is already described by {elsewhere}; nothing was written"
            ) from None
        if path.exists() and not replace:
            raise ConfigError(
                f"{path} exists; nothing was written. Pass --merge to update it, or --force to overwrite it"
            )
    return chosen


def _homes(live: list[Project], out: Path, stems: Mapping[str, str], *, keep_files: bool) -> dict[str, Path]:
    """Project id -> the file it is written to: with `--merge` or `--force` (`keep_files`), the existing file
    that already describes it (by `id:`, else by `name:`), whatever it is called; else its own stem's. A
    repository names its files as it likes, and a second file for one project would not load."""
    by_id, by_name = (_described(out, "id"), _described(out)) if keep_files else ({}, {})
    return {
        p.id: by_id.get(p.id) or by_name.get(p.name or "") or out / PROJECTS_DIR / f"{stems[p.id]}.yaml" for p in live
    }


def _described(out: Path, key: str = "name") -> dict[str, Path]:
    """Project `name` (or `id`) -> the file of `out` that describes it (an unreadable file is left to the
    loader later)."""
    found: dict[str, Path] = {}
    for path in _existing(out):
        if path.name == ORGANIZATION_FILE or path.is_symlink() or not path.is_file():
            continue  # the loader refuses what is not a plain file, with its own message
        try:
            document = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        except Exception:
            continue
        if isinstance(document, dict) and isinstance(document.get(key), str):
            found.setdefault(document[key], path)
    return found


def _exported(kind: Kind, exporter: Exporter, value: Any, where: str, notes: list[str]) -> Mapping[str, Any]:
    try:
        return exporter(value) or {}
    except NotExportable as why:
        notes.append(f"{kind.name} of {where} was left out: {why}")
        return {}
