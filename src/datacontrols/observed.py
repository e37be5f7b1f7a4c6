"""What one run read from the organization: the input of the pure diff and of the safety thresholds.

Its own module so that the safety checks can name it without importing the engine that produces it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from datacontrols.adminapi.projects import Project

__all__ = ["Observed"]


@dataclass
class Observed:
    """What one run read from the organization."""

    projects: list[Project] = field(default_factory=list)
    organization: dict[str, Any] = field(default_factory=dict)  # organization kind name -> value
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # project id -> kind name -> value
    failures: dict[str, str] = field(default_factory=dict)  # project name -> why it could not be read

    def digest(self) -> str:
        """sha256 of everything read, canonicalised; equal digests mean nothing moved."""
        data = {
            "projects": sorted((p.model_dump(mode="json") for p in self.projects), key=lambda p: p["id"]),
            "organization": self.organization,
            "settings": self.settings,
            "failures": self.failures,
        }
        canonical = json.dumps(_jsonable(data), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
