"""Business rules of addresses.

Registration, changes under optimistic concurrency, retirement, history, and the spatial searches (bounding box,
nearby in metres).

What every registry does alike (versions, events, ``If-Match``, history) is the registry core's
(``registry.records``); this module holds what is the addresses' own.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.geo import reads, spatial
from onesource.geo.addresses import repository
from onesource.geo.addresses.errors import AddressNotFound, AddressRetired, DuplicateAddress, InvalidAddress
from onesource.geo.addresses.events import AddressRegistered, AddressUpdated
from onesource.geo.addresses.events import AddressRetired as AddressRetiredEvent
from onesource.geo.addresses.rules import field_problems, full_address, level_problems, record_problems
from onesource.geo.addresses.schemas import (
    LEVELS,
    RECORD_FIELDS,
    AddressCreate,
    AddressRecord,
    AddressUpdate,
    AddressVersion,
)
from onesource.geo.geojson import Box, Position
from onesource.geo.geometry import point_problems, to_element
from onesource.geo.models import Address as AddressRow
from onesource.geo.models import AddressVersion as AddressVersionRow
from onesource.geo.rules import FieldProblem
from onesource.kit.auth import Principal
from onesource.kit.concurrency import check_version
from onesource.kit.db import Reader
from onesource.kit.pagination import Slice
from onesource.registry import records
from onesource.registry.records import RecordKind


def _not_found(code: str) -> AddressNotFound:
    return AddressNotFound(f"no address is registered with code {code}")


def _duplicate(code: str) -> DuplicateAddress:
    return DuplicateAddress(f"an address with code {code} is already registered")


ADDRESSES: RecordKind[AddressRow] = RecordKind(
    table=AddressRow,
    version_table=AddressVersionRow,
    key="address_code",
    shape=AddressRecord,
    record_fields=RECORD_FIELDS,
    registered=AddressRegistered,
    updated=AddressUpdated,
    not_found=_not_found,
    duplicate=_duplicate,
    version_shape=AddressVersion,
)
"""Addresses, as the registry core keeps them."""


def _checked_point(geometry: Any) -> Any:
    """The stored form of a point the document rules accept (a point has no shape for PostGIS to judge)."""
    problems = point_problems(geometry)
    if problems:
        raise InvalidAddress(problems)
    return to_element(geometry)


async def register(session: AsyncSession, create: AddressCreate, principal: Principal, today: date) -> AddressRow:
    """Register an address; :class:`InvalidAddress` (422) or :class:`DuplicateAddress` (409)."""
    values = create.properties.model_dump()
    problems = record_problems(values, today)
    if create.id is not None and create.id != values["address_code"]:
        problems.append(FieldProblem("address_code", f"differs from the feature's id {create.id!r}"))
    problems += point_problems(create.geometry)
    if problems:
        raise InvalidAddress(problems)
    division_code = values["address_code"][:6]
    values = {
        **values,
        "division_code": division_code,
        "full_address": full_address(division_code, values, today),
        "geometry": to_element(create.geometry),
    }
    return await records.register(session, ADDRESSES, values, principal)


async def get(session: AsyncSession, code: str, *, for_update: bool = False) -> AddressRow:
    """The address with ``code``; :class:`AddressNotFound` (404) otherwise."""
    return await records.get(session, ADDRESSES, code, for_update=for_update)


async def update(
    session: AsyncSession,
    code: str,
    patch: AddressUpdate,
    *,
    expected_version: int | None,
    principal: Principal,
    today: date,
) -> AddressRow:
    """Apply a merge patch to the version the caller read; 404, 409 (retired), 412 (stale) or 422."""

    def check(address: AddressRow, changed: dict[str, Any]) -> dict[str, Any]:
        if address.status == "retired":
            raise AddressRetired(f"address {address.address_code} was retired on {address.retired_on}")
        values = {name: value for name, value in changed.items() if name != "geometry"}
        levels = {name: getattr(address, name) for name in LEVELS} | values
        problems = field_problems(values, today) + level_problems(levels)
        if problems:
            raise InvalidAddress(problems)
        if values:
            values["full_address"] = full_address(address.division_code, levels, today)
        if "geometry" in changed:
            values["geometry"] = _checked_point(changed["geometry"])
        return values

    return await records.change_fields(
        session, ADDRESSES, code, patch=patch.changes(), expected_version=expected_version, by=principal, check=check
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
) -> AddressRow:
    """Retire the address (注销); 404, 409 when already retired, 412 (stale) or 422 (a future date)."""
    address = await get(session, code, for_update=True)
    check_version(address.version, expected_version)
    if address.status == "retired":
        raise AddressRetired(f"address {address.address_code} was already retired on {address.retired_on}")
    if retired_on > today:
        raise InvalidAddress([FieldProblem("retired_on", "is in the future")])
    return await records.apply_change(
        session,
        ADDRESSES,
        address,
        change="retired",
        values={"status": "retired", "retired_on": retired_on, "retirement_reason": reason},
        event=AddressRetiredEvent,
        by=principal,
    )


async def history(session: AsyncSession, code: str, *, limit: int, cursor: str | None) -> Slice[Any]:
    """One page of the address's versions, oldest first, each with the whole record as of that version."""
    return await records.history(session, ADDRESSES, code, limit=limit, cursor=cursor)


async def search(
    connection: Reader,
    *,
    bbox: Box | None,
    division: str | None,
    include_retired: bool,
    limit: int,
    cursor: str | None,
) -> Slice[asyncpg.Record]:
    """One page of addresses in a box or division, in address-code order (rows of the address table)."""
    after = reads.cursor_keys(cursor, (str,))
    statement = repository.search(
        bbox=bbox is not None, division=division is not None, include_retired=include_retired, after=after is not None
    )
    values: dict[str, Any] = {"limit": limit + 1}
    if bbox is not None:
        values.update(spatial.box_values(bbox))
    if division is not None:
        values["division"] = spatial.prefix_pattern(division)
    if after is not None:
        values["after_code"] = after[0]
    return reads.page(await statement.fetch(connection, values), limit, ("address_code",))


async def near(
    connection: Reader,
    centre: Position,
    radius_m: float,
    *,
    division: str | None,
    include_retired: bool,
    limit: int,
    cursor: str | None,
) -> Slice[asyncpg.Record]:
    """One page of the addresses within ``radius_m`` of ``centre``, nearest first (rows with ``distance_m``)."""
    after = reads.cursor_keys(cursor, (float, str))
    statement = repository.near(division=division is not None, include_retired=include_retired, after=after is not None)
    values: dict[str, Any] = {"limit": limit + 1, "radius": radius_m, **spatial.position_values(centre)}
    if division is not None:
        values["division"] = spatial.prefix_pattern(division)
    if after is not None:
        values["after_distance"], values["after_code"] = after
    return reads.page(await statement.fetch(connection, values), limit, ("distance_m", "address_code"))
