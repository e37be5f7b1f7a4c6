"""Loading desired_state/ directories: every broken fixture gives its exact message and position."""

from __future__ import annotations

from pathlib import Path

import pytest

from datacontrols.desired import DesiredState, ModelPolicy, OrganizationFile, ProjectFile, load_desired_state
from datacontrols.desired.loader import MAX_DEPTH, MAX_FILE_BYTES
from datacontrols.errors import ConfigError, DesiredStateError

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]

RESIDENCIES = (
    "'GLOBAL', 'US_STORAGE_PROCESSING', 'EU_STORAGE_PROCESSING', 'JP_STORAGE', 'JP_STORAGE_PROCESSING', "
    "'KR_STORAGE', 'CA_STORAGE', 'SG_STORAGE', 'IN_STORAGE', 'IN_STORAGE_PROCESSING', 'AU_STORAGE', "
    "'AU_STORAGE_PROCESSING', 'GB_STORAGE', 'AE_STORAGE', 'AE_STORAGE_PROCESSING'"
)
PROJECT_RETENTIONS = (
    "'organization_default', 'none', 'zero_data_retention', 'modified_abuse_monitoring', "
    "'enhanced_zero_data_retention', 'enhanced_modified_abuse_monitoring'"
)
ORG_RETENTIONS = (
    "'zero_data_retention', 'modified_abuse_monitoring', 'enhanced_zero_data_retention', "
    "'enhanced_modified_abuse_monitoring'"
)
TOOLS = "'file_search', 'web_search', 'image_generation', 'mcp', 'code_interpreter'"
YES_NO_HINT = "(YAML 1.2 reads yes/no/on/off as text; write true or false)"

# fixture directory -> every problem, as printed (path:line:col: field: message), in report order
BROKEN: dict[str, list[str]] = {
    "unknown_key_top": [
        "unknown_key_top/projects/support-bot.yaml:2:1: retention: unknown key; did you mean 'data_retention'?",
        # The allowed keys are the model's fields, so new controls do not break this expectation.
        "unknown_key_top/projects/support-bot.yaml:3:1: colour: unknown key (allowed: "
        + ", ".join(repr(name) for name in ProjectFile.model_fields)
        + ")",
    ],
    "unknown_key_nested": [
        "unknown_key_nested/organization.yaml:2:3: organization.retention: unknown key; did you mean 'data_retention'?",
        "unknown_key_nested/organization.yaml:5:3: project_defaults.model_permission: unknown key; "
        "did you mean 'model_permissions'?",
        "unknown_key_nested/projects/support-bot.yaml:3:3: hosted_tools.web_serch: unknown key; "
        "did you mean 'web_search'?",
        "unknown_key_nested/projects/support-bot.yaml:6:3: model_permissions.model_ids: required key is missing",
        "unknown_key_nested/projects/support-bot.yaml:7:3: model_permissions.modelids: unknown key; "
        "did you mean 'model_ids'?",
    ],
    "enum_typos": [
        "enum_typos/organization.yaml:2:19: organization.data_retention: 'zero_retention' is not allowed; "
        f"did you mean 'zero_data_retention'? (allowed: {ORG_RETENTIONS})",
        "enum_typos/organization.yaml:3:21: unmanaged_projects: 'archived' is not allowed; "
        "did you mean 'archive'? (allowed: 'report', 'ignore', 'archive')",
        "enum_typos/projects/analytics.yaml:2:20: model_permissions: 'unrestrcted' is not allowed; "
        "did you mean 'unrestricted'? (allowed: 'unrestricted' or a mapping)",
        "enum_typos/projects/analytics.yaml:3:16: hosted_tools.Web-Search: unknown key; did you mean 'web_search'?",
        f"enum_typos/projects/analytics.yaml:3:34: hosted_tools.browsing: unknown key (allowed: {TOOLS})",
        "enum_typos/projects/support-bot.yaml:2:12: residency: 'EU_STORAGE' is not allowed; "
        f"did you mean 'EU_STORAGE_PROCESSING'? (allowed: {RESIDENCIES})",
        "enum_typos/projects/support-bot.yaml:3:17: data_retention: 'organisation_default' is not allowed; "
        f"did you mean 'organization_default'? (allowed: {PROJECT_RETENTIONS})",
        "enum_typos/projects/support-bot.yaml:4:27: model_permissions.mode: 'allowlist' is not allowed; "
        "did you mean 'allow_list'? (allowed: 'allow_list', 'deny_list')",
        "enum_typos/projects/support-bot.yaml:5:9: status: 'Archived' is not allowed; "
        "did you mean 'archived'? (allowed: 'active', 'archived')",
    ],
    "duplicate_names": [
        "duplicate_names/projects/b-support.yaml:1:7: name: duplicate project name 'Support Bot'; "
        "already declared in duplicate_names/projects/a-support.yaml:2:7",
        "duplicate_names/projects/c-support.yml:1:7: name: duplicate project name 'Support Bot'; "
        "already declared in duplicate_names/projects/a-support.yaml:2:7",
        "duplicate_names/projects/c-support.yml:2:17: data_retention: 'bogus' is not allowed "
        f"(allowed: {PROJECT_RETENTIONS})",
    ],
    "duplicate_ids": [
        "duplicate_ids/projects/two.yaml:2:5: id: duplicate project id 'proj_abc123'; "
        "already declared in duplicate_ids/projects/one.yaml:2:5",
    ],
    "mapping_for_list": [
        "mapping_for_list/projects/p.yaml:4:14: model_permissions.model_ids: expected a list, got a mapping",
    ],
    "list_for_mapping": [
        "list_for_mapping/organization.yaml:1:15: organization: expected a mapping, got a list",
        "list_for_mapping/organization.yaml:3:22: project_defaults.model_permissions: "
        "expected 'unrestricted' or a mapping, got a list",
        "list_for_mapping/projects/p.yaml:3:3: hosted_tools: expected a mapping, got a list",
    ],
    "wrong_scalars": [
        "wrong_scalars/projects/p.yaml:1:7: name: expected a string, got the number 123 (quote it to make it text)",
        "wrong_scalars/projects/p.yaml:2:28: hosted_tools.web_search: expected true or false, "
        f"got the string 'yes' {YES_NO_HINT}",
        "wrong_scalars/projects/p.yaml:2:48: hosted_tools.file_search: expected true or false, "
        f"got the string 'on' {YES_NO_HINT}",
        "wrong_scalars/projects/p.yaml:2:57: hosted_tools.mcp: expected true or false, got the number 1",
        "wrong_scalars/projects/p.yaml:2:78: hosted_tools.code_interpreter: expected true or false, got null",
        "wrong_scalars/projects/p.yaml:3:18: external_key_id: expected a string, got the date 2024-01-01 "
        "(quote it to make it text)",
    ],
    "empty_file": [
        "empty_file/organization.yaml:1:1: the file is empty; write `{}` for all defaults, "
        "or delete the organization file",
        "empty_file/projects/p.yaml:1:1: the file is empty; a project file needs at least `name: ...`",
    ],
    "only_comments": [
        "only_comments/projects/p.yaml:1:1: the file holds only comments; a project file needs at least `name: ...`",
    ],
    "not_yaml_tab": [
        "not_yaml_tab/projects/p.yaml:3:1: invalid YAML: found character '\\t' that cannot start any token; "
        "indent with spaces, YAML does not allow tabs",
    ],
    "not_yaml_bracket": [
        "not_yaml_bracket/projects/p.yaml:2:53: invalid YAML: expected ',' or ']', but got '}' "
        "(while parsing a flow sequence started at line 2, column 50)",
    ],
    "top_level_list": [
        "top_level_list/projects/p.yaml:1:1: expected a mapping (`key: value` lines), got a list",
    ],
    "duplicate_keys": [
        "duplicate_keys/projects/p.yaml:4:3: duplicate key 'web_search' (first at line 3, column 3); "
        "a key may appear once in a mapping",
    ],
    "binary": [
        "binary/projects/p.yaml:1:8: a binary file (it holds NUL bytes), not YAML",
    ],
    "not_utf8": [
        "not_utf8/projects/p.yaml:2:15: not UTF-8 text (byte 0xe9 cannot be decoded); save the file as UTF-8",
    ],
    "missing_name": [
        "missing_name/projects/p.yaml:1:1: name: required key is missing",
    ],
    "empty_allow_list": [
        "empty_allow_list/organization.yaml:2:52: project_defaults.model_permissions.model_ids: "
        "model id 'o3' is listed twice",
        "empty_allow_list/projects/p.yaml:4:14: model_permissions.model_ids: an empty allow_list blocks "
        "every model; use `unrestricted` to remove the policy",
    ],
    "stray_files": [
        "stray_files/organization.yml:1:1: the organization file must be named organization.yaml",
        "stray_files/projects/archive:1:1: a directory; project files must sit directly in projects/",
        "stray_files/projects/notes.txt:1:1: not a project file: files in projects/ must end in .yaml or .yml "
        "(README.md and dotfiles are ignored)",
        "stray_files/projects/p.json:1:1: not a project file: files in projects/ must end in .yaml or .yml "
        "(README.md and dotfiles are ignored)",
    ],
    "multi_document": [
        "multi_document/projects/p.yaml:2:1: invalid YAML: expected a single document in the stream, "
        "but found another document",
    ],
    "tags": [
        "tags/projects/p.yaml:1:7: name: YAML tags like !secret are not supported here",
        "tags/projects/p.yaml:3:20: model_permissions: YAML tags like !policy are not supported here",
    ],
    "nulls": [
        "nulls/projects/p.yaml:1:1: name: expected a string, got null",
        "nulls/projects/p.yaml:2:1: status: expected one of 'active', 'archived', got null",
    ],
    "alias_bomb": [
        "alias_bomb/projects/p.yaml:6:1: e: more than 100000 values",
    ],
    "yaml_1_1": [
        "yaml_1_1/projects/p.yaml:2:7: only YAML 1.2 is read (in it `on` and `no` are text); remove the %YAML 1.1 line",
    ],
}


@pytest.fixture
def in_fixtures(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the fixtures directory, so reported paths are short and stable."""
    monkeypatch.chdir(FIXTURES)
    return FIXTURES


def problems_of(directory: str | Path) -> list[str]:
    with pytest.raises(DesiredStateError) as caught:
        load_desired_state(directory)
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_fixture_reports_every_problem_at_its_position(in_fixtures: Path, case: str) -> None:
    assert problems_of(case) == BROKEN[case]


def test_error_text_is_the_first_problem_and_a_count(in_fixtures: Path) -> None:
    with pytest.raises(DesiredStateError) as caught:
        load_desired_state("unknown_key_top")
    assert str(caught.value) == BROKEN["unknown_key_top"][0] + " (and 1 more)"
    assert isinstance(caught.value, ConfigError)


def test_problems_carry_structured_positions(in_fixtures: Path) -> None:
    with pytest.raises(DesiredStateError) as caught:
        load_desired_state("wrong_scalars")
    problem = caught.value.problems[1]
    assert (problem.path, problem.line, problem.col, problem.field) == (
        "wrong_scalars/projects/p.yaml",
        2,
        28,
        "hosted_tools.web_search",
    )


def test_valid_fixture_loads_in_file_order(in_fixtures: Path) -> None:
    state = load_desired_state("valid")
    assert isinstance(state, DesiredState)
    # `on` and `NO` stay strings under YAML 1.2; whitespace around a name is not part of it
    assert [p.name for p in state.projects] == ["on", "NO"]
    assert state.sources == {"on": "projects/a.yaml", "NO": "projects/b.yml"}
    assert state.organization.organization.data_retention == "zero_data_retention"
    assert state.projects[0].model_permissions == ModelPolicy(mode="allow_list", model_ids=["gpt-4.1", "o3"])
    assert state.projects[1].id == "proj_b"
    assert state.projects[1].hosted_tools == {"web_search": True}


def test_anchors_and_aliases_are_plain_yaml(in_fixtures: Path) -> None:
    state = load_desired_state("anchors")
    assert state.organization.project_defaults.model_permissions == ModelPolicy(
        mode="allow_list", model_ids=["gpt-4.1", "o3"]
    )


def test_absent_organization_file_and_projects_dir_mean_defaults(tmp_path: Path) -> None:
    state = load_desired_state(tmp_path)
    assert state.organization == OrganizationFile()
    assert state.projects == ()
    assert state.sources == {}


def test_empty_organization_mapping_means_defaults(tmp_path: Path) -> None:
    (tmp_path / "organization.yaml").write_text("# defaults everywhere\n{}\n")
    assert load_desired_state(str(tmp_path)).organization == OrganizationFile()


def test_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as caught:
        load_desired_state(tmp_path / "nowhere")
    assert not isinstance(caught.value, DesiredStateError)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is not a directory"):
        load_desired_state(tmp_path / "file")


def test_projects_that_is_a_file_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "projects").write_text("name: P\n")
    assert problems_of("ds") == ["ds/projects:1:1: must be a directory holding one YAML file per project"]


def test_paths_outside_the_cwd_are_shown_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ds" / "projects").mkdir(parents=True)
    (tmp_path / "ds" / "projects" / "p.yaml").write_text("name: P\nstatus: gone\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    [problem] = problems_of(tmp_path / "ds")
    assert problem.startswith(f"{(tmp_path / 'ds').as_posix()}/projects/p.yaml:2:9: status: 'gone' is not allowed")
    # and relative (with forward slashes) when under the cwd, however the directory was spelled
    monkeypatch.chdir(tmp_path)
    [problem] = problems_of(tmp_path / "ds")
    assert problem.startswith("ds/projects/p.yaml:2:9: status:")


def test_sources_do_not_depend_on_the_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ds" / "projects").mkdir(parents=True)
    (tmp_path / "ds" / "projects" / "p.yaml").write_text("name: P\n")
    monkeypatch.chdir(tmp_path)
    assert load_desired_state("ds").sources == {"P": "projects/p.yaml"}
    monkeypatch.chdir(tmp_path / "ds" / "projects")
    assert load_desired_state("..").sources == {"P": "projects/p.yaml"}


def test_file_size_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ds" / "projects").mkdir(parents=True)
    (tmp_path / "ds" / "projects" / "big.yaml").write_text("name: P\n" + "# padding\n" * (MAX_FILE_BYTES // 10))
    assert problems_of("ds") == ["ds/projects/big.yaml:1:1: larger than 1024 KiB; is it the right file?"]


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("[" * 10_000 + "]" * 10_000, (1, MAX_DEPTH + 1)),
        ("{a: " * 10_000 + "}" * 10_000, (1, 4 * MAX_DEPTH + 1)),
        ("name: P\nx: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5), (2, 3 + MAX_DEPTH)),
        # deep enough to exhaust ruamel's recursive composer (RecursionError), but under the size cap
        ("".join(f"{'  ' * i}a:\n" for i in range(600)), (MAX_DEPTH + 1, 2 * MAX_DEPTH + 1)),
        ("".join(f"{'  ' * i}- \n" for i in range(200)) + "  " * 200 + "- x\n", (MAX_DEPTH + 1, 2 * MAX_DEPTH + 1)),
        ("- " * 10_000 + "x\n", (1, 2 * MAX_DEPTH + 1)),
    ],
    ids=["flow-lists-10k", "flow-maps-10k", "just-too-deep", "block-maps-600", "block-lists-200", "compact-10k"],
)
def test_deep_nesting_is_a_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, position: tuple[int, int]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ds" / "projects").mkdir(parents=True)
    (tmp_path / "ds" / "projects" / "deep.yaml").write_text(text)
    with pytest.raises(DesiredStateError) as caught:
        load_desired_state("ds")
    [problem] = caught.value.problems
    assert (problem.path, problem.line, problem.col) == ("ds/projects/deep.yaml", *position)
    assert problem.message == f"nested more than {MAX_DEPTH} levels deep"


def test_brackets_inside_text_are_not_nesting(tmp_path: Path) -> None:
    (tmp_path / "projects").mkdir()
    name = "[{" * MAX_DEPTH
    (tmp_path / "projects" / "p.yaml").write_text(f"name: '{name}'\n")
    assert [p.name for p in load_desired_state(tmp_path).projects] == [name]


def test_control_characters_are_positioned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ds" / "projects").mkdir(parents=True)
    (tmp_path / "ds" / "projects" / "p.yaml").write_text("name: P\nid: a\x07b\n")
    assert problems_of("ds") == [
        "ds/projects/p.yaml:2:6: invalid YAML: character U+0007 is not allowed (control characters cannot appear)"
    ]


def test_a_bom_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "projects").mkdir()
    (tmp_path / "projects" / "p.yaml").write_bytes("\ufeffname: Café\n".encode())
    assert [p.name for p in load_desired_state(tmp_path).projects] == ["Café"]


def test_secrets_pasted_into_values_are_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ds" / "projects").mkdir(parents=True)
    key = "sk-proj-" + "A1b2C3d4" * 4
    (tmp_path / "ds" / "projects" / "p.yaml").write_text(f"name: P\nresidency: {key}\n")
    with pytest.raises(DesiredStateError) as caught:
        load_desired_state("ds")
    assert key not in str(caught.value)
    assert all(key not in str(problem) for problem in caught.value.problems)
    assert "[REDACTED]" in caught.value.problems[0].message


def test_every_file_is_reported_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    projects = tmp_path / "ds" / "projects"
    projects.mkdir(parents=True)
    (tmp_path / "ds" / "organization.yaml").write_text("unmanaged_projects: nope\n")
    (projects / "a.yaml").write_text("name: A\nresidency: MARS\n")
    (projects / "b.yaml").write_text("name: [B\n")
    (projects / "c.yaml").write_text("name: A\n")
    found = problems_of("ds")
    assert [p.split(":")[0] for p in found] == [
        "ds/organization.yaml",
        "ds/projects/a.yaml",
        "ds/projects/b.yaml",
        "ds/projects/c.yaml",
    ]


def test_a_project_with_a_duplicate_name_is_reported_even_with_other_problems(in_fixtures: Path) -> None:
    # c-support.yml has a bad data_retention too: both are reported (see BROKEN), neither hides the other
    found = problems_of("duplicate_names")
    assert any("c-support.yml:1:7: name: duplicate" in p for p in found)
    assert any("c-support.yml:2:17: data_retention" in p for p in found)


def test_names_that_differ_only_in_case_are_one_project(tmp_path: Path) -> None:
    # Two projects a person cannot tell apart on the dashboard are a mistake (or an attack), and a project
    # cannot be deleted: refused, where the name was first compared exactly.
    (tmp_path / "projects").mkdir()
    (tmp_path / "projects" / "a.yaml").write_text("name: Bot\n")
    (tmp_path / "projects" / "b.yaml").write_text("name: bot\n")
    with pytest.raises(
        DesiredStateError, match=r"duplicate project name 'bot' \(the same as 'Bot': names are compared ignoring case"
    ):
        load_desired_state(tmp_path)


def test_two_hundred_files_load(tmp_path: Path) -> None:
    projects = tmp_path / "projects"
    projects.mkdir()
    for index in range(200):
        (projects / f"project-{index:04d}.yaml").write_text(
            f"# yaml-language-server: $schema=../../docs/schema/project.schema.json\n"
            f"name: Project {index}\n"
            f"residency: EU_STORAGE_PROCESSING\n"
            f"data_retention: zero_data_retention\n"
            f"hosted_tools: {{web_search: false, file_search: true}}\n"
            f"model_permissions:\n  mode: allow_list\n  model_ids: [gpt-4.1, o3]\n"
        )
    state = load_desired_state(tmp_path)
    assert len(state.projects) == 200
    assert state.projects[0].name == "Project 0" and state.projects[-1].name == "Project 199"
    assert all(isinstance(p, ProjectFile) for p in state.projects)


def test_repository_desired_state_loads() -> None:
    state = load_desired_state(REPO / "desired_state")
    assert state.sources == {
        "Analytics": "projects/analytics.yaml",
        "Legacy Chatbot": "projects/legacy-chatbot.yaml",
        "Research Sandbox": "projects/research-sandbox.yaml",
        "Support Bot": "projects/support-bot.yaml",
    }
    org = state.organization
    assert org.organization.data_retention == "zero_data_retention"
    assert org.unmanaged_projects == "report"
    assert org.project_defaults.data_retention == "organization_default"
    assert org.project_defaults.hosted_tools == {"code_interpreter": False, "mcp": False}
    assert org.project_defaults.model_permissions == ModelPolicy(
        mode="allow_list", model_ids=["gpt-4.1", "gpt-4.1-mini", "o3"]
    )
    by_name = {p.name: p for p in state.projects}
    support = by_name["Support Bot"]
    assert (support.residency, support.data_retention) == ("EU_STORAGE_PROCESSING", "zero_data_retention")
    assert support.hosted_tools == {"web_search": False, "file_search": True}
    analytics = by_name["Analytics"]
    assert (analytics.residency, analytics.data_retention) == ("US_STORAGE_PROCESSING", None)
    assert analytics.model_permissions == ModelPolicy(mode="deny_list", model_ids=["o1-pro"])
    assert analytics.hosted_tools == {"image_generation": False}
    sandbox = by_name["Research Sandbox"]
    assert (sandbox.residency, sandbox.data_retention) == (None, "modified_abuse_monitoring")
    assert (sandbox.model_permissions, sandbox.hosted_tools) == ("unrestricted", {"web_search": True})
    assert by_name["Legacy Chatbot"].status == "archived"
    assert all(p.status == "active" for p in state.projects if p.name != "Legacy Chatbot")


def test_repository_files_point_editors_at_the_schema() -> None:
    root = REPO / "desired_state"
    header = "# yaml-language-server: $schema="
    assert (root / "organization.yaml").read_text().splitlines()[
        0
    ] == f"{header}../docs/schema/organization.schema.json"
    for path in sorted((root / "projects").glob("*.yaml")):
        assert path.read_text().splitlines()[0] == f"{header}../../docs/schema/project.schema.json", path.name
        assert (path.parent / path.read_text().splitlines()[0].split("=", 1)[1]).resolve().is_file()
