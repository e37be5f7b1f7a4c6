"""Files the CLI reads or writes that are not what they should be: a FIFO, a huge file, a planted link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from datacontrols.errors import ConfigError
from datacontrols.files import read_text, write_text_atomically


def test_a_fifo_is_refused_at_once_instead_of_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=r"^plan file plan.json: not a regular file$"):
        read_text(fifo, "plan file plan.json")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a regular file"):
        read_text(tmp_path, "plan file x")


def test_a_file_over_the_cap_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b"x" * 5000)
    with pytest.raises(ConfigError, match="larger than 4,096 bytes"):
        read_text(big, "plan file big.json", max_bytes=4096)
    assert read_text(big, "plan file big.json", max_bytes=5000) == "x" * 5000


def test_text_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match=r"not UTF-8 text"):
        read_text(bad, "plan file bad.json")


def test_a_link_at_the_target_is_replaced_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    target = tmp_path / "report.json"
    target.symlink_to(victim)
    write_text_atomically(target, "{}\n")
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert not target.is_symlink()
    assert target.read_text(encoding="utf-8") == "{}\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_write_into_a_missing_folder_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^cannot write --gitlab-report x"):
        write_text_atomically(tmp_path / "no" / "x.json", "{}", "--gitlab-report x")
