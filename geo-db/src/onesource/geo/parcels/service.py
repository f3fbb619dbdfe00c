"""Business rules of parcels.

Registration with PostGIS's verdict on the boundary and its geodesic area, changes under optimistic concurrency,
retirement, history, spatial search.

What every registry does alike (versions, events, ``If-Match``, history) is the registry core's
(``registry.records``); this module holds what is the parcels' own.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.geo import reads, spatial
from onesource.geo.geojson import Box, Position
from onesource.geo.geometry import area_problems
from onesource.geo.models import Parcel as ParcelRow
from onesource.geo.models import ParcelVersion as ParcelVersionRow
from onesource.geo.parcels import repository
from onesource.geo.parcels.errors import DuplicateParcel, InvalidParcel, ParcelNotFound, ParcelRetired
from onesource.geo.parcels.events import ParcelRegistered, ParcelUpdated
from onesource.geo.parcels.events import ParcelRetired as ParcelRetiredEvent
from onesource.geo.parcels.rules import record_problems
from onesource.geo.parcels.schemas import RECORD_FIELDS, ParcelCreate, ParcelRecord, ParcelUpdate, ParcelVersion
from onesource.geo.rules import FieldProblem
from onesource.kit.auth import Principal
from onesource.kit.concurrency import check_version
from onesource.kit.db import Reader
from onesource.kit.pagination import Slice
from onesource.registry import records
from onesource.registry.records import RecordKind


def _not_found(code: str) -> ParcelNotFound:
    return ParcelNotFound(f"no parcel is registered with code {code}")


def _duplicate(code: str) -> DuplicateParcel:
    return DuplicateParcel(f"a parcel with code {code} is already registered")


PARCELS: RecordKind[ParcelRow] = RecordKind(
    table=ParcelRow,
    version_table=ParcelVersionRow,
    key="parcel_code",
    shape=ParcelRecord,
    record_fields=RECORD_FIELDS,
    registered=ParcelRegistered,
    updated=ParcelUpdated,
    not_found=_not_found,
    duplicate=_duplicate,
    version_shape=ParcelVersion,
    normalise_key=str.upper,
)
"""Parcels, as the registry core keeps them."""


def record_of(parcel: ParcelRow) -> dict[str, Any]:
    """The record's fields, JSON-ready (``geometry`` as GeoJSON), as events and history carry them."""
    return PARCELS.record_of(parcel)


async def _checked_geometry(session: AsyncSession, geometry: Any) -> dict[str, Any]:
    """The column values of a boundary — the geometry and its area — once the document and PostGIS accept it."""
    problems = area_problems(geometry)
    if problems:
        raise InvalidParcel(problems)
    inspection = await spatial.inspect(session, geometry)
    if not inspection.valid:
        where = f" at {inspection.location}" if inspection.location else ""
        raise InvalidParcel([FieldProblem("geometry", f"invalid polygon: {inspection.reason}{where}")])
    if inspection.area_m2 <= 0:
        raise InvalidParcel([FieldProblem("geometry", "the polygon has no area")])
    return {"geometry": inspection.element, "area_m2": round(inspection.area_m2, 2)}


async def register(session: AsyncSession, create: ParcelCreate, principal: Principal, today: date) -> ParcelRow:
    """Register a parcel; :class:`InvalidParcel` (422) or :class:`DuplicateParcel` (409)."""
    values = create.properties.model_dump()
    problems = record_problems(values, today)
    if create.id is not None and create.id.upper() != values["parcel_code"]:
        problems.append(FieldProblem("parcel_code", f"differs from the feature's id {create.id!r}"))
    if problems:
        raise InvalidParcel(problems)
    geometry = await _checked_geometry(session, create.geometry)
    values = {**values, "division_code": values["parcel_code"][:6], **geometry}
    return await records.register(session, PARCELS, values, principal)


async def get(session: AsyncSession, code: str, *, for_update: bool = False) -> ParcelRow:
    """The parcel with ``code``; :class:`ParcelNotFound` (404) otherwise."""
    return await records.get(session, PARCELS, code, for_update=for_update)


async def update(
    session: AsyncSession,
    code: str,
    patch: ParcelUpdate,
    *,
    expected_version: int | None,
    principal: Principal,
    today: date,
) -> ParcelRow:
    """Apply a merge patch to the version the caller read; 404, 409 (retired), 412 (stale) or 422."""
    changes = patch.changes()
    geometry: dict[str, Any] | None = None
    if "geometry" in changes:
        # checked before the row is locked: the verdict needs PostGIS but not the record
        geometry = await _checked_geometry(session, changes["geometry"])

    def check(parcel: ParcelRow, changed: dict[str, Any]) -> dict[str, Any]:
        if parcel.status == "retired":
            raise ParcelRetired(f"parcel {parcel.parcel_code} was retired on {parcel.retired_on}; it no longer changes")
        problems = record_problems({name: value for name, value in changed.items() if name != "geometry"}, today)
        if problems:
            raise InvalidParcel(problems)
        values = {name: value for name, value in changed.items() if name != "geometry"}
        if "geometry" in changed and geometry is not None:
            values.update(geometry)
        return values

    return await records.change_fields(
        session, PARCELS, code, patch=changes, expected_version=expected_version, by=principal, check=check
    )


async def retire(
    session: AsyncSession,
    code: str,
    retired_on: date,
    reason: str,
    *,
    expected_version: int | None,
    principal: Principal,
    today: date,
) -> ParcelRow:
    """Retire the parcel (注销); 404, 409 when already retired, 412 (stale) or 422 (a future date)."""
    parcel = await get(session, code, for_update=True)
    check_version(parcel.version, expected_version)
    if parcel.status == "retired":
        raise ParcelRetired(f"parcel {parcel.parcel_code} was already retired on {parcel.retired_on}")
    if retired_on > today:
        raise InvalidParcel([FieldProblem("retired_on", "is in the future")])
    return await records.apply_change(
        session,
        PARCELS,
        parcel,
        change="retired",
        values={"status": "retired", "retired_on": retired_on, "retirement_reason": reason},
        event=ParcelRetiredEvent,
        by=principal,
    )


async def history(session: AsyncSession, code: str, *, limit: int, cursor: str | None) -> Slice[Any]:
    """One page of the parcel's versions, oldest first, each with the whole record as of that version."""
    return await records.history(session, PARCELS, code, limit=limit, cursor=cursor)


async def search(
    connection: Reader,
    *,
    contains: Position | None,
    bbox: Box | None,
    division: str | None,
    land_use: str | None,
    include_retired: bool,
    limit: int,
    cursor: str | None,
) -> Slice[asyncpg.Record]:
    """One page of parcels matching the filters, in parcel-code order (rows of the parcel table)."""
    after = reads.cursor_keys(cursor, (str,))
    statement = repository.search(
        contains=contains is not None,
        bbox=bbox is not None,
        division=division is not None,
        land_use=land_use is not None,
        include_retired=include_retired,
        after=after is not None,
    )
    values: dict[str, Any] = {"limit": limit + 1}
    if contains is not None:
        values.update(spatial.position_values(contains))
    if bbox is not None:
        values.update(spatial.box_values(bbox))
    if division is not None:
        values["division"] = spatial.prefix_pattern(division)
    if land_use is not None:
        values["land_use"] = spatial.prefix_pattern(land_use)
    if after is not None:
        values["after_code"] = after[0]
    return reads.page(await statement.fetch(connection, values), limit, ("parcel_code",))
