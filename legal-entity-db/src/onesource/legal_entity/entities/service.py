"""Business rules of entities: registration, updates under optimistic concurrency, status changes, history, search.

What every registry does alike (versions, events, ``If-Match``, history) is the registry core's
(``registry.records``); this module holds what is the legal-entity registry's own: its rules, the industry section
that follows the class, the former name a new name leaves behind, the status lifecycle, and the legal representative,
who must be a registered, living adult in population-db when registered or changed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.kit.auth import Principal
from onesource.kit.concurrency import check_version
from onesource.kit.db import Reader, driver_connection
from onesource.kit.pagination import Slice, paginate
from onesource.legal_entity.entities import repository
from onesource.legal_entity.entities.errors import (
    DuplicateEntity,
    EntityClosed,
    EntityNotFound,
    InvalidEntity,
    InvalidStatusTransition,
)
from onesource.legal_entity.entities.events import EntityRegistered, EntityStatusChanged, EntityUpdated
from onesource.legal_entity.entities.rules import (
    FINAL,
    EntityStatus,
    canonical_amount,
    entity_problems,
    industry_section,
    may_move,
    status_change_problems,
)
from onesource.legal_entity.entities.schemas import (
    RECORD_FIELDS,
    Entity,
    EntityCreate,
    EntityUpdate,
    EntityVersion,
    StatusChange,
)
from onesource.legal_entity.models import Entity as EntityRow
from onesource.legal_entity.models import EntityImport
from onesource.legal_entity.models import EntityVersion as EntityVersionRow
from onesource.legal_entity.representatives import FIELD as REPRESENTATIVE
from onesource.legal_entity.representatives import RepresentativeCheck
from onesource.registry import records
from onesource.registry.imports import loading
from onesource.registry.records import RecordKind
from onesource.registry.rules import FieldProblem, of_fields


async def _first_version_in_row(connection: asyncpg.Connection, entity: EntityRow) -> dict[str, Any] | None:
    """The first version of an imported entity while its row still holds it (``models.Entity.import_id``)."""
    return await loading.first_version_in_row(ENTITIES, EntityImport, connection, entity)


def _not_found(uscc: str) -> EntityNotFound:
    return EntityNotFound(f"no entity is registered with USCC {uscc}")


def _duplicate(uscc: str) -> DuplicateEntity:
    return DuplicateEntity(f"an entity with USCC {uscc} is already registered")


ENTITIES: RecordKind[EntityRow] = RecordKind(
    table=EntityRow,
    version_table=EntityVersionRow,
    key="uscc",
    shape=Entity,
    record_fields=RECORD_FIELDS,
    registered=EntityRegistered,
    updated=EntityUpdated,
    not_found=_not_found,
    duplicate=_duplicate,
    version_shape=EntityVersion,
    normalise_key=str.upper,
    unwritten_first_version=_first_version_in_row,
)
"""Entities, as the registry core keeps them (an import's first versions in the entity rows, see ``imports``)."""


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """Checked values as the table keeps them: the capital's amount canonical, the industry section derived."""
    stored = dict(values)
    capital = stored.get("registered_capital")
    if capital is not None:
        stored["registered_capital"] = {
            "amount": canonical_amount(capital["amount"]),
            "currency": capital["currency"],
        }
    if "industry_code" in stored:
        stored["industry_section"] = industry_section(stored["industry_code"])
    return stored


async def representative_problems(check: RepresentativeCheck, id_number: str) -> list[FieldProblem]:
    """Population-db's refusal of ``id_number`` as a legal representative, if any (503 when it cannot answer)."""
    verdict = await check.verdict(id_number)
    return [] if verdict.problem is None else [FieldProblem(REPRESENTATIVE, verdict.problem)]


def registration_values(values: dict[str, Any], *, today: date, storable: bool = False) -> dict[str, Any]:
    """The values to register for a new entity by every rule of the record; :class:`InvalidEntity` (422) otherwise.

    Population-db's answer about the legal representative is asked for apart (the bulk import checks rows in worker
    processes, and asks once per person from the request's). ``storable``: as for :func:`entity_problems`.
    """
    problems = entity_problems(values, today=today, storable=storable)
    if problems:
        raise InvalidEntity(problems)
    return _stored(values)


async def checked_registration(values: dict[str, Any], check: RepresentativeCheck, *, today: date) -> dict[str, Any]:
    """The values to register for a new entity: every rule, then population-db's answer about the representative.

    :class:`InvalidEntity` (422) lists every problem; the representative is asked about only when the record
    itself is valid (no question for a record refused anyway).
    """
    stored = registration_values(values, today=today)
    problems = await representative_problems(check, values[REPRESENTATIVE])
    if problems:
        raise InvalidEntity(problems)
    return stored


async def register(
    session: AsyncSession, create: EntityCreate, principal: Principal, check: RepresentativeCheck, *, today: date
) -> Entity:
    """Register an entity; :class:`InvalidEntity` (422), :class:`DuplicateEntity` (409) or 503 (population unknown)."""
    values = await checked_registration(create.model_dump(), check, today=today)
    entity, _ = await records.register_on(await driver_connection(session), ENTITIES, values, principal)
    assert isinstance(entity, Entity)
    return entity


async def read(connection: Reader, uscc: str) -> Entity:
    """The entity with ``uscc`` as the API shows it; :class:`EntityNotFound` (404) otherwise."""
    entity = await records.read(connection, ENTITIES, uscc)
    assert isinstance(entity, Entity)
    return entity


async def get(session: AsyncSession, uscc: str) -> EntityRow:
    """The entity with ``uscc``; :class:`EntityNotFound` (404) otherwise."""
    return await records.get(session, ENTITIES, uscc)


def _merged_capital(current: dict[str, Any] | None, patch: dict[str, Any] | None) -> dict[str, Any] | None:
    """RFC 7396 for the one object-valued field: members of ``patch`` set (``null`` removes), the rest kept."""
    if patch is None:
        return None
    merged = {**(current or {}), **patch}
    return {name: value for name, value in merged.items() if value is not None}


def _proposed(entity: EntityRow, patch: EntityUpdate) -> dict[str, Any]:
    """The fields the patch really changes, typed (the capital merged), with the former name a new name leaves."""
    current = ENTITIES.record_of(entity)
    proposed = patch.changes()
    if "registered_capital" in proposed:
        proposed["registered_capital"] = _merged_capital(entity.registered_capital, proposed["registered_capital"])
    changed = {name for name, value in proposed.items() if current.get(name) != value}
    typed = {name: value for name, value in patch.model_dump(include=changed).items()}
    if "registered_capital" in changed:
        typed["registered_capital"] = proposed["registered_capital"]
    if "name" in typed and "former_names" not in patch.model_fields_set and entity.name not in entity.former_names:
        typed["former_names"] = [*entity.former_names, entity.name]  # the old name: a former name (曾用名)
    return typed


async def update(
    session: AsyncSession,
    uscc: str,
    patch: EntityUpdate,
    *,
    expected_version: int | None,
    principal: Principal,
    check: RepresentativeCheck,
    today: date,
) -> EntityRow:
    """Apply a partial update to the version the caller read; 404, 409 (closed), 412 (stale), 422 or 503.

    The changed record must pass every rule a registration passes (the problems of the fields it changes are
    reported); a new legal representative is asked about in population-db like at registration. A patch that
    changes nothing makes no version and no event.
    """
    entity = await records.get(session, ENTITIES, uscc, for_update=True)  # the row lock serialises changes
    check_version(entity.version, expected_version)
    typed = _proposed(entity, patch)
    if not typed:
        return entity
    if entity.status in FINAL:
        raise EntityClosed(f"{entity.uscc} is {entity.status}; the record no longer changes")
    merged = {**Entity.model_validate(entity).model_dump(include=set(RECORD_FIELDS)), **typed}
    problems = of_fields(entity_problems(merged, today=today), typed)
    if problems:
        raise InvalidEntity(problems)
    if REPRESENTATIVE in typed:
        problems = await representative_problems(check, typed[REPRESENTATIVE])
        if problems:
            raise InvalidEntity(problems)
    return await records.apply_change(
        session, ENTITIES, entity, change="updated", values=_stored(typed), event=EntityUpdated, by=principal
    )


async def change_status(
    session: AsyncSession,
    uscc: str,
    change: StatusChange,
    *,
    expected_version: int | None,
    principal: Principal,
    today: date,
) -> EntityRow:
    """Move the entity along its lifecycle; 404, 409 ``invalid-status-transition``, 412 (stale) or 422."""
    entity = await records.get(session, ENTITIES, uscc, for_update=True)
    check_version(entity.version, expected_version)
    current = EntityStatus(entity.status)
    if not may_move(current, change.status):
        raise InvalidStatusTransition(
            f"{entity.uscc} is {current}; the lifecycle does not lead from {current} to {change.status}",
            current_status=current.value,
            requested_status=change.status.value,
        )
    problems = status_change_problems(
        established_on=entity.established_on, effective_on=change.effective_on, today=today, reason=change.reason
    )
    if problems:
        raise InvalidEntity(problems)
    return await records.apply_change(
        session,
        ENTITIES,
        entity,
        change="status-changed",
        values={
            "status": change.status.value,
            "status_reason": change.reason,
            "status_effective_on": change.effective_on,
        },
        event=EntityStatusChanged,
        by=principal,
    )


async def history(session: AsyncSession, uscc: str, *, limit: int, cursor: str | None) -> Slice[Any]:
    """One page of the entity's versions, oldest first, each with the whole record as of that version."""
    return await records.history(session, ENTITIES, uscc, limit=limit, cursor=cursor)


async def search(
    session: AsyncSession,
    *,
    name: str | None,
    region: str | None,
    industry: str | None,
    status: EntityStatus | None,
    established_from: date | None,
    established_to: date | None,
    limit: int,
    cursor: str | None,
) -> Slice[EntityRow]:
    """One page of entities matching the filters, in USCC order."""
    statement = repository.search(
        name=name,
        region=region,
        industry=industry,
        status=status,
        established_from=established_from,
        established_to=established_to,
    )
    return await paginate(session, statement, order=[EntityRow.uscc], limit=limit, cursor=cursor)
