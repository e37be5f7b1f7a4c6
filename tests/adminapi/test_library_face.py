"""The package used as a library: typed, versioned, documented, and silent about logging until asked."""

from __future__ import annotations

import inspect
import logging
import subprocess
import sys
from importlib import resources

import httpx

import datacontrols
from datacontrols.adminapi import AdminApi


def test_the_package_says_its_version_and_ships_its_types() -> None:
    assert isinstance(datacontrols.__version__, str) and datacontrols.__version__
    assert resources.files("datacontrols").joinpath("py.typed").is_file()


def test_connect_names_every_option_and_documents_it() -> None:
    signature = inspect.signature(AdminApi.connect)
    kinds = {parameter.kind for parameter in signature.parameters.values()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds, "a typo in an option must be a TypeError, not ignored"
    doc = inspect.getdoc(AdminApi.connect) or ""
    for name in signature.parameters:
        if name not in ("admin_key", "base_url"):
            assert f"`{name}" in doc, f"AdminApi.connect does not document {name}"


async def test_connecting_sends_nothing() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    async with AdminApi.connect(admin_key="sk-admin-library", http_transport=httpx.MockTransport(handler)) as api:
        assert api.read_only is False
        assert "sk-admin-library" not in repr(api)
    assert sent == []


def test_importing_and_connecting_configures_no_logging() -> None:
    # In a fresh interpreter: the test runner's own logging set-up must not hide a handler the package adds.
    script = (
        "import logging, asyncio\n"
        "root = logging.getLogger()\n"
        "before = (list(root.handlers), root.level)\n"
        "from datacontrols.adminapi import AdminApi\n"
        "async def main():\n"
        "    async with AdminApi.connect(admin_key='sk-admin-x'):\n"
        "        pass\n"
        "asyncio.run(main())\n"
        "assert (list(root.handlers), root.level) == before, 'root logger changed'\n"
        "assert logging.getLogger('datacontrols').handlers == []\n"
        "assert logging.getLogger('httpx').handlers == [] and logging.getLogger('httpx').level == logging.NOTSET\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


async def test_the_key_scrubbing_filter_is_the_only_thing_added_to_httpx_logging() -> None:
    async with AdminApi.connect(admin_key="sk-admin-filter"):
        pass
    filters = logging.getLogger("httpx").filters
    assert len(filters) == 1 and type(filters[0]).__name__ == "_RedactingFilter"
