"""Names that look alike across scripts: warned about with their position, never refused, never silent."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import run_cli
from daemon_support import capture_logs

from datacontrols.daemon.metrics import DaemonMetrics
from datacontrols.daemon.readiness import DesiredStateCheck
from datacontrols.desired import load_desired_state
from datacontrols.desired.lookalikes import mixed_script, skeleton

CYRILLIC_O = "\u043e"
GREEK_RHO = "\u03a1"


def tree(root: Path, *names: str) -> Path:
    (root / "projects").mkdir(parents=True)
    for index, name in enumerate(names):
        (root / "projects" / f"p{index}.yaml").write_text(f"name: {name}\n", encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("name", "flagged"),
    [
        (f"Supp{CYRILLIC_O}rt Bot", "at character 5 (U+043E CYRILLIC SMALL LETTER O) looks like the Latin 'o'"),
        (f"{GREEK_RHO}hoenix", "at character 1 (U+03A1 GREEK CAPITAL LETTER RHO) looks like the Latin 'p'"),
        ("Support Bot", None),
        ("Ωmega", None),  # a Greek letter without a Latin twin
        ("Руслан", None),  # all Cyrillic: a name in its own script
        ("データ基盤", None),
    ],
)
def test_a_name_mixing_latin_with_a_look_alike_letter_is_flagged_with_its_position(
    name: str, flagged: str | None
) -> None:
    found = mixed_script(name)
    assert (found is None) == (flagged is None)
    if flagged is not None:
        assert found is not None and flagged in found


def test_the_skeleton_maps_look_alikes_case_and_width_to_one_form() -> None:
    assert skeleton(f"SUPP{CYRILLIC_O.upper()}RT bot") == skeleton("Support Bot") == skeleton("Ｓupport Bot")
    assert skeleton("Support Bot") != skeleton("Support Bots")


def test_a_project_that_looks_like_another_loads_with_a_positioned_warning(tmp_path: Path) -> None:
    desired = load_desired_state(tree(tmp_path / "d", "Support Bot", f"Supp{CYRILLIC_O}rt Bot", "Analytics"))
    assert len(desired.projects) == 3, "a warning, not a refusal: the name may be meant"
    assert len(desired.warnings) == 2
    mixed, alike = desired.warnings
    assert "projects/p1.yaml:1:7: name:" in mixed and "mixes Latin letters with Cyrillic" in mixed
    assert "looks like 'Support Bot'" in alike and "projects/p0.yaml:1:7" in alike and "two projects" in alike
    assert load_desired_state(tree(tmp_path / "clean", "Support Bot", "Analytics")).warnings == ()


def test_validate_prints_the_warning_on_stderr_and_still_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tree(tmp_path / "d", "Support Bot", f"Supp{CYRILLIC_O}rt Bot")
    outcome = run_cli(capsys, monkeypatch, ["validate", "--desired-state", str(root)])
    assert outcome.code == 0 and "valid" in outcome.stdout
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("warning: ") for line in lines)


def test_the_daemon_logs_each_warning_once_though_it_reads_the_files_every_run(tmp_path: Path) -> None:
    check = DesiredStateCheck(tree(tmp_path / "d", "Support Bot", f"Supp{CYRILLIC_O}rt Bot"), DaemonMetrics())
    with capture_logs() as logs:
        for _ in range(3):
            assert check.load() is not None
    assert logs.getvalue().count('"event": "desired_state_warning"') == 2
