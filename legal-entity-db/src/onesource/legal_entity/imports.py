"""Bulk import of entities: the registry core's import job (``registry.imports``), with the registry's own rules.

Each row is checked exactly as a registration through the API is — the same rules, and population-db's answer about
the legal representative (asked once per person per import) — and registered with the same row, first version and
event (``registry.imports.loading``: the events deferred to the relay, which renders them with :data:`RENDERERS`).
When population-db cannot be asked, the import fails as a whole (503) rather than guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from fastapi import Request
from pydantic import ValidationError

from onesource.kit.outbox import Renderer
from onesource.legal_entity.entities import service
from onesource.legal_entity.entities.errors import InvalidEntity
from onesource.legal_entity.entities.schemas import IMPORT_COLUMNS, ImportRow
from onesource.legal_entity.models import EntityImport, EntityImportError
from onesource.legal_entity.representatives import RepresentativeCheck
from onesource.registry.imports.loading import registrations_renderer
from onesource.registry.imports.router import router as import_router
from onesource.registry.imports.service import ImportJob, RowCheck
from onesource.registry.rules import FieldProblem, validation_problems


def row_check(request: Request) -> RowCheck:
    """The check of one import's rows: the registration's, asking population-db once per representative."""
    check: RepresentativeCheck = request.app.state.representative_check
    representatives = check.remembering()
    today = date.today()

    async def checked(values: Mapping[str, Any]) -> dict[str, Any] | list[FieldProblem]:
        try:
            row = ImportRow.model_validate(values)
        except ValidationError as error:
            return validation_problems(error)
        try:
            return await service.checked_registration(row.model_dump(), representatives, today=today)
        except InvalidEntity as refused:
            return list(refused.problems)

    return checked


ENTITY_IMPORTS: ImportJob[Any] = ImportJob(
    kind=service.ENTITIES,
    imports=EntityImport,
    errors=EntityImportError,
    columns=IMPORT_COLUMNS,
    check=row_check,
    records_name="entities",
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
