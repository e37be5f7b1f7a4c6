"""Saved plans: `reconcile --dry-run --out plan.json`, then `reconcile apply plan.json`.

A reviewed plan must be the applied plan. The file records what the plan was computed from; `apply` re-reads
live state, re-plans, and goes on only when nothing moved (octoDNS's `--checksum`, Terraform's "saved plan is
stale"). There is no way to apply the stored changes blindly: their ids are not even in the file.

The file (JSON, `kind: openai-datacontrols.saved-plan`, `format_version: 1`):

    tool_version      the openai-datacontrols version that made it; another version refuses it
    created_at        UTC, ISO 8601; older than `--max-plan-age` (default 1h) is refused
    base_url          the Admin API it was planned against
    desired_digest    sha256 of the canonical desired state: every file's parsed content, projects sorted by
                      name, independent of file names, file order, comments, formatting and the cwd
    observed_digest   sha256 of everything read from the organization (`observed_digest()`): like
                      `Observed.digest()`, except that a dataclass field declared `compare=False` (the time
                      a value was read, e.g. the key inventory's `now`) is left out: when something was read
                      is not what was read. A key gone stale since then changes the plan, which is compared
                      too.
    plan_digest       `Plan.digest()` of the plan as printed (after --no-removals and protected projects)
    options           the flags that shape the plan (`no_removals`, the `target` projects), replayed by apply
    plan              plan JSON v1, for people and tools that read the file
    desired_index     "organization.yaml" / "project/<name>" -> sha256 prefix of that part of the desired state
    observed_index    "project/<id>", "<project id>/<kind>", "organization/<kind>", "unread/<project name>"
                      -> sha256 prefix of what was read there
    project_names     project id -> name, so that a project that has gone can still be named

The indexes hold hash prefixes, never values: they exist to say *what* moved. The file never holds a secret
(the plan does not hold any, and the text is passed through `redact` before it is written anyway).

`moved()` is pure: given the saved plan and a fresh reading it returns one line per thing that moved; an
empty list means the plan may be applied.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from datacontrols import __version__
from datacontrols.durations import format_duration, parse_duration
from datacontrols.errors import ConfigError
from datacontrols.files import read_text, write_text_atomically
from datacontrols.plan import Plan, plan_json_digest
from datacontrols.redaction import redact
from datacontrols.target import EVERYTHING, Target

if TYPE_CHECKING:
    from datacontrols.desired.schema import DesiredState
    from datacontrols.engine import Observed

__all__ = [
    "DEFAULT_MAX_PLAN_AGE",
    "FILE_KIND",
    "FORMAT_VERSION",
    "SavedPlan",
    "canonical_digest",
    "desired_digest",
    "desired_index",
    "format_duration",
    "make_saved_plan",
    "moved",
    "observed_digest",
    "observed_index",
    "parse_duration",
    "read_saved_plan",
    "write_saved_plan",
]

FILE_KIND: Final = "openai-datacontrols.saved-plan"
FORMAT_VERSION: Final = 1
DEFAULT_MAX_PLAN_AGE: Final = timedelta(hours=1)
_PREFIX: Final = 16  # hex characters of an index hash: plenty to tell versions apart, too short to matter
_FUTURE_SLACK: Final = timedelta(minutes=5)  # clocks differ a little between the CI runner and the applier
_ORGANIZATION_FILE: Final = "organization.yaml"
_UNREAD_NOW: Final = "could not read project"


# --- digests and indexes ----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON-able copy of an observed or desired value: models dumped, dataclasses and sets opened up."""
    if hasattr(value, "model_dump"):
        return _plain(value.model_dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Fields outside the value's equality (compare=False: when it was read) are outside its digest too.
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.compare}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True, default=str))
    return value


def canonical_digest(value: Any) -> str:
    """sha256 of the canonical JSON of a value (keys sorted, no whitespace)."""
    text = json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _short(value: Any) -> str:
    return canonical_digest(value)[:_PREFIX]


def _desired_parts(desired: DesiredState) -> dict[str, Any]:
    # `exclude_unset`: absent and explicitly null mean different things (external_key_id: absent = not
    # managed, null = no key), so what the files say is digested, not what the defaults make of it.
    parts: dict[str, Any] = {_ORGANIZATION_FILE: desired.organization.model_dump(mode="json", exclude_unset=True)}
    for project in desired.projects:
        parts[f"project/{project.name}"] = project.model_dump(mode="json", exclude_unset=True)
    return parts


def desired_digest(desired: DesiredState) -> str:
    """sha256 of the desired state's content; file names, order, comments and the cwd do not enter it."""
    return canonical_digest(_desired_parts(desired))


def desired_index(desired: DesiredState) -> dict[str, str]:
    return {key: _short(value) for key, value in sorted(_desired_parts(desired).items())}


def observed_digest(observed: Observed) -> str:
    """sha256 of everything read; equal digests mean nothing moved (see the module docstring)."""
    return canonical_digest(
        {
            "projects": sorted((p.model_dump(mode="json") for p in observed.projects), key=lambda p: str(p["id"])),
            "organization": observed.organization,
            "settings": observed.settings,
            "failures": observed.failures,
        }
    )


def observed_index(observed: Observed) -> dict[str, str]:
    index: dict[str, str] = {}
    for project in observed.projects:
        index[f"project/{project.id}"] = _short(project)
    for project_id, values in observed.settings.items():
        for kind, value in values.items():
            index[f"{project_id}/{kind}"] = _short(value)
    for kind, value in observed.organization.items():
        index[f"organization/{kind}"] = _short(value)
    for name, why in observed.failures.items():
        index[f"unread/{name}"] = _short(why)
    return dict(sorted(index.items()))


# --- the file ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedPlan:
    """A plan as saved by `--out`, with what it was computed from."""

    created_at: datetime
    tool_version: str
    base_url: str
    desired_digest: str
    observed_digest: str
    plan_digest: str
    plan: Mapping[str, Any]
    desired_index: Mapping[str, str] = field(default_factory=dict)
    observed_index: Mapping[str, str] = field(default_factory=dict)
    project_names: Mapping[str, str] = field(default_factory=dict)
    no_removals: bool = False
    target: Target = EVERYTHING

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": FILE_KIND,
            "format_version": FORMAT_VERSION,
            "tool_version": self.tool_version,
            "created_at": self.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "base_url": self.base_url,
            "desired_digest": self.desired_digest,
            "observed_digest": self.observed_digest,
            "plan_digest": self.plan_digest,
            "options": {"no_removals": self.no_removals, "target": self.target.to_json()},
            "plan": dict(self.plan),
            "desired_index": dict(self.desired_index),
            "observed_index": dict(self.observed_index),
            "project_names": dict(self.project_names),
        }

    @classmethod
    def from_json(cls, data: Any, source: str = "the plan file") -> SavedPlan:
        def bad(why: str) -> ConfigError:
            return ConfigError(f"{source} is not a saved plan of this tool: {why}")

        if not isinstance(data, dict) or data.get("kind") != FILE_KIND:
            raise bad(f"`kind` must be {FILE_KIND!r} (write one with reconcile --dry-run --out FILE)")
        if data.get("format_version") != FORMAT_VERSION:
            raise bad(f"format_version {data.get('format_version')!r} is not {FORMAT_VERSION}")
        try:
            created = datetime.fromisoformat(str(data["created_at"]).replace("Z", "+00:00"))
            if created.tzinfo is None:
                raise ValueError("created_at has no time zone")
            options = data.get("options") or {}
            return cls(
                created_at=created,
                tool_version=_text(data, "tool_version"),
                base_url=_text(data, "base_url"),
                desired_digest=_text(data, "desired_digest"),
                observed_digest=_text(data, "observed_digest"),
                plan_digest=_text(data, "plan_digest"),
                plan=_mapping(data, "plan"),
                desired_index=_mapping(data, "desired_index"),
                observed_index=_mapping(data, "observed_index"),
                project_names=_mapping(data, "project_names"),
                no_removals=bool(options.get("no_removals", False)),
                target=Target.from_json(options.get("target")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise bad(str(exc) if not isinstance(exc, KeyError) else f"{exc.args[0]} is missing") from None


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} must be text")
    return value


def _mapping(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise TypeError(f"{key} must be an object")
    return value


def make_saved_plan(
    desired: DesiredState,
    observed: Observed,
    plan: Plan,
    *,
    base_url: str,
    created_at: datetime,
    no_removals: bool = False,
    target: Target = EVERYTHING,
) -> SavedPlan:
    return SavedPlan(
        created_at=created_at,
        tool_version=__version__,
        base_url=base_url.rstrip("/"),
        desired_digest=desired_digest(desired),
        observed_digest=observed_digest(observed),
        plan_digest=plan.digest(),
        plan=plan.to_json(),
        desired_index=desired_index(desired),
        observed_index=observed_index(observed),
        project_names={p.id: p.name for p in observed.projects if p.name is not None},
        no_removals=no_removals,
        target=target,
    )


def write_saved_plan(path: Path, saved: SavedPlan) -> None:
    """Write atomically (a partly written plan must never be applied)."""
    text = redact(json.dumps(saved.to_json(), indent=2, sort_keys=True)) + "\n"
    write_text_atomically(path, text, f"the plan to {path}")


def read_saved_plan(path: Path) -> SavedPlan:
    text = read_text(path, f"plan file {path}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"plan file {path} is not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ConfigError(f"plan file {path} is nested too deeply to be a saved plan") from None
    except ValueError:  # an integer of thousands of digits (Python's int-to-str guard)
        raise ConfigError(f"plan file {path} holds a number too long to be a saved plan's") from None
    saved = SavedPlan.from_json(data, source=f"plan file {path}")
    # The changes a person reviewed are the file's `plan`; apply re-plans and compares with `plan_digest`.
    # Were the two allowed to differ, an edited file could show one set of changes and apply another.
    if plan_json_digest(saved.plan) != saved.plan_digest:
        raise ConfigError(
            f"plan file {path}: its changes do not match its plan_digest (the file was edited, or a secret "
            "was redacted from it); plan again with reconcile --dry-run --out FILE"
        )
    return saved


# --- what moved -------------------------------------------------------------------------------------------


def moved(
    saved: SavedPlan,
    *,
    desired: DesiredState,
    observed: Observed,
    plan: Plan,
    base_url: str,
    now: datetime,
    max_age: timedelta = DEFAULT_MAX_PLAN_AGE,
    tool_version: str = __version__,
) -> list[str]:
    """One line per reason the saved plan may not be applied; empty: apply `plan`, it is the saved one."""
    lines: list[str] = []
    if saved.tool_version != tool_version:
        lines.append(f"the plan was made by openai-datacontrols {saved.tool_version}; this is {tool_version}")
    if saved.base_url.rstrip("/") != base_url.rstrip("/"):
        lines.append(f"the plan was made against {saved.base_url}; this run uses {base_url.rstrip('/')}")
    age = now - saved.created_at
    if age > max_age:
        lines.append(
            f"the plan is {format_duration(age)} old, older than --max-plan-age {format_duration(max_age)} "
            f"(made at {saved.created_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)"
        )
    elif age < -_FUTURE_SLACK:
        lines.append(f"the plan's created_at ({saved.created_at.isoformat()}) is in the future")

    desired_moved = desired_digest(desired) != saved.desired_digest
    if desired_moved:
        found = _index_moves(saved.desired_index, desired_index(desired), _desired_words(desired))
        lines += [f"desired state: {line}" for line in found] or ["the desired state changed"]
    observed_moved = observed_digest(observed) != saved.observed_digest
    if observed_moved:
        names = {**saved.project_names, **{p.id: p.name for p in observed.projects if p.name is not None}}
        found = _index_moves(saved.observed_index, observed_index(observed), _observed_words(names))
        found = [line for line in found if not line.startswith(_UNREAD_NOW)]  # said below, with the reason
        lines += [f"live state: {line}" for line in found]
    # A project that cannot be read now cannot be shown to be unchanged, whatever the plan file says.
    lines += [f"live state: {_UNREAD_NOW} {name!r}: {why}" for name, why in sorted(observed.failures.items())]
    if observed_moved and not any(line.startswith("live state:") for line in lines):
        lines.append("the live state changed")
    if plan.digest() != saved.plan_digest and not (desired_moved or observed_moved):
        lines.append(f"the plan computed now ({plan.digest()[:12]}…) is not the saved plan ({saved.plan_digest[:12]}…)")
    return lines


def _index_moves(before: Mapping[str, str], after: Mapping[str, str], words: Any) -> list[str]:
    lines = []
    for key in sorted(set(before) | set(after)):
        if key not in after:
            lines.append(words(key, "gone"))
        elif key not in before:
            lines.append(words(key, "new"))
        elif before[key] != after[key]:
            lines.append(words(key, "changed"))
    return lines


def _desired_words(desired: DesiredState) -> Any:
    def words(key: str, how: str) -> str:
        if key == _ORGANIZATION_FILE:
            return f"{_ORGANIZATION_FILE} changed"
        name = key.removeprefix("project/")
        source = desired.sources.get(name)
        where = f" ({source})" if source else ""
        return {
            "gone": f"project {name!r} was removed",
            "new": f"project {name!r} was added{where}",
            "changed": f"project {name!r} changed{where}",
        }[how]

    return words


def _observed_words(names: Mapping[str, str]) -> Any:
    def project(project_id: str) -> str:
        name = names.get(project_id)
        return f"project {name!r} ({project_id})" if name else f"project {project_id}"

    def words(key: str, how: str) -> str:
        head, _, tail = key.partition("/")
        if head == "project":
            return {
                "gone": f"{project(tail)} is no longer listed",
                "new": f"{project(tail)} appeared",
                "changed": f"{project(tail)} changed (name, status, residency or external key)",
            }[how]
        if head == "organization":
            subject = f"the organization's {tail}"
        elif head == "unread":
            if how == "gone":
                return f"project {tail!r} can be read now but could not be then"
            return f"{_UNREAD_NOW} {tail!r}"
        else:
            subject = f"{tail} of {project(head)}"
        return {
            "gone": f"{subject} is no longer read",
            "new": f"{subject} is read now but was not",
            "changed": f"{subject} changed",
        }[how]

    return words
