"""Encryption keys in desired state: a name (and type), `openai_managed`, null refused, positioned errors, and a
file that contradicts its own `external_key_id` refused; `project_defaults` merged."""

from __future__ import annotations

from pathlib import Path

import pytest

from datacontrols.desired import load_desired_state
from datacontrols.desired.encryption import EncryptionKey
from datacontrols.errors import DesiredStateError


def write(root: Path, project: str, organization: str | None = None) -> Path:
    (root / "projects").mkdir(parents=True, exist_ok=True)
    (root / "projects" / "p.yaml").write_text(project)
    if organization is not None:
        (root / "organization.yaml").write_text(organization)
    return root


def problems(root: Path) -> list[str]:
    with pytest.raises(DesiredStateError) as caught:
        load_desired_state(root)
    return [str(problem) for problem in caught.value.problems]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from tmp_path, so reported paths are short (`ds/projects/p.yaml`)."""
    monkeypatch.chdir(tmp_path)
    return Path("ds")


def test_a_name_a_type_and_openai_managed_load(here: Path) -> None:
    state = load_desired_state(write(here, "name: P\nencryption_key: {name: ' acme-prod ', type: gcp}\n"))
    assert state.projects[0].encryption_key == EncryptionKey(name="acme-prod", type="gcp")
    again = load_desired_state(write(here, "name: P\nencryption_key: openai_managed\nexternal_key_id: null\n"))
    assert again.projects[0].encryption_key == "openai_managed"


def test_project_defaults_apply_unless_the_file_says_otherwise(here: Path) -> None:
    organization = "project_defaults:\n  encryption_key: {name: acme-prod}\n"
    state = load_desired_state(write(here, "name: P\n", organization))
    assert state.effective(state.projects[0]).encryption_key == EncryptionKey(name="acme-prod")
    own = load_desired_state(write(here, "name: P\nencryption_key: openai_managed\n", organization))
    assert own.effective(own.projects[0]).encryption_key == "openai_managed"


def test_null_is_refused_as_ambiguous_with_its_position(here: Path) -> None:
    organization = "project_defaults:\n  encryption_key: null\n"
    assert problems(write(here, "name: P\nencryption_key:\n", organization)) == [
        "ds/organization.yaml:2:19: project_defaults.encryption_key: null is ambiguous here; write `openai_managed` "
        "to forbid a customer-managed key, or leave the key out to leave it unmanaged",
        "ds/projects/p.yaml:2:1: encryption_key: null is ambiguous here; write `openai_managed` to forbid a "
        "customer-managed key, or leave the key out to leave it unmanaged",
    ]


@pytest.mark.parametrize(
    ("project", "says"),
    [
        pytest.param(
            "name: P\nexternal_key_id: null\nencryption_key: {name: k}\n",
            "`external_key_id: null` clears the project's key, and `encryption_key` requires one; drop one",
            id="cleared-and-required",
        ),
        pytest.param(
            "name: P\nexternal_key_id: ekm_1\nencryption_key: openai_managed\n",
            "`external_key_id: ekm_1` binds a customer-managed key, and `encryption_key: openai_managed` forbids one",
            id="bound-and-forbidden",
        ),
    ],
)
def test_a_file_contradicting_its_own_external_key_id_is_refused(here: Path, project: str, says: str) -> None:
    [problem] = problems(write(here, project))
    assert problem.startswith("ds/projects/p.yaml:") and says in problem


@pytest.mark.parametrize(
    ("project", "says"),
    [
        pytest.param("name: P\nencryption_key: none\n", "'none' is not allowed", id="storage-word"),
        pytest.param("name: P\nencryption_key: {name: ''}\n", "encryption_key.name", id="empty-name"),
        pytest.param("name: P\nencryption_key: {name: k, type: hsm}\n", "encryption_key.type", id="unknown-type"),
        pytest.param(
            "name: P\nencryption_key: {id: ekm_1}\n", "encryption_key.id: unknown key", id="an-id-is-not-a-name"
        ),
    ],
)
def test_typos_are_caught_with_their_position(here: Path, project: str, says: str) -> None:
    found = problems(write(here, project))
    assert all(problem.startswith("ds/projects/p.yaml:2:") for problem in found), found
    assert any(says in problem for problem in found), found
