"""The secret sink: one file per key, mode 0600 from creation, written atomically, names that stay inside."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from datacontrols import secretsink
from datacontrols.redaction import REDACTED, redact
from datacontrols.secretsink import SecretSinkError, check_sink, holds_key, secret_file_name, write_secret

SECRET = "sk-svcacct-" + "Q" * 40


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_key_is_written_with_mode_0600_and_registered_for_redaction(tmp_path: Path) -> None:
    value = "opaque-" + os.urandom(8).hex()  # not key-shaped: only registration can hide it
    path = write_secret(tmp_path, "Support Bot", "support-bot-prod", value)
    assert path == tmp_path / "Support_Bot__support-bot-prod.key"
    assert path.read_text() == value + "\n" and mode(path) == 0o600
    assert redact(f"x {value} y") == f"x {REDACTED} y"


def test_the_mode_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        path = write_secret(tmp_path, "p", "a", SECRET)
    finally:
        os.umask(previous)
    assert mode(path) == 0o600


def test_the_file_is_never_created_wider_than_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[tuple[int, int]] = []
    real_open = os.open

    def spy(path: str | os.PathLike[str], flags: int, mode: int = 0o777, *args: object) -> int:
        opened.append((flags, mode))
        return real_open(path, flags, mode)

    monkeypatch.setattr(secretsink.os, "open", spy)
    write_secret(tmp_path, "p", "a", SECRET)
    created = [(flags, m) for flags, m in opened if flags & os.O_CREAT]
    assert created and all(m == 0o600 and flags & os.O_EXCL for flags, m in created)


def test_a_new_key_never_replaces_an_old_one_and_leaves_no_temporary(tmp_path: Path) -> None:
    first = write_secret(tmp_path, "p", "a", "first-secret-value")
    second = write_secret(tmp_path, "p", "a", "second-secret-value")
    assert first.read_text() == "first-secret-value\n", "a live key is never overwritten"
    assert second.name == "p__a.2.key" and second.read_text() == "second-secret-value\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p__a.2.key", "p__a.key"]


def test_a_link_planted_at_the_key_name_is_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep")
    sink = tmp_path / "sink"
    sink.mkdir()
    (sink / "p__a.key").symlink_to(victim)
    path = write_secret(sink, "p", "a", "a-secret-value")
    assert victim.read_text() == "keep" and path.name == "p__a.2.key"


def test_names_that_used_to_collide_get_their_own_files(tmp_path: Path) -> None:
    one = write_secret(tmp_path, "Team A", "x__svc", "key-one-value")
    two = write_secret(tmp_path, "Team A__x", "svc", "key-two-value")
    assert one != two
    assert (one.name, two.name) == ("Team_A__x%5F%5Fsvc.key", "Team_A%5F%5Fx__svc.key")
    assert (one.read_text(), two.read_text()) == ("key-one-value\n", "key-two-value\n")


def test_file_names_are_one_to_one_over_awkward_names() -> None:
    parts = [
        "a",
        "a b",
        "a  b",
        "a_b",
        "a__b",
        " a",
        "a ",
        "",
        ".a",
        "a%20b",
        "a/b",
        "\x00",
        "\u00e9",
        "x" * 300,
        "x" * 301,
    ]
    names = {secret_file_name(p, q) for p in parts for q in parts}
    assert len(names) == len(parts) ** 2
    assert all(len(name) < 255 for name in names)


@pytest.mark.parametrize(
    ("project", "account", "name"),
    [
        ("../../etc", "passwd", "%2E.%2F..%2Fetc__passwd.key"),
        (".hidden", "a/b", "%2Ehidden__a%2Fb.key"),
        ("", "  ", "~__%20%20.key"),
        ("Prod (EU)", "bot:1", "Prod_%28EU%29__bot%3A1.key"),
    ],
)
def test_names_are_sanitised_and_stay_in_the_directory(tmp_path: Path, project: str, account: str, name: str) -> None:
    assert secret_file_name(project, account) == name
    assert write_secret(tmp_path, project, account, SECRET).parent == tmp_path


def test_an_unusable_sink_fails_with_the_path_and_never_the_value(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SecretSinkError) as failed:
        write_secret(blocker, "p", "a", SECRET)
    assert str(blocker) in failed.value.message and SECRET not in failed.value.message
    with pytest.raises(SecretSinkError, match=r"not a directory|cannot create"):
        check_sink(blocker)


def test_check_sink_creates_a_private_directory_and_leaves_nothing_in_it(tmp_path: Path) -> None:
    sink = check_sink(tmp_path / "new" / "sink")
    assert sink.is_dir() and mode(sink) & 0o077 == 0 and list(sink.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_check_sink_refuses_a_read_only_directory(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(SecretSinkError, match="cannot write there"):
            check_sink(tmp_path)
    finally:
        tmp_path.chmod(0o700)


def test_the_sink_holds_a_key_under_its_first_name_or_a_later_copy_and_nothing_else(tmp_path: Path) -> None:
    assert not holds_key(tmp_path, "Support Bot", "bot")
    (tmp_path / "Support_Bot__bot-2.key").write_text("x")  # another account's name, not a copy
    (tmp_path / "Support_Bot__bot.x.key").write_text("x")
    (tmp_path / "Support_Bot__bot.1000000.key").write_text("x")  # beyond any copy number written
    assert not holds_key(tmp_path, "Support Bot", "bot")
    write_secret(tmp_path, "Support Bot", "bot", "sk-svcacct-first")
    assert holds_key(tmp_path, "Support Bot", "bot")
    copies = tmp_path / "copies"
    copies.mkdir()
    (copies / "Support_Bot__bot.3.key").write_text("x")  # the first copies were moved away by a person
    assert holds_key(copies, "Support Bot", "bot")
    assert not holds_key(tmp_path / "absent", "Support Bot", "bot")  # an unreadable sink holds none
