"""Several organizations in one repository: `orgs/NAME/` picked with `--org NAME`.

Two emulated organizations sit behind one base URL, as behind the real Admin API: the bearer key decides
which organization a request reaches. Each organization's files name their own identity and their own key
variable, so `--org prod` reads orgs/prod/ with OPENAI_ADMIN_KEY_PROD and changes only the production
organization; a key of the other organization is refused before any write.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cli_support import free_port, run_cli

from datacontrols.daemon.cli import served_desired_state
from datacontrols.emulator import Emulator
from datacontrols.errors import ConfigError

PROD_KEY = "sk-admin-prodOrgKey0123456789abcdefghijklmnopqrstuvw"
STAGING_KEY = "sk-admin-stagingOrgKey0123456789abcdefghijklmnopqrs"
PROD_DEFAULT, STAGING_DEFAULT = "proj_prod0000000000000000001", "proj_stag0000000000000000001"
ZDR = "zero_data_retention"


def seed(default: str, name: str) -> dict[str, Any]:
    """An organization whose one project has web search turned on (drift: the files say off)."""
    project = {"id": default, "name": name, "data_retention": ZDR, "hosted_tools": {"web_search": True}}
    return {"organization": {"data_retention": ZDR, "approved_retention_types": [ZDR]}, "projects": [project]}


@dataclass
class Organizations:
    prod: Emulator
    staging: Emulator
    base_url: str


@pytest.fixture
def organizations() -> Iterator[Organizations]:
    """Two emulators on one URL; the Authorization header routes a request to the organization of its key."""
    prod = Emulator(admin_key=PROD_KEY, seed=seed(PROD_DEFAULT, "Prod App"), rng_seed=3)
    staging = Emulator(admin_key=STAGING_KEY, seed=seed(STAGING_DEFAULT, "Staging App"), rng_seed=4)
    by_key = {f"Bearer {PROD_KEY}".encode(): prod.app, f"Bearer {STAGING_KEY}".encode(): staging.app}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = dict(scope.get("headers") or [])
        await by_key.get(headers.get(b"authorization", b""), prod.app)(scope, receive, send)  # else: 401

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the emulators did not start"
        time.sleep(0.01)
    try:
        yield Organizations(prod, staging, f"http://127.0.0.1:{port}/v1")
    finally:
        server.should_exit = True
        thread.join(10)


def organization(root: Path, identity: str, project: str) -> Path:
    """orgs/NAME/: the identity line (`{default_project_id: ...}`), and one project with web search off."""
    (root / "projects").mkdir(parents=True)
    (root / "organization.yaml").write_text(
        f"identity: {identity}\norganization:\n  data_retention: {ZDR}\nunmanaged_projects: report\n"
    )
    # Named as export names it (export --merge matches a project's file by that name).
    (root / "projects" / f"{project.lower().replace(' ', '-')}.yaml").write_text(
        f"name: {project}\ndata_retention: {ZDR}\nhosted_tools: {{web_search: false}}\n"
    )
    return root


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository of two organizations, as the working directory: prod names its key variable, staging
    takes the default (OPENAI_ADMIN_KEY)."""
    organization(
        tmp_path / "orgs" / "prod",
        f"{{default_project_id: {PROD_DEFAULT}, admin_key_env: OPENAI_ADMIN_KEY_PROD}}",
        "Prod App",
    )
    organization(tmp_path / "orgs" / "staging", f"{{default_project_id: {STAGING_DEFAULT}}}", "Staging App")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def changed(outcome: Any) -> set[str]:
    return {change["project"] for change in outcome.json()["changes"]}


# --- picking the tree and the key ---------------------------------------------------------------------------


def test_org_picks_its_own_tree_and_key_variable(
    repository: Path, organizations: Organizations, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = {"OPENAI_ADMIN_KEY_PROD": PROD_KEY, "OPENAI_ADMIN_KEY": STAGING_KEY}
    url = ["--base-url", organizations.base_url]
    prod = run_cli(capsys, monkeypatch, ["--dry-run", "--org", "prod", "--format", "json", *url], **keys)
    assert prod.code == 0, prod.stderr
    assert changed(prod) == {"Prod App"}
    staging = run_cli(capsys, monkeypatch, ["--dry-run", "--org", "staging", "--format", "json", *url], **keys)
    assert staging.code == 0, staging.stderr
    assert changed(staging) == {"Staging App"}


def test_each_org_is_applied_to_its_own_organization_only(
    repository: Path, organizations: Organizations, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = {"OPENAI_ADMIN_KEY_PROD": PROD_KEY, "OPENAI_ADMIN_KEY": STAGING_KEY}
    url = ["--base-url", organizations.base_url]
    applied = run_cli(capsys, monkeypatch, ["--org", "prod", "--auto-approve", *url], **keys)
    assert applied.code == 0, applied.stderr
    prod = run_cli(capsys, monkeypatch, ["--dry-run", "--org", "prod", "--format", "json", *url], **keys)
    staging = run_cli(capsys, monkeypatch, ["--dry-run", "--org", "staging", "--format", "json", *url], **keys)
    assert changed(prod) == set(), "prod converged"
    assert changed(staging) == {"Staging App"}, "staging was not touched by the prod apply"
    assert run_cli(capsys, monkeypatch, ["--org", "staging", "--auto-approve", *url], **keys).code == 0
    staging = run_cli(capsys, monkeypatch, ["--dry-run", "--org", "staging", "--format", "json", *url], **keys)
    assert changed(staging) == set()


def test_a_key_of_the_other_organization_is_refused_before_any_write(
    repository: Path, organizations: Organizations, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = ["--base-url", organizations.base_url]
    # The production variable holds the staging key (a pasted secret): the files name prod's identity.
    swapped = run_cli(capsys, monkeypatch, ["--org", "prod", "--auto-approve", *url], OPENAI_ADMIN_KEY_PROD=STAGING_KEY)
    assert swapped.code == 1
    assert f"pinned to the organization whose default project is {PROD_DEFAULT}" in swapped.stderr
    assert STAGING_DEFAULT in swapped.stderr
    keys = {"OPENAI_ADMIN_KEY_PROD": PROD_KEY, "OPENAI_ADMIN_KEY": STAGING_KEY}
    staging = run_cli(capsys, monkeypatch, ["--dry-run", "--org", "staging", "--format", "json", *url], **keys)
    assert changed(staging) == {"Staging App"}, "nothing was written to staging"


def test_the_named_key_variable_is_required(
    repository: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # OPENAI_ADMIN_KEY is set (by run_cli), but prod names its own variable: the default one is not used.
    outcome = run_cli(capsys, monkeypatch, ["--dry-run", "--org", "prod"], OPENAI_ADMIN_KEY_PROD=None)
    assert outcome.code == 1
    assert "no admin key: set OPENAI_ADMIN_KEY_PROD or pass --admin-key-file PATH" in outcome.stderr
    assert outcome.stdout == ""


# --- errors: missing, unknown, conflicting ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dry-run"], "this repository holds several organizations (orgs/: prod, staging); pass --org NAME"),
        (["validate"], "this repository holds several organizations (orgs/: prod, staging); pass --org NAME"),
        (["--dry-run", "--org", "qa"], "--org qa: no such organization; orgs/ holds: prod, staging"),
        (["explain", "--org", "qa"], "--org qa: no such organization; orgs/ holds: prod, staging"),
        (["validate", "--org", "../prod"], "--org '../prod' must be the name of a directory in orgs/"),
        (
            ["--dry-run", "--org", "prod", "--desired-state", "desired_state"],
            "--org prod reads orgs/prod, but --desired-state names desired_state",
        ),
        (["--org", "prod", "validate"], "--org is an option of the plan/apply command, not of `reconcile validate`"),
        (["validate", "--all-orgs", "--org", "prod"], "--all-orgs checks every organization under orgs/"),
        (["export", "--org", "prod", "--out", "elsewhere"], "--org prod writes orgs/prod, but --out names elsewhere"),
        (["serve", "--org", "qa"], "--org qa: no such organization; orgs/ holds: prod, staging"),
    ],
)
def test_org_errors_are_one_line(
    repository: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    outcome = run_cli(capsys, monkeypatch, args)
    assert outcome.code == 1
    assert outcome.stderr.startswith("error: ") and outcome.stderr.count("\n") == 1, outcome.stderr
    assert message in outcome.stderr
    assert "Traceback" not in outcome.stderr


def test_org_in_a_repository_of_one_organization_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    organization(tmp_path / "desired_state", f"{{default_project_id: {PROD_DEFAULT}}}", "Prod App")
    monkeypatch.chdir(tmp_path)
    for args in (["--dry-run", "--org", "prod"], ["validate", "--org", "prod"], ["validate", "--all-orgs"]):
        outcome = run_cli(capsys, monkeypatch, args)
        assert outcome.code == 1, args
        assert "there is no orgs/" in outcome.stderr or "no organization under orgs/" in outcome.stderr
    assert run_cli(capsys, monkeypatch, ["validate"]).code == 0  # without --org: desired_state/, as before


# --- identities ---------------------------------------------------------------------------------------------


def test_two_organizations_naming_the_same_identity_are_refused(
    repository: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    staging = repository / "orgs" / "staging" / "organization.yaml"
    staging.write_text(staging.read_text().replace(STAGING_DEFAULT, PROD_DEFAULT))  # a copied directory
    for args in (["--dry-run", "--org", "prod"], ["validate", "--org", "staging"], ["validate", "--all-orgs"]):
        outcome = run_cli(capsys, monkeypatch, args)
        assert outcome.code == 1, args
        assert "name the same organization (default project proj_prod" in outcome.stderr, outcome.stderr
        assert outcome.stdout == ""


def test_each_organization_of_a_tree_must_name_its_identity(
    repository: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    staging = repository / "orgs" / "staging" / "organization.yaml"
    staging.write_text(staging.read_text().split("\n", 1)[1])  # the identity line removed
    outcome = run_cli(capsys, monkeypatch, ["validate", "--org", "staging"])
    assert outcome.code == 1
    assert "orgs/staging/organization.yaml does not name its organization" in outcome.stderr
    assert run_cli(capsys, monkeypatch, ["validate", "--org", "prod"]).code == 0  # a sibling's gap is its own


# --- validate --all-orgs ------------------------------------------------------------------------------------


def test_validate_all_orgs_checks_every_organization(
    repository: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ok = run_cli(capsys, monkeypatch, ["validate", "--all-orgs"], OPENAI_ADMIN_KEY=None)
    assert ok.code == 0, ok.stderr
    assert ok.stdout.splitlines() == [
        "orgs/prod: valid (organization settings and 1 project)",
        "orgs/staging: valid (organization settings and 1 project)",
    ]
    (repository / "orgs" / "prod" / "projects" / "prod-app.yaml").write_text(
        "name: Prod App\ndata_retention: forever\n"
    )
    (repository / "orgs" / "staging" / "projects" / "staging-app.yaml").write_text(
        "name: Staging App\nhosted_tool: {}\n"
    )
    bad = run_cli(capsys, monkeypatch, ["validate", "--all-orgs"])
    assert bad.code == 1
    assert "orgs/prod/projects/prod-app.yaml:2:" in bad.stderr  # both organizations' problems, in one run
    assert "orgs/staging/projects/staging-app.yaml:2:" in bad.stderr
    assert bad.stderr.splitlines()[-1] == "error: 2 organization(s) have problems: prod, staging"


# --- export and serve ---------------------------------------------------------------------------------------


def test_export_org_writes_its_directory_with_its_key_variable(
    repository: Path, organizations: Organizations, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = ["--base-url", organizations.base_url]
    outcome = run_cli(
        capsys,
        monkeypatch,
        ["export", "--org", "prod", "--merge", *url],
        OPENAI_ADMIN_KEY_PROD=PROD_KEY,
        OPENAI_ADMIN_KEY=None,
    )
    assert outcome.code == 0, outcome.stderr
    written = (repository / "orgs" / "prod" / "organization.yaml").read_text()
    assert f"default_project_id: {PROD_DEFAULT}" in written
    assert "admin_key_env: OPENAI_ADMIN_KEY_PROD" in written  # the key reference survives the merge


def test_serve_reads_the_org_in_the_orgs_dir(repository: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATACONTROLS_ORG", "DATACONTROLS_ORGS_DIR", "DATACONTROLS_DESIRED_STATE"):
        monkeypatch.delenv(name, raising=False)
    checkout = (repository / "orgs").resolve()
    assert served_desired_state(None, "staging", checkout) == checkout / "staging"
    assert served_desired_state(None, "prod", None) == Path("orgs/prod")
    monkeypatch.setenv("DATACONTROLS_ORG", "prod")
    assert served_desired_state(None, None, checkout) == checkout / "prod"
    monkeypatch.delenv("DATACONTROLS_ORG")
    with pytest.raises(ConfigError, match="pass --org NAME to pick one"):
        served_desired_state(None, None, None)
    with pytest.raises(ConfigError, match="--orgs-dir says where the organizations are"):
        served_desired_state(None, None, checkout)


def test_export_force_keeps_the_key_variable(
    repository: Path, organizations: Organizations, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["export", "--org", "prod", "--force", "--base-url", organizations.base_url]
    outcome = run_cli(capsys, monkeypatch, args, OPENAI_ADMIN_KEY_PROD=PROD_KEY, OPENAI_ADMIN_KEY=None)
    assert outcome.code == 0, outcome.stderr
    written = (repository / "orgs" / "prod" / "organization.yaml").read_text()
    assert "admin_key_env: OPENAI_ADMIN_KEY_PROD" in written, written


def test_a_saved_plan_of_an_org_is_applied_with_org(
    repository: Path, organizations: Organizations, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = {"OPENAI_ADMIN_KEY_PROD": PROD_KEY, "OPENAI_ADMIN_KEY": STAGING_KEY}
    url = ["--base-url", organizations.base_url]
    saved = run_cli(capsys, monkeypatch, ["--dry-run", "--org", "prod", "--out", "plan.json", *url], **keys)
    assert saved.code == 0, saved.stderr
    # The plan of prod, applied with the staging files: the staging files' identity does not match the
    # organization the prod key reaches, and nothing is written.
    wrong = run_cli(capsys, monkeypatch, ["apply", "plan.json", "--org", "staging", *url], **keys)
    assert wrong.code == 1
    applied = run_cli(capsys, monkeypatch, ["apply", "plan.json", "--org", "prod", *url], **keys)
    assert applied.code == 0, applied.stderr
    after = run_cli(capsys, monkeypatch, ["--dry-run", "--org", "prod", "--format", "json", *url], **keys)
    assert changed(after) == set()


def test_a_key_variable_that_is_not_a_name_is_a_positioned_problem(
    repository: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prod = repository / "orgs" / "prod" / "organization.yaml"
    prod.write_text(prod.read_text().replace("OPENAI_ADMIN_KEY_PROD", "sk-admin-pasted"))  # the key, not its name
    outcome = run_cli(capsys, monkeypatch, ["validate", "--org", "prod"])
    assert outcome.code == 1
    assert "orgs/prod/organization.yaml:1:" in outcome.stderr
    assert "must be an environment variable's name, like OPENAI_ADMIN_KEY_PROD (never the key)" in outcome.stderr
    assert "pasted" not in outcome.stderr + outcome.stdout, "the value (perhaps the key itself) is never shown"
