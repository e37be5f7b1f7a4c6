"""Properties of the loader: whatever is in the files, the only failure is a DesiredStateError whose problems
all have a position; and valid data survives the trip through YAML unchanged."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from datacontrols.adminapi.permissions import HOSTED_TOOLS
from datacontrols.adminapi.projects import RESIDENCIES
from datacontrols.adminapi.retention import PROJECT_RETENTION_TYPES
from datacontrols.desired import ProjectFile, load_desired_state
from datacontrols.errors import DesiredStateError

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = [
    (REPO / "desired_state" / "organization.yaml").read_text(),
    *(path.read_text() for path in sorted((REPO / "desired_state" / "projects").glob("*.yaml"))),
]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of YAML syntax and of the format, so random text reaches deep into the parser and the validator.
TOKENS = [
    *"abc:-[]{}#&*!|>'\",?%@`\n\t\r ",
    "  ",
    "\n  ",
    "\n- ",
    ": ",
    "---\n",
    "...\n",
    "&a ",
    "*a",
    "<<: ",
    "!!str ",
    "!!int ",
    "!!binary ",
    "!!set ",
    "!x ",
    "~",
    "null",
    "on",
    "NO",
    "1e3",
    "0x1F",
    "2024-01-01",
    ".inf",
    "\u00e9",
    "\ufeff",
    "\x85",
    "\u2028",
    "name",
    "id",
    "residency",
    "status",
    "hosted_tools",
    "web_search",
    "model_permissions",
    "mode",
    "allow_list",
    "model_ids",
    "organization",
    "project_defaults",
    "data_retention",
    "unmanaged_projects",
]


def assert_clean(directory: Path) -> None:
    """Loading either succeeds or fails with positioned, one-line problems; nothing else may escape."""
    try:
        load_desired_state(directory)
    except DesiredStateError as err:
        assert err.problems
        for problem in err.problems:
            assert problem.line >= 1 and problem.col >= 1, problem
            assert problem.message and "\n" not in str(problem), problem


def write_and_check(project: bytes, organization: bytes | None = None) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "projects").mkdir()
        (root / "projects" / "p.yaml").write_bytes(project)
        if organization is not None:
            (root / "organization.yaml").write_bytes(organization)
        assert_clean(root)


@FUZZ
@given(st.binary(max_size=1500), st.binary(max_size=300))
def test_garbage_bytes_give_only_positioned_problems(project: bytes, organization: bytes) -> None:
    write_and_check(project, organization)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=80).map("".join))
def test_yaml_token_soup_gives_only_positioned_problems(text: str) -> None:
    write_and_check(text.encode("utf-8", "surrogatepass"), text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(
    st.sampled_from(EXAMPLES),
    st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 8), st.sampled_from(TOKENS)), min_size=1, max_size=6),
)
def test_mutated_examples_give_only_positioned_problems(text: str, edits: list[tuple[int, int, str]]) -> None:
    for offset, cut, insert in edits:
        at = offset % (len(text) + 1)
        text = text[:at] + insert + text[at + cut :]
    write_and_check(text.encode(), text.encode())


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["on", "NO", "yes", *RESIDENCIES, *HOSTED_TOOLS, "allow_list", "unrestricted"]),
)
keys = st.one_of(
    st.sampled_from([*ProjectFile.model_fields, "mode", "model_ids", *HOSTED_TOOLS, "organization"]),
    st.text(min_size=1, max_size=12),
)
nested = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=30,
)


def dump(data: Any, *, flow: bool = False) -> bytes:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = flow
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue().encode()


@FUZZ
@given(nested, st.booleans())
def test_random_nested_yaml_gives_only_positioned_problems(data: Any, flow: bool) -> None:
    write_and_check(dump(data, flow=flow), dump(data, flow=not flow))


# Names that show every character they hold: control, format, unassigned and separator characters other than
# the plain space are refused (look-alike names would plan a second project).
names = st.text(
    st.characters(
        codec="utf-8", exclude_categories=["Cc", "Cf", "Cs", "Cn", "Co", "Zl", "Zp", "Zs"], include_characters=" "
    ),
    min_size=1,
    max_size=40,
)
valid_projects = st.fixed_dictionaries(
    {"name": names.filter(lambda n: n.strip() == n and n != "")},
    optional={
        "id": st.from_regex(r"proj_[A-Za-z0-9]{6,24}", fullmatch=True),
        "residency": st.sampled_from(RESIDENCIES),
        "status": st.sampled_from(["active", "archived"]),
        "external_key_id": st.none() | st.from_regex(r"key_[a-z0-9]{4,12}", fullmatch=True),
        "data_retention": st.sampled_from(PROJECT_RETENTION_TYPES),
        "hosted_tools": st.dictionaries(st.sampled_from(HOSTED_TOOLS), st.booleans()),
        "model_permissions": st.one_of(
            st.just("unrestricted"),
            st.fixed_dictionaries(
                {
                    "mode": st.sampled_from(["allow_list", "deny_list"]),
                    "model_ids": st.lists(
                        st.from_regex(r"[a-z0-9][a-z0-9.\-]{0,15}", fullmatch=True), min_size=1, unique=True
                    ),
                }
            ),
        ),
    },
)


@FUZZ
@given(valid_projects, st.booleans())
def test_valid_projects_survive_the_trip_through_yaml(data: dict[str, Any], as_json: bool) -> None:
    # JSON is YAML 1.2 too; ruamel's own flow style is not used: it writes `{name: ?0}`, which it cannot read
    text = json.dumps(data, ensure_ascii=False).encode() if as_json else dump(data)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "projects").mkdir()
        (root / "projects" / "p.yaml").write_bytes(text)
        state = load_desired_state(root)
    assert state.projects == (ProjectFile.model_validate(data),)
    assert state.projects[0].manages_external_key == ("external_key_id" in data)
