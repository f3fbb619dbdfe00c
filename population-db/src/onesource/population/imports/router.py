"""Bulk import endpoints: ``/v1/imports``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response, status

from onesource.kit.db import SessionDep
from onesource.kit.errors import UnsupportedMediaType, problem_responses
from onesource.kit.pagination import Cursor, Limit, Page
from onesource.population.dependencies import SettingsDep
from onesource.population.imports import service
from onesource.population.imports.schemas import IMPORT_COLUMNS, ImportReport, PersonImport, RowError
from onesource.registry.access import OwnerDep, RegistrarDep
from onesource.registry.imports.parsing import MEDIA_TYPES

router = APIRouter(prefix="/v1/imports", tags=["imports"])

ImportId = Annotated[uuid.UUID, Path(description="Import id.")]

_BODY_DESCRIPTION = (
    "CSV with a header row, or NDJSON (one JSON object per line). Columns / keys: "
    + ", ".join(IMPORT_COLUMNS)
    + ". In CSV, former names are separated by semicolons; empty cells are absent values."
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 415, 422, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": _BODY_DESCRIPTION,
            "content": {media_type: {"schema": {"type": "string"}} for media_type in MEDIA_TYPES},
        }
    },
)
async def import_persons(
    request: Request,
    registrar: RegistrarDep,
    settings: SettingsDep,
    response: Response,
    content_type: Annotated[str, Header(alias="Content-Type")] = "",
) -> ImportReport:
    """Register many persons from a streamed CSV or NDJSON file; good rows land, refused rows are reported."""
    media_type = content_type.split(";")[0].strip().lower()
    file_format = MEDIA_TYPES.get(media_type)
    if file_format is None:
        raise UnsupportedMediaType(
            f"send the file as one of {', '.join(MEDIA_TYPES)}, not {media_type or 'no Content-Type'}"
        )
    # The import runs its own transactions (see imports.service): its progress and its failure must be recorded
    # even when the import itself rolls back, which one request transaction could not do.
    report = await service.run(
        request.app.state.sessionmaker,
        request.app.state.import_checkers,
        request.stream(),
        file_format,
        registrar,
        batch_rows=settings.import_batch_rows,
        progress_seconds=settings.import_progress_seconds,
    )
    response.headers["Location"] = f"/v1/imports/{report.id}"
    return report


@router.get("", responses=problem_responses(401, 403, 422))
async def list_imports(
    session: SessionDep, owner: OwnerDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[PersonImport]:
    """The department's imports, newest first, with their progress."""
    found = await service.page(session, owner.department, limit=limit, cursor=cursor)
    return Page[PersonImport].model_validate(found, from_attributes=True)


@router.get("/{import_id}", responses=problem_responses(401, 403, 404, 422))
async def get_import(import_id: ImportId, session: SessionDep, owner: OwnerDep) -> PersonImport:
    """One import: its status and counters (updated while it runs)."""
    return PersonImport.model_validate(await service.get(session, import_id, owner.department))


@router.get("/{import_id}/errors", responses=problem_responses(401, 403, 404, 422))
async def list_import_errors(
    import_id: ImportId, session: SessionDep, owner: OwnerDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[RowError]:
    """Every refused row of an import, in file order, with the field and the reason."""
    found = await service.errors(session, import_id, owner.department, limit=limit, cursor=cursor)
    return Page[RowError].model_validate(found, from_attributes=True)
