"""The whole pure diff: matching, lifecycle and settings together, ordering, determinism and convergence.

No I/O: desired state is built from the schema models, observed state from the API models.
"""

from __future__ import annotations

import random
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datacontrols.adminapi.permissions import HOSTED_TOOLS, ModelPermissions
from datacontrols.adminapi.projects import Project
from datacontrols.adminapi.retention import ORGANIZATION_RETENTION_TYPES, PROJECT_RETENTION_TYPES
from datacontrols.desired.schema import (
    DesiredState,
    ModelPolicy,
    OrganizationFile,
    OrganizationSettings,
    ProjectDefaults,
    ProjectFile,
)
from datacontrols.engine import Observed, desired_projects, diff
from datacontrols.kinds.organization_retention import Unreadable
from datacontrols.plan import Change, FieldChange, Plan, required

ORG = "organization_data_retention"
RETENTION = "project_data_retention"
MODELS = "project_model_permissions"
TOOLS = "project_hosted_tools"
ZDR: Final = "zero_data_retention"
MAM: Final = "modified_abuse_monitoring"


def state(
    *projects: ProjectFile,
    organization_retention: str | None = None,
    defaults: ProjectDefaults | None = None,
    unmanaged: str = "report",
    sources: dict[str, str] | None = None,
) -> DesiredState:
    return DesiredState(
        organization=OrganizationFile(
            organization=OrganizationSettings(data_retention=organization_retention),  # type: ignore[arg-type]
            project_defaults=defaults or ProjectDefaults(),
            unmanaged_projects=unmanaged,  # type: ignore[arg-type]
        ),
        projects=projects,
        sources=sources or {},
    )


def enabled(*names: str) -> dict[str, bool]:
    return {tool: tool in names for tool in HOSTED_TOOLS}


def live_settings(
    retention: str = ZDR, models: ModelPermissions | None = None, tools: dict[str, bool] | None = None
) -> dict[str, Any]:
    return {RETENTION: retention, MODELS: models, TOOLS: enabled() if tools is None else tools}


def summary(plan: Plan) -> list[tuple[str | None, str, str]]:
    return [(c.project, c.kind, c.action) for c in plan]


FULL = ProjectFile(
    name="support",
    residency="EU_STORAGE_PROCESSING",
    data_retention=ZDR,
    model_permissions=ModelPolicy(mode="allow_list", model_ids=["o3", "gpt-4.1"]),
    hosted_tools={"code_interpreter": False, "web_search": True},
)


def test_a_new_project_is_created_then_its_settings_are_set() -> None:
    plan = diff(state(FULL), Observed(organization={ORG: ZDR}))
    assert summary(plan) == [
        ("support", "project", "create"),
        ("support", RETENTION, "update"),
        ("support", MODELS, "create"),
        ("support", TOOLS, "update"),
    ]
    create, retention, models, tools = plan.changes
    assert create.fields["residency"] == FieldChange(None, "EU_STORAGE_PROCESSING")
    for change in (retention, models, tools):
        assert all(fc.before is None for fc in change.fields.values())
        assert change.facts.project_id is None  # apply takes the id from the create
    assert tools.fields == {"code_interpreter": FieldChange(None, False), "web_search": FieldChange(None, True)}


def test_organization_changes_come_first() -> None:
    plan = diff(state(FULL, organization_retention=ZDR), Observed(organization={ORG: MAM}))
    assert plan.changes[0].kind == ORG
    assert plan.changes[0].fields == {"type": FieldChange(MAM, ZDR)}


def test_settings_of_a_live_project_carry_its_id() -> None:
    observed = Observed(
        projects=[Project(id="p1", name="support", residency="EU_STORAGE_PROCESSING")],
        organization={ORG: ZDR},
        settings={"p1": live_settings(MAM, None, enabled("code_interpreter"))},
    )
    plan = diff(state(FULL), observed)
    assert summary(plan) == [
        ("support", RETENTION, "update"),
        ("support", MODELS, "create"),
        ("support", TOOLS, "update"),
    ]
    assert {c.facts.project_id for c in plan} == {"p1"}


def test_steady_state_is_an_empty_plan() -> None:
    observed = Observed(
        projects=[Project(id="p1", name="support", residency="EU_STORAGE_PROCESSING")],
        organization={ORG: ZDR},
        settings={
            "p1": live_settings(
                ZDR,
                ModelPermissions(mode="allow_list", model_ids=["gpt-4.1", "o3"]),  # the other order
                enabled("web_search", "mcp"),  # mcp is not named, so not managed
            )
        },
    )
    plan = diff(state(FULL, organization_retention=ZDR), observed)
    assert plan.changes == ()
    assert plan.summary() == dict.fromkeys(("create", "update", "delete", "archive", "uncorrectable", "report"), 0)


def test_defaults_reach_every_project_unless_it_says_otherwise() -> None:
    defaults = ProjectDefaults(data_retention=ZDR, hosted_tools={"mcp": False, "web_search": False})
    desired = state(
        ProjectFile(name="a"),
        ProjectFile(name="b", data_retention="none", hosted_tools={"web_search": True}),
        defaults=defaults,
    )
    observed = Observed(
        projects=[Project(id="p1", name="a"), Project(id="p2", name="b")],
        organization={ORG: ZDR},
        settings={"p1": live_settings(ZDR, tools=enabled()), "p2": live_settings("none", tools=enabled("web_search"))},
    )
    assert diff(desired, observed).changes == ()


def test_residency_mismatch_is_uncorrectable_and_settings_are_still_compared() -> None:
    observed = Observed(
        projects=[Project(id="p1", name="support")],  # no residency reported: GLOBAL
        organization={ORG: ZDR},
        settings={
            "p1": live_settings(
                ZDR, ModelPermissions(mode="allow_list", model_ids=["o3", "gpt-4.1"]), enabled("code_interpreter")
            )
        },
    )
    plan = diff(state(FULL), observed)
    assert summary(plan) == [("support", "project", "uncorrectable"), ("support", TOOLS, "update")]
    assert plan.changes[0].fields == {"residency": FieldChange("GLOBAL", "EU_STORAGE_PROCESSING")}


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        pytest.param(Project(id="p1", name="old"), [("old", "project", "archive")], id="active-is-archived"),
        pytest.param(Project(id="p1", name="old", status="archived"), [], id="archived-stays-quiet"),
    ],
)
def test_an_archived_project_gets_no_settings_changes(live: Project, expected: list[tuple[str, str, str]]) -> None:
    desired = state(
        ProjectFile(name="old", status="archived", data_retention=ZDR, hosted_tools={"mcp": False}),
    )
    observed = Observed(projects=[live], settings={"p1": live_settings("none", tools=enabled("mcp"))})
    assert summary(diff(desired, observed)) == expected


def test_a_project_being_archived_is_only_archived() -> None:
    """Renames and residency of a project on its way out are not worth a write or an alarm."""
    desired = state(ProjectFile(name="new", id="p1", status="archived", residency="EU_STORAGE_PROCESSING"))
    plan = diff(desired, Observed(projects=[Project(id="p1", name="old", residency="GLOBAL")]))
    assert summary(plan) == [("new", "project", "archive")]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("report", [("stray", "project", "report")]),
        ("ignore", []),
        ("archive", [("stray", "project", "archive")]),
    ],
)
def test_unmanaged_projects_follow_the_policy_and_archived_ones_are_ignored(
    policy: str, expected: list[tuple[str, str, str]]
) -> None:
    observed = Observed(
        projects=[
            Project(id="p1", name="kept"),
            Project(id="p2", name="stray"),
            Project(id="p3", name="gone", status="archived"),
            Project(id="p4", name="gone too", archived_at=1),
        ],
        settings={"p1": {}},
    )
    plan = diff(state(ProjectFile(name="kept"), unmanaged=policy), observed)
    assert summary(plan) == expected
    assert all(c.facts.project_id == "p2" for c in plan)


def test_a_failed_read_skips_that_project_only() -> None:
    desired = state(
        ProjectFile(name="a", id="p1", data_retention=ZDR),  # would also be renamed
        ProjectFile(name="b", data_retention=ZDR),
    )
    observed = Observed(
        projects=[Project(id="p1", name="old a"), Project(id="p2", name="b")],
        settings={"p2": live_settings("none")},
        failures={"a": "HTTP 500 from /organization/projects/p1/data_retention"},
    )
    plan = diff(desired, observed)
    assert summary(plan) == [("b", RETENTION, "update")]


def test_ambiguity_stops_that_project_only() -> None:
    desired = state(ProjectFile(name="dup", data_retention=ZDR), ProjectFile(name="b", data_retention=ZDR))
    observed = Observed(
        projects=[Project(id="p1", name="dup"), Project(id="p2", name="dup"), Project(id="p3", name="b")],
        settings={"p3": live_settings("none")},
    )
    assert summary(diff(desired, observed)) == [("b", RETENTION, "update"), ("dup", "project", "uncorrectable")]


def test_a_pin_that_is_not_live_creates_nothing() -> None:
    plan = diff(state(ProjectFile(name="a", id="p9", data_retention=ZDR)), Observed())
    assert summary(plan) == [("a", "project", "uncorrectable")]


def test_a_setting_that_was_not_read_is_reported_not_planned_as_new() -> None:
    # A live project observed without one of its managed kinds: planning it like a new project would miss a
    # live model policy under `unrestricted` and label the change "set on the new project".
    desired = state(ProjectFile(name="a", model_permissions="unrestricted", data_retention=ZDR))
    observed = Observed(projects=[Project(id="p1", name="a")], settings={"p1": {RETENTION: ZDR}})
    [change] = diff(desired, observed).changes
    assert (change.action, change.kind, change.severity) == ("report", MODELS, "high")
    assert not change.applies
    assert "p1" in change.reason


def test_desired_projects_merge_defaults_and_keep_the_source() -> None:
    desired = state(
        ProjectFile(name="a", hosted_tools={"mcp": True}),
        defaults=ProjectDefaults(data_retention=MAM, hosted_tools={"mcp": False, "web_search": False}),
        sources={"a": "projects/a.yaml"},
    )
    [project] = desired_projects(desired)
    assert project.name == "a"
    assert project.source == "projects/a.yaml"
    assert project.settings.data_retention == MAM
    assert project.settings.hosted_tools == {"mcp": True, "web_search": False}


# Determinism


def busy_inputs() -> tuple[DesiredState, Observed]:
    """Every action at once, with namesakes, so that any order dependence would show."""
    desired = state(
        FULL,
        ProjectFile(name="b", id="p1", data_retention="none"),
        ProjectFile(name="dup", model_permissions="unrestricted"),
        ProjectFile(name="old", status="archived"),
        ProjectFile(name="x", hosted_tools={"mcp": True}),
        organization_retention=ZDR,
    )
    observed = Observed(
        projects=[
            Project(id="p1", name="x"),
            Project(id="p2", name="x"),
            Project(id="p3", name="dup"),
            Project(id="p4", name="dup"),
            Project(id="p5", name="old"),
            Project(id="p6", name="stray"),
            Project(id="p7", name="stray"),
            Project(id="p8", name="gone", status="archived"),
        ],
        organization={ORG: MAM},
        settings={"p1": live_settings(ZDR), "p2": live_settings(ZDR)},
    )
    return desired, observed


def shuffled(desired: DesiredState, observed: Observed, seed: int) -> tuple[DesiredState, Observed]:
    rng = random.Random(seed)
    files = list(desired.projects)
    rng.shuffle(files)
    projects = list(observed.projects)
    rng.shuffle(projects)
    ids = list(observed.settings)
    rng.shuffle(ids)
    return (
        desired.model_copy(update={"projects": tuple(files)}),
        Observed(
            projects=projects,
            organization=dict(observed.organization),
            settings={i: observed.settings[i] for i in ids},
            failures=dict(observed.failures),
        ),
    )


def test_same_inputs_same_plan_and_digest() -> None:
    desired, observed = busy_inputs()
    first, second = diff(desired, observed), diff(desired, observed)
    assert first == second
    assert first.digest() == second.digest()
    assert {c.action for c in first} == {"create", "update", "archive", "uncorrectable", "report"}


@pytest.mark.parametrize("seed", range(20))
def test_input_order_does_not_change_the_plan(seed: int) -> None:
    desired, observed = busy_inputs()
    expected = diff(desired, observed)
    plan = diff(*shuffled(desired, observed, seed))
    assert plan.digest() == expected.digest()
    assert [c.facts for c in plan] == [c.facts for c in expected]  # apply targets the same projects, too


def test_observed_digest_ignores_order_and_sees_every_value() -> None:
    observed = Observed(
        projects=[Project(id="p2", name="b"), Project(id="p1", name="a")],
        organization={ORG: Unreadable("403")},
        settings={"p1": live_settings(ZDR, ModelPermissions(mode="deny_list", model_ids=["o3"]))},
        failures={"c": "HTTP 500"},
    )
    reordered = Observed(
        projects=list(reversed(observed.projects)),
        organization=dict(observed.organization),
        settings=dict(observed.settings),
        failures=dict(observed.failures),
    )
    assert observed.digest() == reordered.digest()
    moved = Observed(
        projects=observed.projects,
        organization=observed.organization,
        settings={"p1": live_settings(ZDR, ModelPermissions(mode="deny_list", model_ids=["o3", "o4-mini"]))},
        failures=observed.failures,
    )
    assert moved.digest() != observed.digest()


# Convergence: applying a plan's `after` values and diffing again leaves nothing to apply.

MODEL_IDS = ["gpt-4.1", "o3", "gpt-4o", "o4-mini"]
NAMES = ["alpha", "beta", "gamma"]

desired_policy = st.one_of(
    st.builds(
        ModelPolicy,
        mode=st.just("allow_list"),
        model_ids=st.lists(st.sampled_from(MODEL_IDS), min_size=1, unique=True),
    ),
    st.builds(ModelPolicy, mode=st.just("deny_list"), model_ids=st.lists(st.sampled_from(MODEL_IDS), unique=True)),
)
desired_settings = st.fixed_dictionaries(
    {
        "data_retention": st.none() | st.sampled_from(PROJECT_RETENTION_TYPES),
        "model_permissions": st.none() | st.just("unrestricted") | desired_policy,
        "hosted_tools": st.none() | st.dictionaries(st.sampled_from(HOSTED_TOOLS), st.booleans()),
    }
)
observed_policy = st.none() | st.builds(
    ModelPermissions,
    mode=st.sampled_from(["allow_list", "deny_list"]),
    model_ids=st.lists(st.sampled_from(MODEL_IDS), max_size=5),  # any order, repeats allowed
)
observed_settings = st.fixed_dictionaries(
    {
        RETENTION: st.sampled_from(PROJECT_RETENTION_TYPES),
        MODELS: observed_policy,
        TOOLS: st.fixed_dictionaries({tool: st.booleans() for tool in HOSTED_TOOLS}),
    }
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[DesiredState, Observed]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, unique=True))
    files, projects, values = [], [], {}
    for index, name in enumerate(names):
        files.append(ProjectFile.model_validate({"name": name, **draw(desired_settings)}))
        if draw(st.booleans()):
            project_id = f"proj_{index}"
            projects.append(Project(id=project_id, name=name))
            values[project_id] = draw(observed_settings)
    desired = state(
        *files,
        organization_retention=draw(st.none() | st.sampled_from(ORGANIZATION_RETENTION_TYPES)),
        defaults=ProjectDefaults.model_validate(draw(desired_settings)),
    )
    organization = draw(st.sampled_from(ORGANIZATION_RETENTION_TYPES) | st.just(Unreadable("403")))
    return desired, Observed(projects=projects, organization={ORG: organization}, settings=values)


# What a new project has before its settings are written: inherited retention, no model policy, no tools.
NEW_PROJECT_SETTINGS: dict[str, Any] = {RETENTION: "organization_default", MODELS: None, TOOLS: enabled()}


def simulate(observed: Observed, plan: Plan) -> Observed:
    """Apply the plan's applicable changes to observed state, the way the API would, in pure Python."""
    projects = {p.id: p for p in observed.projects}
    organization = dict(observed.organization)
    values = {project_id: dict(kinds) for project_id, kinds in observed.settings.items()}
    created: dict[str | None, str] = {}
    for change in plan.applicable:
        if change.kind == ORG:
            organization[ORG] = change.fields["type"].after
        elif change.kind == "project":
            simulate_project(change, projects, values, created)
        else:
            project_id = change.facts.project_id or created[change.project]
            values[project_id][change.kind] = simulate_setting(change, values[project_id][change.kind])
    return Observed(projects=list(projects.values()), organization=organization, settings=values)


def simulate_project(
    change: Change, projects: dict[str, Project], values: dict[str, dict[str, Any]], created: dict[str | None, str]
) -> None:
    if change.action == "create":
        project_id = f"created_{change.project}"
        projects[project_id] = Project(id=project_id, name=change.fields["name"].after)
        values[project_id] = dict(NEW_PROJECT_SETTINGS)
        created[change.project] = project_id
    elif change.action == "update":
        project_id = required(change.facts.project_id, "project id")
        projects[project_id] = projects[project_id].model_copy(update={k: fc.after for k, fc in change.fields.items()})
    elif change.action == "archive":
        project_id = required(change.facts.project_id, "project id")
        projects[project_id] = projects[project_id].model_copy(update={"status": "archived"})


def simulate_setting(change: Change, value: Any) -> Any:
    after = {name: fc.after for name, fc in change.fields.items()}
    if change.kind == RETENTION:
        return after["type"]
    if change.kind == MODELS:
        if change.action == "delete":
            return None
        # A field left out of `fields` did not differ: it keeps its observed value.
        return ModelPermissions(
            mode=after.get("mode", value.mode if value else None),
            model_ids=after.get("model_ids", value.model_ids if value else None),
        )
    if change.kind == TOOLS:
        return {**value, **after}
    raise AssertionError(f"unexpected kind {change.kind}")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_diff_converges_in_one_step(scenario: tuple[DesiredState, Observed]) -> None:
    desired, observed = scenario
    plan = diff(desired, observed)
    again = diff(desired, simulate(observed, plan))
    assert again.applicable == ()
    assert not again.has_changes, again.to_json()


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_the_digest_does_not_depend_on_input_order(scenario: tuple[DesiredState, Observed], rng: random.Random) -> None:
    desired, observed = scenario
    assert diff(*shuffled(desired, observed, rng.randrange(1 << 30))).digest() == diff(desired, observed).digest()
