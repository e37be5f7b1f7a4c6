"""`reconcile explain`: is this project's traffic really zero data retention?"""

from __future__ import annotations

from cli_support import DESIRED, run_approved, run_cli, served_emulator


def test_explain_resolves_inherited_retention_and_flags_caveats(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with served_emulator() as served:
        before = run_cli(
            capsys, monkeypatch, ["explain", "--desired-state", str(DESIRED)], DATACONTROLS_BASE_URL=served.base_url
        )
        assert before.code == 0, before.stderr
        support = before.stdout.split('project "Support Bot"', 1)[1].split("\nproject ", 1)[0]
        # The demo organization is on modified abuse monitoring and Support Bot inherits it.
        assert "zero data retention?  no: modified abuse monitoring" in support
        assert "organization_default (inherits the organization's) -> modified_abuse_monitoring" in support
        assert "desired               zero_data_retention (differs: run a plan)" in support
        assert "residency             EU_STORAGE_PROCESSING" in support
        assert "no `data_usage` request parameter" in before.stdout
        assert served.emulator.requests.methods() == {"GET"}, "explain only reads"

        applied = run_approved(
            capsys,
            monkeypatch,
            ["--auto-approve", "--desired-state", str(DESIRED)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
        assert applied.code == 0, applied.stderr
        after = run_cli(
            capsys,
            monkeypatch,
            ["explain", "--project", "Support Bot", "--desired-state", str(DESIRED)],
            DATACONTROLS_BASE_URL=served.base_url,
        )
    assert after.code == 0, after.stderr
    assert after.stdout.count('project "') == 1
    assert "zero data retention?  yes: zero data retention" in after.stdout
    assert "(differs: run a plan)" not in after.stdout


def test_explain_of_an_unknown_project_is_one_line_exit_1(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with served_emulator() as served:
        outcome = run_cli(capsys, monkeypatch, ["explain", "--project", "Nope"], DATACONTROLS_BASE_URL=served.base_url)
    assert outcome.code == 1
    assert outcome.stderr.startswith("error: --project 'Nope'") and outcome.stderr.count("\n") == 1
