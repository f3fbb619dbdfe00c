"""Bulk import of entities: the registry core's import job (``registry.imports``), with the registry's own rules.

Each row is checked exactly as a registration through the API is: the same rules (:func:`entity_rules`, in the
core's worker processes), and population-db's answer about the legal representative (asked from the request's
process, once per person per import). Good rows are registered with the same record, first version and event
(``registry.imports.loading``): one row per entity, which names its import and is its first version until it
changes (``models.Entity.import_id``), and the events deferred to the relay, which renders them with
:data:`RENDERERS`. When population-db cannot be asked, the import fails as a whole (503) rather than guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from pydantic import ValidationError

from onesource.kit.outbox import Renderer
from onesource.legal_entity.entities import service
from onesource.legal_entity.entities.errors import InvalidEntity
from onesource.legal_entity.entities.rules import EntityStatus
from onesource.legal_entity.entities.schemas import IMPORT_COLUMNS, ImportRow
from onesource.legal_entity.models import EntityImport, EntityImportError
from onesource.legal_entity.representatives import FIELD as REPRESENTATIVE
from onesource.legal_entity.representatives import RepresentativeCheck
from onesource.registry.imports.checking import RowContext
from onesource.registry.imports.loading import registrations_renderer
from onesource.registry.imports.router import router as import_router
from onesource.registry.imports.service import Confirmation, ImportJob, ValueCheck
from onesource.registry.rules import FieldProblem, validation_problems


def entity_rules(values: Mapping[str, Any], context: RowContext) -> dict[str, Any] | list[FieldProblem]:
    """One row by the registration's rules: the whole record to register, or why not (runs in a worker process)."""
    try:
        row = ImportRow.model_validate(values)
    except ValidationError as error:
        return validation_problems(error)
    try:
        registered = service.registration_values(_fields(row), today=context.today, storable=context.storable)
    except InvalidEntity as refused:
        return list(refused.problems)
    return {**registered, **REGISTERED_STATUS}


def _fields(row: ImportRow) -> dict[str, Any]:
    """``row.model_dump()``, for the one nested model the shape has: a tenth of the cost, on every row of an import."""
    fields = dict(row.__dict__)  # every field, validated (extra fields are forbidden)
    capital = fields["registered_capital"]
    if capital is not None:
        fields["registered_capital"] = dict(capital.__dict__)
    return fields


#: Where the lifecycle of a registered entity starts (the columns' defaults, which an API registration leaves to
#: the table): an import's rows carry the whole record, as its first version holds it.
REGISTERED_STATUS = {"status": EntityStatus.ACTIVE.value, "status_reason": None, "status_effective_on": None}


def representative_check(request: Request) -> ValueCheck:
    """Population-db's answer about one legal representative, through the gateway (the app's check)."""
    check: RepresentativeCheck = request.app.state.representative_check

    async def problems(id_number: Any) -> list[FieldProblem]:
        return await service.representative_problems(check, id_number)

    return problems


ENTITY_IMPORTS: ImportJob[Any] = ImportJob(
    kind=service.ENTITIES,
    imports=EntityImport,
    errors=EntityImportError,
    columns=IMPORT_COLUMNS,
    rules=entity_rules,
    records_name="entities",
    confirmation=Confirmation(REPRESENTATIVE, representative_check),
)
"""Entity imports, as the registry core runs them."""

RENDERERS: dict[str, Renderer] = dict([registrations_renderer(service.ENTITIES)])
"""The relay's renderers of the registry's deferred events: an import's registrations."""

router = import_router(
    ENTITY_IMPORTS,
    body_description=(
        "CSV with a header row, or NDJSON (one JSON object per line, shaped as a registration). CSV columns: "
        + ", ".join(IMPORT_COLUMNS)
        + ". In CSV, former names are separated by semicolons, the registered capital is two columns, and empty "
        "cells are absent values."
    ),
)
