"""Optimistic concurrency over HTTP: versions as ``ETag``, updates conditional on ``If-Match`` (RFC 9110 §13.1.1).

A record's version number is its entity tag. An update must name the version it was based on; when that is no
longer the current version the update is refused with 412 and the caller reads again.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header, Response
from pydantic import BaseModel

from onesource.kit.errors import BadRequest, PreconditionFailed, PreconditionRequired

_TAG = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')


def etag(version: int) -> str:
    """The entity tag of ``version``."""
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    """Answer the record's version as its ``ETag``."""
    response.headers["ETag"] = etag(version)


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        description='The ``ETag`` the change is based on (e.g. ``"3"``); ``*`` matches any version.',
    ),
]
"""The request's ``If-Match`` header."""


def expected_version(if_match: str | None) -> int | None:
    """The version ``If-Match`` names (``None`` for ``*``); 428 when it is missing, 400 when it is not a tag."""
    if if_match is None:
        raise PreconditionRequired("send If-Match with the ETag of the version you read")
    if if_match.strip() == "*":
        return None
    tags = [tag for tag in if_match.split(",") if tag.strip()]
    if len(tags) != 1 or (match := _TAG.match(tags[0])) is None:
        raise BadRequest(f"If-Match must be one entity tag such as '\"3\"', not {if_match!r}")
    return int(match.group(1))


def check_version(current: int, expected: int | None) -> None:
    """Refuse a change based on another version than ``current`` (412); ``None`` (``*``, or no check) passes."""
    if expected is not None and current != expected:
        raise PreconditionFailed(
            f"the record is at version {current}, not {expected}; read it again and reapply your change",
            current_version=current,
        )


def versioned_answer(record: BaseModel, version: int) -> Response:
    """``record`` as JSON with its version as ``ETag``, serialised once.

    A route returning the model itself would have FastAPI validate it again against its ``response_model`` before
    serialising it: work done twice on the hottest path of a registry.
    """
    return Response(record.model_dump_json(), media_type="application/json", headers={"ETag": etag(version)})
