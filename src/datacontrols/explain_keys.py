"""`reconcile explain`'s encryption line: which key protects each project's data, and whether it can be used.

A project names its key itself (`external_key_id`), so a project without one costs no read; the keys are
read in one listing for the organization (one `get` when only one project is explained). Whether a key can
be used is what reads show: the organization still has it and its purpose is `ekm`. OpenAI's own check
(`POST .../validate`) is not sent: explain's client is read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from datacontrols.adminapi import AdminApi
from datacontrols.adminapi.external_keys import ExternalKey
from datacontrols.adminapi.projects import Project
from datacontrols.errors import ApiError
from datacontrols.kinds.encryption_key import KeyBinding, describe_binding

__all__ = ["KeyRead", "binding_json", "encryption_line", "read_keys"]


class KeyRead:
    """The keys the explained projects name, by id; `error` says why they could not be read."""

    def __init__(self, keys: dict[str, ExternalKey], error: str | None = None) -> None:
        self.keys, self.error = keys, error

    def binding(self, project: Project) -> KeyBinding | None:
        """The project's binding; None when its key could not be read."""
        if project.external_key_id is None:
            return KeyBinding(key_id=None)
        if self.error is not None:
            return None
        return KeyBinding(key_id=project.external_key_id, key=self.keys.get(project.external_key_id))


async def read_keys(api: AdminApi, projects: Sequence[Project]) -> KeyRead:
    """The keys the projects name, in as few reads as possible; an error is shown, not raised."""
    named = sorted({p.external_key_id for p in projects if p.external_key_id is not None})
    try:
        if not named:
            return KeyRead({})
        if len(named) == 1:
            key = await api.external_keys.get(named[0])
            return KeyRead({key.id: key} if key is not None else {})
        return KeyRead({key.id: key for key in await api.external_keys.list()})
    except ApiError as exc:
        return KeyRead({}, exc.message)


def encryption_line(binding: KeyBinding | None, error: str | None) -> str:
    if binding is None:
        return f"unknown: the encryption key could not be read ({error})"
    return describe_binding(binding)


def binding_json(binding: KeyBinding | None) -> dict[str, Any] | None:
    """The key as `explain --format json` shows it; None when it could not be read."""
    if binding is None:
        return None
    key = binding.key
    return {
        "customer_managed": binding.key_id is not None,
        "id": binding.key_id,
        "registered": key is not None if binding.key_id is not None else None,
        "name": key.name if key else None,
        "type": key.type if key else None,
        "purpose": key.purpose if key else None,
        "locator": key.locator if key else None,
        "usable": (key is not None and key.encrypts_data) if binding.key_id is not None else None,
    }
