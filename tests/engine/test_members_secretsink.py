"""The secret sink: one file per key, mode 0600 from creation, written atomically, names that stay inside."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from datacontrols import secretsink
from datacontrols.redaction import REDACTED, redact
from datacontrols.secretsink import SecretSinkError, check_sink, secret_file_name, write_secret

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


def test_a_new_key_replaces_the_old_file_atomically_and_leaves_no_temporary(tmp_path: Path) -> None:
    write_secret(tmp_path, "p", "a", "first-secret-value")
    inode = os.stat(tmp_path / "p__a.key").st_ino
    path = write_secret(tmp_path, "p", "a", "second-secret-value")
    assert path.read_text() == "second-secret-value\n"
    assert os.stat(path).st_ino != inode, "replaced by rename, not rewritten in place"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p__a.key"]


@pytest.mark.parametrize(
    ("project", "account", "name"),
    [
        ("../../etc", "passwd", "_.._etc__passwd.key"),
        (".hidden", "a/b", "hidden__a_b.key"),
        ("", "  ", "____.key"),
        ("Prod (EU)", "bot:1", "Prod_EU___bot_1.key"),
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
