"""Loading a `desired_state/` directory into a `DesiredState`, every problem positioned at file:line:col.

Each file goes through three stages, and each stage only collects problems, it never lets an exception out:

1. read (`reading.py`): a size cap, then strict UTF-8 (a binary or mis-encoded file is a problem at the
   offending byte);
2. parse (`yamlparse.py`): YAML 1.2 with positions, refusing duplicate keys, tags and documents too deep or
   too large; the result is plain Python values and a table of positions keyed by the path of each value;
3. validate (`validation_errors.py`): the strict, closed pydantic models of `schema.py`, each error mapped
   back onto a position and rewritten for a person (what is allowed, and the closest allowed value).

Then across files, here: a project name or id declared twice. Everything about the format comes from the
models (field names, enums, which values are mappings or lists), so a field added to a model needs no change
in any of these modules.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from pathlib import Path
from typing import Final, TextIO

from pydantic import BaseModel

from datacontrols.desired.certificates import read_certificates
from datacontrols.desired.lookalikes import mixed_script, skeleton
from datacontrols.desired.policy_check import policy_problems
from datacontrols.desired.reading import MAX_FILE_BYTES, FileProblem, Position, read_text
from datacontrols.desired.schema import DesiredState, OrganizationFile, ProjectFile
from datacontrols.desired.validation_errors import validate
from datacontrols.desired.yamlparse import MAX_DEPTH, MAX_VALUES, Parsed, parse_yaml
from datacontrols.errors import ConfigError, DesiredStateError, Problem
from datacontrols.redaction import redact

__all__ = [
    "IGNORED_IN_PROJECTS",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_VALUES",
    "ORGANIZATION_FILE",
    "PROJECTS_DIR",
    "PROJECT_SUFFIXES",
    "load_desired_state",
    "print_warnings",
]

ORGANIZATION_FILE: Final = "organization.yaml"
PROJECTS_DIR: Final = "projects"
PROJECT_SUFFIXES: Final = (".yaml", ".yml")
IGNORED_IN_PROJECTS: Final = frozenset({"README.md"})


def load_desired_state(directory: str | Path) -> DesiredState:
    """Load and validate `directory` (organization.yaml, projects/*.yaml); raise on any problem.

    Raises ConfigError when `directory` is not a directory, and DesiredStateError listing every problem in
    every file when any file is invalid. `DesiredState.sources` maps each project name to its file, relative
    to `directory` with forward slashes (e.g. `projects/support-bot.yaml`), stable whatever the cwd.
    """
    root = Path(directory)
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a directory"
        raise ConfigError(f"desired-state directory {root.as_posix()!r} {what}")
    loader = _Loader(root)
    state = loader.load()
    if loader.problems:
        raise DesiredStateError(loader.problems)
    return state


def print_warnings(desired: DesiredState, stream: TextIO | None = None) -> None:
    """The desired state's warnings, one `warning: ...` line each, on stderr: valid, but worth a look."""
    for warning in desired.warnings:
        print(f"warning: {warning}", file=stream or sys.stderr)


# --------------------------------------------------------------------------------------------------------
# Walking the directory and checking across files


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.display_root = _display_path(root)
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.looks: dict[str, tuple[str, Position, str]] = {}  # project names by `skeleton`
        self.certificates: dict[str, str] = {}  # certificate name -> PEM, from the files organization.yaml names
        self.organization_parsed: Parsed | None = None

    def display(self, relative: str) -> str:
        return relative if self.display_root == "." else f"{self.display_root}/{relative}"

    def problem(self, relative: str, message: str, position: Position = (1, 1), field: str = "") -> None:
        line, col = position
        self.problems.append(Problem(self.display(relative), line, col, field, redact(message)))

    def load(self) -> DesiredState:
        organization = self.load_organization()
        projects: list[ProjectFile] = []
        sources: dict[str, str] = {}
        names: dict[str, tuple[str, Position, str]] = {}
        ids: dict[str, tuple[str, Position, str]] = {}
        checked: list[tuple[str, ProjectFile, Parsed]] = []  # for the policy, once every file is read
        for relative in self.project_files():
            project, parsed = self.load_file(relative, ProjectFile)
            if parsed is None:
                continue
            # Checked on the parsed data, so a clash is reported even in a file with other problems.
            unique = self.check_unique(relative, parsed, "name", names, "project name")
            self.check_unique(relative, parsed, "id", ids, "project id")
            if isinstance(project, ProjectFile) and unique:
                projects.append(project)
                sources[project.name] = relative
                checked.append((relative, project, parsed))
                self.check_lookalike(relative, parsed, project.name)
        if organization is not None:
            for found in policy_problems(organization, ORGANIZATION_FILE, self.organization_parsed, checked):
                self.problem(found.relative, found.message, found.position, found.field)
        return DesiredState(
            organization=organization or OrganizationFile(),
            projects=tuple(projects),
            sources=sources,
            warnings=tuple(self.warnings),
            certificates=self.certificates,
        )

    def check_lookalike(self, relative: str, parsed: Parsed, name: str) -> None:
        """Warn about a name that mixes scripts, or that looks like an earlier one without being it."""
        line, col = parsed.position(("name",))
        where = f"{self.display(relative)}:{line}:{col}: name"
        if (mixed := mixed_script(name)) is not None:
            self.warnings.append(redact(f"{where}: {name!r} {mixed}"))
        looks = skeleton(name)
        if looks in self.looks:
            first, (first_line, first_col), other = self.looks[looks]
            self.warnings.append(
                redact(
                    f"{where}: {name!r} looks like {other!r} ({self.display(first)}:{first_line}:{first_col}) "
                    "but is a different name (a letter from another script): they are two projects"
                )
            )
        else:
            self.looks[looks] = (relative, (line, col), name)

    def load_organization(self) -> OrganizationFile | None:
        if (self.root / "organization.yml").exists():
            self.problem("organization.yml", f"the organization file must be named {ORGANIZATION_FILE}")
        if not (self.root / ORGANIZATION_FILE).exists():
            return None
        organization, parsed = self.load_file(ORGANIZATION_FILE, OrganizationFile)
        self.organization_parsed = parsed
        if not isinstance(organization, OrganizationFile):
            return None
        if organization.organization.certificates and parsed is not None:
            located = parsed
            self.certificates = read_certificates(
                self.root,
                organization.organization.certificates,
                lambda name: located.position(("organization", "certificates", name, "file")),
                lambda message, at: self.problem(ORGANIZATION_FILE, message, at, "organization.certificates"),
            )
        return organization

    def project_files(self) -> list[str]:
        """Relative paths of the project files, sorted; anything else in projects/ is a problem."""
        directory = self.root / PROJECTS_DIR
        if not directory.exists():
            return []
        if not directory.is_dir():
            self.problem(PROJECTS_DIR, "must be a directory holding one YAML file per project")
            return []
        found: list[str] = []
        for entry in sorted(directory.iterdir(), key=lambda p: p.name):
            relative = f"{PROJECTS_DIR}/{entry.name}"
            if entry.name.startswith(".") or entry.name in IGNORED_IN_PROJECTS:
                continue
            if entry.is_dir():
                self.problem(relative, f"a directory; project files must sit directly in {PROJECTS_DIR}/")
            elif not entry.name.endswith(PROJECT_SUFFIXES):
                self.problem(
                    relative,
                    f"not a project file: files in {PROJECTS_DIR}/ must end in .yaml or .yml "
                    "(README.md and dotfiles are ignored)",
                )
            else:
                found.append(relative)
        return found

    def load_file(self, relative: str, model: type[BaseModel]) -> tuple[BaseModel | None, Parsed | None]:
        """Read, parse and validate one file, recording its problems. The model is None when the file is
        invalid; the parsed data is None when it is not even a YAML mapping."""
        problems: list[FileProblem] = []
        text = read_text(self.root / relative, problems, root=self.root)
        parsed = parse_yaml(text, problems, _empty_hint(model)) if text is not None else None
        validated = validate(parsed, model, problems) if parsed is not None else None
        for found in problems:
            self.problem(relative, found.message, found.position, found.field)
        return validated, parsed

    def check_unique(
        self, relative: str, parsed: Parsed, key: str, seen: dict[str, tuple[str, Position, str]], what: str
    ) -> bool:
        """Record the file's `key`, or report it here when an earlier file already declared the same value.
        Values are compared as the model sees them (whitespace stripped); a non-text value is skipped (the
        model reports it)."""
        raw = parsed.data.get(key)
        if not isinstance(raw, str) or not raw.strip():
            return True
        value = raw.strip()
        position = parsed.position((key,))
        # Names are compared as a person reads them (`Support Bot`, `support bot` and `Ｓupport Bot` are one
        # project); ids exactly, as the API does.
        folded = unicodedata.normalize("NFKC", value).casefold() if key == "name" else value
        if folded in seen:
            first, (line, col), original = seen[folded]
            alike = f" (the same as {original!r}: names are compared ignoring case and look-alike forms)"
            alike = alike if original != value else ""
            self.problem(
                relative,
                f"duplicate {what} {value!r}{alike}; already declared in {self.display(first)}:{line}:{col}",
                position,
                key,
            )
            return False
        seen[folded] = (relative, position, value)
        return True


def _display_path(path: Path) -> str:
    """`path` relative to the cwd when it lies under it, else as given; forward slashes."""
    absolute = os.path.abspath(path)
    cwd = os.path.abspath(os.getcwd())
    if absolute == cwd:
        return "."
    if absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        return Path(os.path.relpath(absolute, cwd)).as_posix()
    return path.as_posix()


def _empty_hint(model: type[BaseModel]) -> str:
    required = [name for name, info in model.model_fields.items() if info.is_required()]
    if required:
        return f"a {_kind(model)} needs at least `{required[0]}: ...`"
    return f"write `{{}}` for all defaults, or delete the {_kind(model)}"


def _kind(model: type[BaseModel]) -> str:
    return "project file" if model is ProjectFile else "organization file" if model is OrganizationFile else "file"
