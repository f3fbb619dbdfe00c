"""The macroeconomy registry's own dependencies (who may write is the registry core's: ``registry.access``).

Reading data has one more rule than a record registry: observations of a vintage not yet released (embargoed)
reach only the owner, and the gateway only when it says that the department it acts for holds a grant on the
dataflow's ``…-prerelease`` resource (``X-OneSource-Prerelease: granted``); :class:`DataReader` carries which.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request

from onesource.kit.auth import GATEWAY_ROLE
from onesource.macroeconomy.settings import Settings
from onesource.registry.access import ReaderDep

#: The header with which the gateway asks for embargoed observations for a department with pre-release access.
PRERELEASE_HEADER = "X-OneSource-Prerelease"
PRERELEASE_GRANTED = "granted"


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]
"""The registry's settings."""


async def _now() -> datetime:
    return datetime.now(UTC)


NowDep = Annotated[datetime, Depends(_now)]
"""The registry's one clock (tests override it)."""


@dataclass(frozen=True, slots=True)
class DataReader:
    """Who reads data, and whether embargoed observations reach them."""

    department: str
    prerelease: bool
    """The owner, or the gateway for a department holding a pre-release grant."""


async def _data_reader(
    reader: ReaderDep,
    settings: SettingsDep,
    prerelease: Annotated[
        str | None,
        Header(
            alias=PRERELEASE_HEADER,
            description=(
                "Sent by the gateway as `granted` when the department it acts for holds a grant on the dataflow's "
                "`…-prerelease` resource: the answer then includes embargoed observations (marked by EMBARGO_TIME)."
            ),
        ),
    ] = None,
) -> DataReader:
    owner = reader.department == settings.owner_department
    through_gateway = reader.has_role(GATEWAY_ROLE) and prerelease == PRERELEASE_GRANTED
    return DataReader(reader.department, owner or through_gateway)


DataReaderDep = Annotated[DataReader, Depends(_data_reader)]
"""The owner, or the gateway acting under a grant, with whether embargoed observations reach it."""
