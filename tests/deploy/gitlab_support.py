"""The GitLab CI/CD component as GitLab would run it, for the tests: its inputs interpolated, a job's
variables merged over its `extends:` and expanded, its script run under bash; and a loopback stand-in of the
GitLab notes API."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from deploy_support import REPO, load_yaml

COMPONENT = REPO / "templates" / "openai-datacontrols.yml"
JOB_SCRIPT = REPO / "src" / "datacontrols" / "ci" / "gitlab.sh"
CORE_SCRIPT = REPO / "src" / "datacontrols" / "ci" / "reconcile.sh"  # shared with the GitHub Action
NOTE_MARKER = "<!-- openai-datacontrols-plan -->"
INTERPOLATION = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")


def documents(path: Path = COMPONENT) -> tuple[str, str]:
    """The component's header (`spec:`) and its body, as GitLab splits them at `---`."""
    header, separator, body = path.read_text().partition("\n---\n")
    assert separator, f"{path.name}: a component is a `spec:` header, `---`, then the jobs"
    return header, body


def inputs() -> dict[str, Any]:
    declared: dict[str, Any] = load_yaml(documents()[0])["spec"]["inputs"]
    return declared


def rendered(**given: str) -> dict[str, Any]:
    """The body with every `$[[ inputs.x ]]` replaced by the given value or the input's default."""
    values = {
        name: str(spec.get("default", "")).lower() if spec.get("type") == "boolean" else spec.get("default", "")
        for name, spec in inputs().items()
    }
    values |= given
    text = INTERPOLATION.sub(lambda match: str(values[match.group(1)]), documents()[1])
    body: dict[str, Any] = load_yaml(text)
    return body


def job(name: str, **given: str) -> dict[str, Any]:
    """One job with its `extends:` merged in (hashes deeply, the rest replaced), as GitLab does."""
    body = rendered(**given)
    found: dict[str, Any] = body[name]
    parent = found.get("extends")
    if parent is None:
        return found
    merged = dict(body[parent])
    for key, value in found.items():
        if key == "extends":
            continue
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    return merged


def expand(value: str, env: Mapping[str, str]) -> str:
    """GitLab's expansion of `$NAME` and `${NAME}` in a variable's value."""
    return re.sub(r"\$\{?(\w+)\}?", lambda match: env.get(match.group(1), ""), value)


@dataclass
class FakeGitLab:
    """Answers the merge request notes API: GET lists `notes` (`per_page` at a time), POST and PUT succeed."""

    notes: list[dict[str, Any]] = field(default_factory=list)
    per_page: int = 100
    requests: list[tuple[str, str, str | None, dict[str, Any] | None]] = field(default_factory=list)
    url: str = ""


@contextmanager
def fake_gitlab() -> Iterator[FakeGitLab]:
    fake = FakeGitLab()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            fake.requests.append((self.command, self.path, self.headers.get("PRIVATE-TOKEN"), body))
            headers: dict[str, str] = {}
            if self.command == "GET":
                page = int(re.search(r"[?&]page=(\d+)", self.path).group(1))  # type: ignore[union-attr]
                listed: Any = fake.notes[(page - 1) * fake.per_page : page * fake.per_page]
                headers["X-Next-Page"] = str(page + 1) if page * fake.per_page < len(fake.notes) else ""
            else:
                listed = {"id": 1}
            payload = json.dumps(listed).encode()
            self.send_response(200 if self.command != "POST" else 201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/api/v4"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@example.com"
    result = subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def run_job(
    name: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    bash: str,
    parts: tuple[str, ...] = ("script",),
    **given: str,
) -> subprocess.CompletedProcess[str]:
    """The job's `script:` (or the `parts` asked for, in order) under bash as GitLab's runner runs it (errexit,
    pipefail), with the job's variables expanded over `env` (the runner's predefined variables)."""
    spec = job(name, **given)
    variables = dict(env)
    for key, value in spec.get("variables", {}).items():
        variables[key] = expand(str(value), variables)
    lines = [line for part in parts for line in spec.get(part, [])]
    script = cwd.parent / f"{name}.sh"
    script.write_text("\n".join(lines) + "\n")
    return subprocess.run(
        [bash, "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env=variables,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
