"""Structure queries: ``GET /v1/structure/dataflow/{flow}`` answers an SDMX-JSON 2.0 structure message."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Response

from onesource.kit.errors import problem_responses
from onesource.macroeconomy.dataflows.definitions import DATAFLOWS
from onesource.macroeconomy.dataflows.errors import DataflowNotFound
from onesource.macroeconomy.dataflows.service import MEDIA_TYPE, structure_message
from onesource.macroeconomy.dependencies import NowDep
from onesource.registry.access import ReaderDep

router = APIRouter(prefix="/v1/structure", tags=["structure"])


@router.get(
    "/dataflow/{flow}",
    response_class=Response,
    responses={
        200: {
            "description": "SDMX-JSON 2.0 structure message",
            "content": {MEDIA_TYPE: {"schema": {"type": "object"}}},
        },
        **problem_responses(401, 403, 404),
    },
)
async def get_dataflow_structure(
    flow: Annotated[str, Path(max_length=64, description="Dataflow id, or `all`.")], reader: ReaderDep, now: NowDep
) -> Response:
    """A dataflow (or `all`) with its data structure, concepts and code lists, as an SDMX-JSON 2.0 structure message."""
    if flow == "all":
        flows = [DATAFLOWS[name] for name in sorted(DATAFLOWS)]
    elif flow in DATAFLOWS:
        flows = [DATAFLOWS[flow]]
    else:
        raise DataflowNotFound(f"no dataflow {flow!r}; there are {', '.join(sorted(DATAFLOWS))}")
    body = json.dumps(structure_message(flows, now), ensure_ascii=False, separators=(",", ":"))
    return Response(body, media_type=MEDIA_TYPE)
