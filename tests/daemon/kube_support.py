"""A fake Kubernetes API server for Leases: GET, POST and PUT with resourceVersion, as the real one answers.

It serves `coordination.k8s.io/v1` Leases from memory, refuses a PUT whose resourceVersion is not the
current one (409 Conflict) and a POST of an existing name (409 AlreadyExists), and answers Status objects
for errors. Each replica talks to it through its own `Link`, which a test can cut (a network partition).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx2
from lightkube import AsyncClient, KubeConfig
from lightkube.config.models import Cluster, User
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PREFIX = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
NAMESPACE = "datacontrols"


def _status(code: int, reason: str, message: str) -> JSONResponse:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure"}
    return JSONResponse({**body, "message": message, "reason": reason, "code": code}, status_code=code)


class FakeKube:
    """The Leases of one cluster, and the writes made to them."""

    def __init__(self) -> None:
        self.leases: dict[tuple[str, str], dict[str, Any]] = {}
        self.version = 0
        self.writes: list[tuple[str, str, str | None]] = []  # (method, name, holder written)
        self.app = Starlette(
            routes=[
                Route(PREFIX, self._create, methods=["POST"]),
                Route(PREFIX + "/{name}", self._get, methods=["GET"]),
                Route(PREFIX + "/{name}", self._replace, methods=["PUT"]),
            ]
        )

    def holder(self, name: str = "datacontrols-leader", namespace: str = NAMESPACE) -> str | None:
        lease = self.leases.get((namespace, name))
        return lease.get("spec", {}).get("holderIdentity") if lease is not None else None

    def _stamp(self, lease: dict[str, Any], namespace: str, name: str) -> dict[str, Any]:
        self.version += 1
        stored = copy.deepcopy(lease)
        stored.setdefault("metadata", {}).update(name=name, namespace=namespace, resourceVersion=str(self.version))
        self.leases[(namespace, name)] = stored
        return stored

    async def _get(self, request: Request) -> JSONResponse:
        key = (request.path_params["namespace"], request.path_params["name"])
        if key not in self.leases:
            return _status(404, "NotFound", f'leases.coordination.k8s.io "{key[1]}" not found')
        return JSONResponse(self.leases[key])

    async def _create(self, request: Request) -> JSONResponse:
        namespace = request.path_params["namespace"]
        lease = json.loads(await request.body())
        name = lease["metadata"]["name"]
        if (namespace, name) in self.leases:
            return _status(409, "AlreadyExists", f'leases.coordination.k8s.io "{name}" already exists')
        self.writes.append(("POST", name, lease.get("spec", {}).get("holderIdentity")))
        return JSONResponse(self._stamp(lease, namespace, name), status_code=201)

    async def _replace(self, request: Request) -> JSONResponse:
        key = (request.path_params["namespace"], request.path_params["name"])
        lease = json.loads(await request.body())
        if key not in self.leases:
            return _status(404, "NotFound", f'leases.coordination.k8s.io "{key[1]}" not found')
        current = self.leases[key]["metadata"]["resourceVersion"]
        if lease.get("metadata", {}).get("resourceVersion") != current:
            message = "the object has been modified; please apply your changes to the latest version and try again"
            return _status(409, "Conflict", f'Operation cannot be fulfilled on leases "{key[1]}": {message}')
        self.writes.append(("PUT", key[1], lease.get("spec", {}).get("holderIdentity")))
        return JSONResponse(self._stamp(lease, *key))


class Link(httpx2.AsyncBaseTransport):
    """One replica's connection to the fake API server; `cut = True` makes every request fail to connect."""

    def __init__(self, kube: FakeKube) -> None:
        self._inner = httpx2.ASGITransport(app=kube.app)
        self.cut = False

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self.cut:
            raise httpx2.ConnectError("network partition (test)", request=request)
        return await self._inner.handle_async_request(request)


def kube_client(link: Link) -> AsyncClient:
    """A lightkube client of the fake API server, through `link`."""
    config = KubeConfig.from_one(
        cluster=Cluster(server="http://kube.test"), user=User(token="service-account-token"), namespace=NAMESPACE
    )
    return AsyncClient(config=config, transport=link, trust_env=False)
