"""Export endpoints: ``/v1/exports`` — the published directory as DCAT-AP 3 and as the national directory form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import StreamingResponse

from onesource.catalog.dependencies import SettingsDep
from onesource.catalog.exports import service
from onesource.catalog.exports.dcat import CONTEXT, DcatExport
from onesource.catalog.exports.errors import NotAcceptable
from onesource.catalog.exports.schemas import DirectoryPage
from onesource.kit.auth import CurrentPrincipal
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.pagination import Cursor, Limit

router = APIRouter(prefix="/v1/exports", tags=["exports"])

#: Media type → rdflib serialisation of the DCAT export; the first is the default.
RDF_FORMATS = {"application/ld+json": "json-ld", "text/turtle": "turtle", "application/rdf+xml": "xml"}
_ALIASES = {"application/json": "application/ld+json", "*/*": "application/ld+json"}


def rdf_media_type(accept: str | None) -> str:
    """The media type of the DCAT export that ``Accept`` prefers (RFC 9110 §12.5.1); 406 when none is acceptable."""
    if not accept:
        return "application/ld+json"
    offers: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = _ALIASES.get(media.lower(), media.lower())
        if media == "application/*":
            media = "application/ld+json"
        if media == "text/*":
            media = "text/turtle"
        if media in RDF_FORMATS and quality > 0:
            offers.append((-quality, position, media))
    if not offers:
        raise NotAcceptable(
            f"the DCAT export is offered as {', '.join(RDF_FORMATS)}; Accept {accept!r} takes none of them",
            available=list(RDF_FORMATS),
        )
    return min(offers)[2]


@router.get(
    "/dcat",
    response_class=Response,
    responses={
        200: {
            "description": 'One page of the DCAT-AP 3 catalogue; the next page is the `Link` header\'s `rel="next"`.',
            "content": {media: {} for media in RDF_FORMATS},
        },
        **problem_responses(401, 406, 422),
    },
)
async def export_dcat(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    accept: Annotated[str | None, Header(max_length=1000)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """The published directory as DCAT-AP 3 (JSON-LD, Turtle or RDF/XML by ``Accept``), one page of datasets."""
    media_type = rdf_media_type(accept)
    export = DcatExport(settings.public_base_url)
    graph, next_page = await service.dcat(session, export, limit=limit, cursor=cursor)
    if media_type == "application/ld+json":
        body = graph.serialize(format="json-ld", context=CONTEXT, auto_compact=True)
    else:
        body = graph.serialize(format=RDF_FORMATS[media_type])
    headers = {"Vary": "Accept"}
    if next_page is not None:
        headers["Link"] = f'<{export.page_id(next_page)}>; rel="next"'
    return Response(body, media_type=media_type, headers=headers)


@router.get("/directory", responses=problem_responses(401, 422))
async def export_directory(
    session: SessionDep, principal: CurrentPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> DirectoryPage:
    """The published directory in the national core-metadata form (政务信息资源目录核心元数据), one page."""
    found = await service.directory(session, limit=limit, cursor=cursor)
    return DirectoryPage(items=found.items, next_cursor=found.next_cursor)


@router.get(
    "/directory.csv",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The whole directory form as CSV", "content": {"text/csv": {}}},
        **problem_responses(401),
    },
)
async def export_directory_csv(request: Request, principal: CurrentPrincipal) -> StreamingResponse:
    """The whole published directory form as CSV (one row per 信息项), streamed page by page for provincial import."""
    return StreamingResponse(
        service.directory_csv(request.app.state.sessionmaker),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="directory.csv"'},
    )
