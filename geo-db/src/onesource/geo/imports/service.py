"""Bulk registration: a FeatureCollection of addresses or parcels registered in one transaction.

Each feature passes the same rules as its single registration; any refused feature refuses the whole collection,
naming each one.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.geo.addresses import service as addresses
from onesource.geo.addresses.schemas import AddressCreate
from onesource.geo.imports.schemas import FeatureImportCreate
from onesource.geo.models import FeatureImport as FeatureImportRow
from onesource.geo.parcels import service as parcels
from onesource.geo.parcels.schemas import ParcelCreate
from onesource.kit.auth import Principal
from onesource.kit.errors import ServiceError
from onesource.kit.pagination import Slice, paginate


class InvalidFeatures(ServiceError):
    """Features of the collection were refused (422); nothing was registered. ``invalid_params`` names each."""

    status = 422
    type = "invalid-features"
    title = "Invalid features"


Collection = Literal["addresses", "parcels"]


async def register(
    session: AsyncSession, collection: Collection, body: FeatureImportCreate, principal: Principal, today: date
) -> FeatureImportRow:
    """Register every feature, or none: 422 naming each refused feature by its index."""
    problems: list[dict[str, str]] = []
    for index, document in enumerate(body.features):
        where = f"body.features[{index}]"
        try:
            async with session.begin_nested():  # a refused feature leaves no half-written rows behind
                if collection == "addresses":
                    await addresses.register(session, AddressCreate.model_validate(document), principal, today)
                else:
                    await parcels.register(session, ParcelCreate.model_validate(document), principal, today)
        except ValidationError as error:
            problems += [
                {"name": f"{where}.{'.'.join(str(part) for part in item['loc'])}", "reason": item["msg"]}
                for item in error.errors()
            ]
        except ServiceError as error:
            params: list[Any] = error.extensions.get("invalid_params") or [{"name": "body", "reason": error.detail}]
            problems += [
                {"name": where + str(param["name"]).removeprefix("body"), "reason": param["reason"]} for param in params
            ]
        if len(problems) >= 100:
            break
    if problems:
        raise InvalidFeatures(f"{len(problems)} problems; nothing was registered", invalid_params=problems[:100])
    row = FeatureImportRow(
        id=uuid.uuid4(),
        collection=collection,
        client_id=principal.client_id,
        department=principal.department,
        features=len(body.features),
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def search(session: AsyncSession, *, limit: int, cursor: str | None) -> Slice[FeatureImportRow]:
    """One page of the bulk registrations, oldest first."""
    return await paginate(
        session,
        select(FeatureImportRow),
        order=[FeatureImportRow.created_at, FeatureImportRow.id],
        limit=limit,
        cursor=cursor,
    )
