"""Bad input: whatever a desired-state file holds, `reconcile` exits 1 with one positioned line per problem,
never a traceback, prints nothing on stdout, and sends no request to the API.

Hypothesis writes one bad file into a copy of this repository's `desired_state/` (the organization file, an
existing project file, or a new one) and runs the real CLI entry point in-process, with a random command
(`--dry-run` in every format, `--auto-approve`, `validate`, `explain`), against an emulator served on
loopback whose request log must stay empty. The files come from six families:

    bytes      random bytes, sometimes with a NUL, a BOM or a broken UTF-8 sequence
    documents  random YAML documents: nested lists, mappings and scalars of every type under real keys
    mutated    a valid file of the repository with one value replaced, one key dropped, renamed or added
    huge       over 1 MiB: a valid file padded by comments, a long list, a long string, or bytes
    deep       nesting thousands of levels deep (flow lists, flow maps, block lists, block mappings) and
               alias bombs
    binary     NULs, UTF-16, Latin-1 and control characters in otherwise sensible YAML

An input that happens to be valid is rejected (it would rightly be sent to the API) and counted.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import structlog
from cli_support import ADMIN_KEY as CLI_ADMIN_KEY
from cli_support import served_emulator
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reliability_support import DEMO_SEED, DESIRED_STATE, report, slow
from ruamel.yaml import YAML

from datacontrols.cli import main
from datacontrols.desired import load_desired_state
from datacontrols.desired.schema import OrganizationFile, OrganizationSettings, ProjectFile, ProjectSettings
from datacontrols.errors import DataControlsError

TARGETS = ("organization.yaml", "projects/support-bot.yaml", "projects/zz-fuzz.yaml")
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--dry-run",),
    ("--dry-run", "--format", "json"),
    ("--dry-run", "--format", "markdown", "--detailed-exitcode"),
    ("--auto-approve",),
    ("validate",),
    ("explain",),
)
POSITIONED = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): \S")
SUMMARY = re.compile(r"^error: the desired state has (\d+) problem\(s\); nothing was sent$")
MIB = 1024 * 1024

# --- strategies ------------------------------------------------------------------------------------------


def dump(data: Any, *, flow: bool = False) -> bytes:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = flow
    yaml.width = 4096
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue().encode()


text = st.text(st.characters(exclude_categories=["Cs"]), max_size=24)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
    st.binary(max_size=16),  # written as !!binary
    st.dates(),
    st.sampled_from(["on", "NO", "yes", "~", "none", "owner", "allow_list", "EU_STORAGE_PROCESSING", "1e9"]),
)
FIELD_NAMES = sorted(
    {
        *ProjectFile.model_fields,
        *OrganizationFile.model_fields,
        *OrganizationSettings.model_fields,
        *ProjectSettings.model_fields,
        *("mode", "model_ids", "users", "groups", "service_accounts", "amount_usd", "threshold_usd", "recipients"),
        *("web_search", "file_search", "gpt-4.1", "max_requests_per_1_minute", "max_age_days", "prune", "default"),
    }
)
keys = st.one_of(st.sampled_from(FIELD_NAMES), text.filter(bool), st.integers(-5, 5), st.booleans())
nested = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=6)),
    max_leaves=40,
)
documents = st.builds(
    dump,
    st.one_of(nested, st.dictionaries(st.sampled_from(FIELD_NAMES), nested, min_size=1, max_size=8)),
    flow=st.booleans(),
)

random_bytes = st.builds(
    lambda body, prefix: prefix + body,
    st.binary(max_size=2000),
    st.sampled_from([b"", b"\x00", b"\xef\xbb\xbf", b"\xff\xfe", b"\xc3\x28", b"name: x\n\x80"]),
)


def _examples() -> list[Any]:
    yaml = YAML(typ="safe", pure=True)
    files = [DESIRED_STATE / "organization.yaml", *sorted((DESIRED_STATE / "projects").glob("*.yaml"))]
    return [yaml.load(path.read_text()) for path in files]


EXAMPLES = _examples()


def _paths(data: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside `data` (mapping keys and list indexes)."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*here, key)
            yield from _paths(value, (*here, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield (*here, index)
            yield from _paths(value, (*here, index))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid file of the repository with one thing changed."""
    data = draw(st.sampled_from(EXAMPLES))
    data = YAML(typ="safe", pure=True).load(dump(data))  # a private copy
    paths = list(_paths(data))
    path = draw(st.sampled_from(paths))
    *parents, last = path
    holder = data
    for step in parents:
        holder = holder[step]
    how = draw(st.sampled_from(["replace", "drop", "rename", "add"]))
    if how == "replace" or isinstance(holder, list):
        holder[last] = draw(nested)
    elif how == "drop":
        del holder[last]
    elif how == "rename":
        holder[draw(text.filter(lambda k: k not in holder))] = holder.pop(last)
    else:
        holder[draw(st.sampled_from(FIELD_NAMES))] = draw(nested)
    return dump(data, flow=draw(st.booleans()))


@st.composite
def huge(draw: st.DrawFn) -> bytes:
    """Over 1 MiB, built by repeating a small piece (Hypothesis need not generate a megabyte)."""
    piece = draw(
        st.sampled_from(
            [b"# a comment line that goes on and on\n", b"- 1\n", b"x" * 64, b"\x00\x01", b"  k: v\n", b"\xe2\x82\xac"]
        )
    )
    head = draw(st.sampled_from([b"", b"name: Huge\n", b"name: Huge\nspend_alerts:\n", b"name: '"]))
    count = MIB // len(piece) + draw(st.integers(1, 4096))
    return head + piece * count


@st.composite
def deep(draw: st.DrawFn) -> bytes:
    """Nesting far beyond anything real: the loader must refuse it, not recurse until it crashes."""
    depth = draw(st.integers(51, 5000))
    style = draw(st.sampled_from(["flow_list", "flow_map", "block_list", "block_map", "mixed", "aliases"]))
    if style == "flow_list":
        return b"name: Deep\nhosted_tools: " + b"[" * depth + b"]" * depth + b"\n"
    if style == "flow_map":
        return b"{" + b"a: {" * depth + b"b: 1" + b"}" * (depth + 1) + b"\n"
    if style == "block_list":
        return b"- " * depth + b"x\n"
    if style == "block_map":
        depth = min(depth, 700)  # indentation grows quadratically; 700 levels is about half a MiB
        return b"".join(b"  " * i + b"k%d:\n" % i for i in range(depth)) + b"  " * depth + b"v\n"
    if style == "mixed":
        return b"name: Deep\nmembers: " + b"{a: [" * (depth // 2) + b"1" + b"]}" * (depth // 2) + b"\n"
    # A "billion laughs": each level refers to the one before it ten times.
    levels = draw(st.integers(6, 9))  # 10**5 values by the fifth: past the loader's cap of 100 000
    lines = [b"a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [b"a%d: &a%d [" % (i, i) + b", ".join([b"*a%d" % (i - 1)] * 10) + b"]" for i in range(1, levels)]
    return b"\n".join([b"name: Laughs", *lines]) + b"\n"


@st.composite
def binary(draw: st.DrawFn) -> bytes:
    """Sensible YAML in the wrong encoding, or with bytes no text file holds."""
    source = dump(draw(st.sampled_from(EXAMPLES)))
    how = draw(st.sampled_from(["utf16", "utf32", "latin1", "nul", "control", "truncated_utf8"]))
    if how == "utf16":
        return source.decode().encode("utf-16")
    if how == "utf32":
        return source.decode().encode("utf-32")
    if how == "latin1":
        return source.replace(b"name: ", "name: Caf\u00e9 ".encode("latin-1"), 1)
    at = draw(st.integers(0, len(source)))
    if how == "nul":
        return source[:at] + b"\x00" + source[at:]
    if how == "control":
        return source[:at] + bytes([draw(st.sampled_from([0x01, 0x07, 0x1B, 0x7F, 0x9C]))]) + source[at:]
    return source[:at] + b"\xe2\x82" + source[at:]


FAMILIES: dict[str, st.SearchStrategy[bytes]] = {
    "bytes": random_bytes,
    "documents": documents,
    "mutated": mutated(),
    "huge": huge(),
    "deep": deep(),
    "binary": binary(),
}
cases = st.tuples(
    st.sampled_from(sorted(FAMILIES)).flatmap(lambda family: st.tuples(st.just(family), FAMILIES[family])),
    st.sampled_from(TARGETS),
    st.sampled_from(COMMANDS),
)

# --- running the CLI ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def cli_environment(base_url: str) -> Iterator[None]:
    """The key and URL a real run would have; logging and environment restored afterwards."""
    saved_env = {name: os.environ.get(name) for name in ("OPENAI_ADMIN_KEY", "DATACONTROLS_BASE_URL", "GITHUB_ACTIONS")}
    root = logging.getLogger()
    saved_logging = (list(root.handlers), root.level)
    saved_structlog = structlog.get_config()
    os.environ.update({"OPENAI_ADMIN_KEY": CLI_ADMIN_KEY, "DATACONTROLS_BASE_URL": base_url, "NO_COLOR": "1"})
    os.environ.pop("GITHUB_ACTIONS", None)  # its annotations would go to stdout
    try:
        yield
    finally:
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        root.handlers[:] = saved_logging[0]
        root.setLevel(saved_logging[1])
        structlog.configure(**saved_structlog)


def run_main(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def loads_cleanly(directory: Path) -> bool:
    try:
        load_desired_state(directory)
    except DataControlsError:
        return False
    return True


def fuzz(examples: int) -> Counter[str]:
    """Run `examples` cases; the counts of cases run, by family, and of valid inputs set aside."""
    counts: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as scratch, served_emulator(seed=DEMO_SEED) as served:
        desired = Path(scratch) / "desired"
        shutil.copytree(DESIRED_STATE, desired)
        originals = {target: (desired / target).read_bytes() for target in TARGETS if (desired / target).exists()}

        def check(case: tuple[tuple[str, bytes], str, tuple[str, ...]]) -> None:
            (family, content), target, command = case
            path = desired / target
            path.write_bytes(content)
            try:
                options = ["--desired-state", str(desired)]
                args = [*command, *options] if command[0] in ("validate", "explain") else [*options, *command]
                with cli_environment(served.base_url):
                    code, stdout, stderr = run_main(args)
                if not refused_as_bad_input(stderr) and loads_cleanly(desired):
                    # Valid by chance: the run rightly went on to the API. Set aside, and forget its requests.
                    counts["valid_set_aside"] += 1
                    served.emulator.requests.clear()
                    assume(False)
                counts[family] += 1
                assert_refused(code, stdout, stderr, desired, served.emulator.requests)
            finally:
                if target in originals:
                    path.write_bytes(originals[target])
                else:
                    path.unlink()

        run: Callable[[], None] = settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )(given(cases)(check))
        run()
    return counts


def refused_as_bad_input(stderr: str) -> bool:
    lines = stderr.rstrip("\n").split("\n")
    return bool(SUMMARY.match(lines[-1]))


def assert_refused(code: int, stdout: str, stderr: str, desired: Path, requests: list[Any]) -> None:
    assert "Traceback" not in stderr and "Traceback" not in stdout, stderr
    assert code == 1, f"exit {code}\n{stderr}"
    assert stdout == "", f"stdout: {stdout[:500]!r}"
    assert not requests, f"a request was sent: {requests[0]}"
    *problems, summary = stderr.rstrip("\n").split("\n")
    found = SUMMARY.match(summary)
    assert found, f"the last line is not the summary: {summary!r}\n{stderr}"
    assert int(found.group(1)) == len(problems) >= 1, stderr
    for line in problems:
        positioned = POSITIONED.match(line)
        assert positioned, f"not a positioned problem: {line!r}"
        assert int(positioned.group("line")) >= 1 and int(positioned.group("col")) >= 1, line
        assert positioned.group("path").startswith(str(desired)), line


def report_counts(name: str, counts: Counter[str]) -> None:
    run = sum(n for family, n in counts.items() if family in FAMILIES)
    assert set(FAMILIES) <= set(counts), f"every family was generated: {counts}"
    report(
        name,
        cases_run=run,
        by_family={family: counts[family] for family in sorted(FAMILIES)},
        valid_set_aside=counts["valid_set_aside"],
        tracebacks=0,
        unpositioned_messages=0,
        requests_sent=0,
    )


def test_hundreds_of_bad_files_exit_1_positioned_without_a_request() -> None:
    report_counts("bad_input", fuzz(100))


@slow
def test_thousands_of_bad_files_exit_1_positioned_without_a_request() -> None:
    report_counts("bad_input_long", fuzz(5000))
