"""Desired-state trees a hostile pull request could plant: links out of the tree, FIFOs, look-alike names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from datacontrols.desired import load_desired_state
from datacontrols.errors import DesiredStateError

SECRET = "ci-deploy-token-0123456789abcdef"


def tree(root: Path, **projects: str) -> Path:
    (root / "projects").mkdir(parents=True)
    (root / "organization.yaml").write_text("organization:\n  data_retention: zero_data_retention\n", encoding="utf-8")
    for stem, text in projects.items():
        (root / "projects" / f"{stem}.yaml").write_text(text, encoding="utf-8")
    return root


def problems(root: Path) -> str:
    with pytest.raises(DesiredStateError) as raised:
        load_desired_state(root)
    return str(raised.value)


def test_a_project_file_linked_outside_the_tree_is_refused_and_nothing_of_it_is_echoed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(f"name: {SECRET}\n", encoding="utf-8")
    root = tree(tmp_path / "desired")
    (root / "projects" / "a.yaml").symlink_to(secret)
    message = problems(root)
    assert "projects/a.yaml:1:1" in message and "outside the desired-state directory" in message
    assert SECRET not in message and "ci-deploy" not in message and str(secret) not in message


def test_a_projects_folder_linked_outside_the_tree_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.yaml").write_text(f"name: {SECRET}\n", encoding="utf-8")
    root = tmp_path / "desired"
    root.mkdir()
    (root / "organization.yaml").write_text("{}\n", encoding="utf-8")
    (root / "projects").symlink_to(elsewhere)
    message = problems(root)
    assert "outside the desired-state directory" in message and SECRET not in message


def test_a_link_that_stays_inside_the_tree_is_followed(tmp_path: Path) -> None:
    root = tree(tmp_path / "desired")
    shared = root / "shared"
    shared.mkdir()
    (shared / "bot.yaml").write_text("name: Bot\n", encoding="utf-8")
    (root / "projects" / "bot.yaml").symlink_to(shared / "bot.yaml")
    assert [p.name for p in load_desired_state(root).projects] == ["Bot"]


def test_a_fifo_as_a_project_file_is_refused_at_once(tmp_path: Path) -> None:
    root = tree(tmp_path / "desired")
    os.mkfifo(root / "projects" / "pipe.yaml")
    assert "projects/pipe.yaml:1:1: not a regular file" in problems(root)


@pytest.mark.parametrize(
    "second",
    [
        "support bot",  # case only
        "Support\u00a0Bot",  # a no-break space: NFKC makes it a space
        "\uff33upport Bot",  # a fullwidth S
    ],
)
def test_names_that_differ_only_in_case_or_form_are_one_project(tmp_path: Path, second: str) -> None:
    root = tree(tmp_path / "desired", a="name: Support Bot\n", b=f'name: "{second}"\n')
    message = problems(root)
    assert "duplicate project name" in message and "ignoring case and look-alike forms" in message


@pytest.mark.parametrize(
    ("name", "code"),
    [("Support\u200bBot", "U+200B"), ("Support\u0007Bot", "U+0007"), ("Support\u202eBot", "U+202E")],
)
def test_invisible_and_control_characters_in_a_name_are_refused_with_their_position(
    tmp_path: Path, name: str, code: str
) -> None:
    escaped = name.encode("unicode_escape").decode("ascii")
    root = tree(tmp_path / "desired", a=f'name: "{escaped}"\n')
    message = problems(root)
    assert f"invisible or control character ({code}) at character 8" in message
