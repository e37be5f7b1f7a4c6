"""Property: whatever options, environment and plan file the CLI is given, it exits 0, 1 or 2, never with a
traceback, and a failure says so in one line on stderr (the last line, starting `error:`).

The API is never reached: the base URL is a closed loopback port or a URL the tool refuses, and the retry
budget is small, so each example fails fast where it would otherwise connect.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from datacontrols.cli import main

REPO = Path(__file__).resolve().parents[2]
DESIRED = str(REPO / "desired_state")
CLOSED = "http://127.0.0.1:9/v1"

odd_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
durations = st.sampled_from(["1h", "0", "-1s", "99999999999999d", "nan", "1e309", "5x", "", "1.5m"]) | odd_text
numbers = st.sampled_from(["0", "-1", "nan", "inf", "1e309", "0.001", "abc", ""]) | odd_text
base_urls = st.sampled_from(
    [CLOSED, "http://[::1/v1", "ftp://x/v1", "http://example.com/v1", "https://u:p@x/v1", "not a url", ""]
)
levels = st.sampled_from(["debug", "info", "trace", "", "WARNING"]) | odd_text
formats = st.sampled_from(["text", "json", "markdown", "xml", ""]) | odd_text

root_options = st.lists(
    st.one_of(
        st.just(["--dry-run"]),
        st.just(["--detailed-exitcode"]),
        st.just(["--no-removals"]),
        st.tuples(st.just("--format"), formats).map(list),
        st.tuples(st.just("--retry-budget"), numbers).map(list),
        st.tuples(st.just("--base-url"), base_urls).map(list),
        st.tuples(st.just("--log-level"), levels).map(list),
        st.tuples(st.just("--log-format"), formats).map(list),
        st.tuples(st.just("--allow-unsafe"), odd_text).map(list),
        st.tuples(st.just("--desired-state"), st.sampled_from([DESIRED, "/nonexistent", "/dev/null", ""])).map(list),
        st.just(["--unknown-option"]),
    ),
    max_size=4,
)
subcommands = st.sampled_from(
    [[], ["validate"], ["schema"], ["apply", "{plan}"], ["export", "--out", "{out}"], ["explain"], ["nope"]]
)
plan_files = st.one_of(
    st.sampled_from(["", "[" * 5000, '{"kind": 1}', "null", '{"x": ' + "9" * 5000 + "}", "\x00\xff"]),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | odd_text,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
        max_leaves=10,
    ).map(json.dumps),
    st.builds(
        lambda options, plan: json.dumps(
            {
                "kind": "openai-datacontrols.saved-plan",
                "format_version": 1,
                "created_at": "2026-12-06T00:00:00Z",
                "options": options,
                "plan": plan,
            }
        ),
        st.one_of(st.none(), st.integers(), st.lists(st.integers(), max_size=2), st.dictionaries(odd_text, odd_text)),
        st.one_of(st.none(), st.integers(), st.dictionaries(odd_text, odd_text, max_size=2)),
    ),
)
keys = st.sampled_from(["sk-admin-valid-looking-key-0123456789", "", "sk-admin-caf\u00e9", "a b", "\x07"])


@contextlib.contextmanager
def isolated(env: dict[str, str]) -> Iterator[None]:
    names = ("OPENAI_ADMIN_KEY", "DATACONTROLS_BASE_URL", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "NO_COLOR")
    saved = {name: os.environ.get(name) for name in names}
    root = logging.getLogger()
    saved_logging = (list(root.handlers), root.level)
    saved_structlog = structlog.get_config()
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
        os.environ.pop(name, None)
    os.environ.update({"NO_COLOR": "1", **env})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        root.handlers[:] = saved_logging[0]
        root.setLevel(saved_logging[1])
        structlog.configure(**saved_structlog)


@settings(max_examples=150, deadline=None)
@given(options=root_options, subcommand=subcommands, plan=plan_files, key=keys)
def test_any_options_exit_0_1_or_2_in_one_line_without_a_traceback(
    options: list[list[str]], subcommand: list[str], plan: str, key: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:  # one per example (a pytest tmp_path would be shared)
        plan_path = Path(tmp) / "plan.json"
        plan_path.write_text(plan, encoding="utf-8", errors="surrogatepass")
        out_dir = Path(tmp) / "export"
        argv = [arg for option in options for arg in option]
        argv += [part.format(plan=plan_path, out=out_dir) for part in subcommand]
        if "--retry-budget" not in argv:
            argv += ["--retry-budget", "0"] if not subcommand or subcommand[0] in ("apply", "export", "explain") else []
        stdout, stderr = io.StringIO(), io.StringIO()
        environment = {"OPENAI_ADMIN_KEY": key, "DATACONTROLS_BASE_URL": CLOSED}
        with isolated(environment), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                main(argv)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else -1
        err = stderr.getvalue()
        assert code in (0, 1, 2), (argv, code, err[-500:])
        assert "Traceback" not in err, (argv, err[-2000:])
        if code == 1:
            lines = [line for line in err.splitlines() if line.strip()]
            assert lines, (argv, "exit 1 without a word")
            assert lines[-1].startswith("error: "), (argv, lines[-3:])
        assert "valid-looking-key-0123456789" not in stdout.getvalue() + err
        assert not out_dir.exists() or code == 0, "a failed export leaves no files"
