"""What every endpoint family shares: the response model base and the family base class."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from datacontrols.adminapi.transport import Transport

__all__ = ["ApiModel", "Family"]


class ApiModel(BaseModel):
    """A response object. Lenient on purpose: fields the API adds later must not break a run."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class Family:
    """An endpoint family (projects, data retention, ...): a thin typed layer over the transport."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport
