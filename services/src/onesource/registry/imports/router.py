"""Bulk import endpoints of a registry: ``/v1/imports`` for its :class:`~.service.ImportJob`."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response, status

from onesource.kit.db import SessionDep
from onesource.kit.errors import UnsupportedMediaType, problem_responses
from onesource.kit.pagination import Cursor, Limit, Page
from onesource.registry.access import OwnerDep, RegistrarDep
from onesource.registry.imports import loading, service
from onesource.registry.imports.parsing import MEDIA_TYPES
from onesource.registry.imports.schemas import ImportReport, RecordImport, RowError
from onesource.registry.settings import RegistrySettings

ImportId = Annotated[uuid.UUID, Path(description="Import id.")]


def router(job: service.ImportJob[Any], *, body_description: str) -> APIRouter:
    """The import endpoints of ``job``, tagged ``imports``; ``body_description`` says what a file holds."""
    routes = APIRouter(prefix="/v1/imports", tags=["imports"])
    noun = job.records_name

    async def import_records(
        request: Request,
        registrar: RegistrarDep,
        response: Response,
        content_type: Annotated[str, Header(alias="Content-Type")] = "",
    ) -> ImportReport:
        media_type = content_type.split(";")[0].strip().lower()
        file_format = MEDIA_TYPES.get(media_type)
        if file_format is None:
            raise UnsupportedMediaType(
                f"send the file as one of {', '.join(MEDIA_TYPES)}, not {media_type or 'no Content-Type'}"
            )
        if loading.renderer_name(job.kind) not in request.app.state.spec.renderers:
            # else the import's events would hold up their shards in the relay, never published
            raise RuntimeError(
                f"the service's relay cannot write imported {noun}' events: list "
                "registry.imports.loading.registrations_renderer(kind) in its ServiceSpec.renderers"
            )
        checkers = getattr(request.app.state, "import_checkers", None)
        if checkers is None:
            raise RuntimeError(
                "the service has no worker processes to check import files: list "
                "registry.imports.checking.import_checkers(the module of its rules) in its ServiceSpec.extensions"
            )
        settings: RegistrySettings = request.app.state.settings
        confirmation = job.confirmation
        # The import runs its own transactions (see imports.service): its progress and its failure must be recorded
        # even when the import itself rolls back, which one request transaction could not do.
        report = await service.run(
            job,
            request.app.state.sessionmaker,
            checkers,
            None if confirmation is None else confirmation.check(request),
            request.stream(),
            file_format,
            registrar,
            # the registries' one clock is the local date (their ``TodayDep``)
            today=date.today(),
            block_rows=settings.import_batch_rows,
            progress_seconds=settings.import_progress_seconds,
        )
        response.headers["Location"] = f"/v1/imports/{report.id}"
        return report

    async def list_imports(
        session: SessionDep, owner: OwnerDep, limit: Limit = 50, cursor: Cursor = None
    ) -> Page[RecordImport]:
        found = await service.page(session, job, owner.department, limit=limit, cursor=cursor)
        return Page[RecordImport].model_validate(found, from_attributes=True)

    async def get_import(import_id: ImportId, session: SessionDep, owner: OwnerDep) -> RecordImport:
        return RecordImport.model_validate(await service.get(session, job, import_id, owner.department))

    async def list_import_errors(
        import_id: ImportId, session: SessionDep, owner: OwnerDep, limit: Limit = 50, cursor: Cursor = None
    ) -> Page[RowError]:
        found = await service.errors(session, job, import_id, owner.department, limit=limit, cursor=cursor)
        return Page[RowError].model_validate(found, from_attributes=True)

    routes.add_api_route(
        "",
        import_records,
        methods=["POST"],
        name=f"import_{noun}",
        status_code=status.HTTP_201_CREATED,
        description=f"Register many {noun} from a streamed CSV or NDJSON file; good rows land, refused rows are "
        "reported (one transaction: a broken upload imports nothing).",
        responses=problem_responses(401, 403, 415, 422, 503),
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": body_description,
                "content": {media_type: {"schema": {"type": "string"}} for media_type in MEDIA_TYPES},
            }
        },
    )
    routes.add_api_route(
        "",
        list_imports,
        methods=["GET"],
        name="list_imports",
        description="The department's imports, newest first, with their progress.",
        responses=problem_responses(401, 403, 422),
    )
    routes.add_api_route(
        "/{import_id}",
        get_import,
        methods=["GET"],
        name="get_import",
        description="One import: its status and counters (updated while it runs).",
        responses=problem_responses(401, 403, 404, 422),
    )
    routes.add_api_route(
        "/{import_id}/errors",
        list_import_errors,
        methods=["GET"],
        name="list_import_errors",
        description="Every refused row of an import, in file order, with the field and the reason.",
        responses=problem_responses(401, 403, 404, 422),
    )
    return routes
