"""Projects (`/organization/projects`): list, create, retrieve, modify, archive.

Residency can only be chosen at creation; archive is one-way. Projects cannot be deleted.
"""

from __future__ import annotations

from typing import Any, Literal

from datacontrols.adminapi.base import ApiModel, Family, parse
from datacontrols.adminapi.one_writer import Claim, create_once, oldest
from datacontrols.adminapi.transport import route

__all__ = ["RESIDENCIES", "SDK_ONLY_RESIDENCIES", "SPEC_RESIDENCIES", "Project", "Projects", "Residency"]

# The residencies openai-python's `ProjectResidency` knows (SDK-NEWER.md section 6), in its order: the pinned
# spec's `PublicProjectResidency` (12 values) plus the three in-region processing ones it lacks, which the SDK
# sends and reads like the rest. A desired-state file may name any of them; the emulator serves them all.
Residency = Literal[
    "GLOBAL",
    "US_STORAGE_PROCESSING",
    "EU_STORAGE_PROCESSING",
    "JP_STORAGE",
    "JP_STORAGE_PROCESSING",
    "KR_STORAGE",
    "CA_STORAGE",
    "SG_STORAGE",
    "IN_STORAGE",
    "IN_STORAGE_PROCESSING",
    "AU_STORAGE",
    "AU_STORAGE_PROCESSING",
    "GB_STORAGE",
    "AE_STORAGE",
    "AE_STORAGE_PROCESSING",
]
RESIDENCIES: tuple[str, ...] = Residency.__args__  # type: ignore[attr-defined]
SDK_ONLY_RESIDENCIES: tuple[str, ...] = ("JP_STORAGE_PROCESSING", "IN_STORAGE_PROCESSING", "AU_STORAGE_PROCESSING")
SPEC_RESIDENCIES: tuple[str, ...] = tuple(r for r in RESIDENCIES if r not in SDK_ONLY_RESIDENCIES)

LIST_PATH = "/organization/projects"
ONE_PATH = "/organization/projects/{project_id}"
ARCHIVE_PATH = "/organization/projects/{project_id}/archive"


class Project(ApiModel):
    id: str
    object: str = "organization.project"
    name: str | None = None
    created_at: int = 0
    archived_at: int | None = None
    status: str | None = None
    external_key_id: str | None = None
    residency: str | None = None
    geography: str | None = None  # older API builds reported residency under this name

    @property
    def archived(self) -> bool:
        return self.status == "archived" or self.archived_at is not None

    @property
    def effective_residency(self) -> str | None:
        """Residency as reported, falling back to the older `geography` field."""
        return self.residency or self.geography


class Projects(Family):
    async def list(self, *, include_archived: bool = False) -> list[Project]:
        params = {"include_archived": "true" if include_archived else "false"}
        where = route(LIST_PATH)
        return [parse(Project, p, where) async for p in self._t.paginate(where, params=params)]

    async def retrieve(self, project_id: str) -> Project:
        where = route(ONE_PATH, project_id=project_id)
        return parse(Project, await self._t.get(where), where)

    async def create(self, name: str, *, residency: str | None = None, external_key_id: str | None = None) -> Project:
        body: dict[str, Any] = {"name": name}
        if residency is not None:
            body["residency"] = residency
        if external_key_id is not None:
            body["external_key_id"] = external_key_id

        async def recheck() -> Project | None:
            # A project with this name that is active means the create went through.
            matches = [p for p in await self.list() if p.name == name and not p.archived]
            return matches[0] if len(matches) == 1 else None

        where = route(LIST_PATH)
        return parse(Project, await self._t.write("POST", where, body=body, recheck=recheck), where)

    async def create_once(
        self, name: str, *, residency: str | None = None, external_key_id: str | None = None
    ) -> Claim[Project]:
        """Create the project unless an active one of this name exists; of racing duplicates the oldest is kept
        and this run's own is archived (projects cannot be deleted). See `one_writer`."""

        async def find() -> list[Project]:
            return [p for p in await self.list() if p.name == name and not p.archived]

        async def discard(project: Project) -> None:
            await self.archive(project.id)

        return await create_once(
            find=find,
            create=lambda: self.create(name, residency=residency, external_key_id=external_key_id),
            discard=discard,
            settle=self._t.pause,
            keep=oldest,
            discarded_as="archived",
        )

    async def modify(self, project_id: str, **changes: str | None) -> Project:
        """Change `name` and/or `external_key_id` (None clears the external key)."""
        unknown = set(changes) - {"name", "external_key_id"}
        if unknown:
            raise ValueError(f"projects cannot modify {sorted(unknown)}")

        async def recheck() -> Project | None:
            observed = await self.retrieve(project_id)
            done = all(getattr(observed, k) == v for k, v in changes.items())
            return observed if done else None

        where = route(ONE_PATH, project_id=project_id)
        return parse(Project, await self._t.write("POST", where, body=dict(changes), recheck=recheck), where)

    async def archive(self, project_id: str) -> Project:
        async def recheck() -> Project | None:
            observed = await self.retrieve(project_id)
            return observed if observed.archived else None

        where = route(ARCHIVE_PATH, project_id=project_id)
        return parse(Project, await self._t.write("POST", where, recheck=recheck), where)
