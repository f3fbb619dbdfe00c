"""Database refusals of bad input rendered as 4xx problems rather than 500s."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from onesource.kit.errors import problem_response

#: PostgreSQL SQLSTATEs that mean "this input cannot be stored", not "the service failed".
_INPUT_STATES = {
    "22021": "text contains a character the database cannot store (such as NUL)",  # character_not_in_repertoire
    "22P05": "text contains an untranslatable character",  # untranslatable_character
    "22001": "a value is too long",  # string_data_right_truncation
}


async def _database_refusal(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    reason = _INPUT_STATES.get(str(state))
    if reason is None:
        raise exc
    return problem_response(request, status=422, slug="unstorable-input", title="Input cannot be stored", detail=reason)


def install(app: FastAPI) -> None:
    """Answer input the database refuses with 422 (other database errors stay 500s)."""
    app.add_exception_handler(DBAPIError, _database_refusal)
