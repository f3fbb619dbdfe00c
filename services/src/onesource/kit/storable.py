"""One rule for input no service can store: text with NUL (U+0000) or lone surrogates is 422 ``unstorable-input``.

PostgreSQL ``text`` cannot hold NUL, and UTF-8 cannot encode a lone surrogate. Input carrying either is the
caller's mistake, never the service's failure: every service answers it with the same 422 problem, whether it is
noticed up front (:func:`check_storable`, e.g. by the gateway before it forwards a path) or by the database
refusing it (the handler :func:`install` adds: SQLSTATE 22021 / 22P05, also for a value too long, 22001). A path or
query holding NUL is refused before any route runs (:func:`refuse_unstorable_target`, on every route of every
service; the gateway's forwarded calls check it themselves, so that the refusal is audited).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.types import Scope

from onesource.kit.errors import ServiceError, problem_response

SLUG = "unstorable-input"
TITLE = "Input cannot be stored"

#: PostgreSQL SQLSTATEs that mean "this input cannot be stored", not "the service failed".
_INPUT_STATES = {
    "22021": "text contains a character the database cannot store (such as NUL)",  # character_not_in_repertoire
    "22P05": "text contains an untranslatable character (such as \\u0000 in JSON)",  # untranslatable_character
    "22001": "a value is too long",  # string_data_right_truncation
}


class UnstorableInput(ServiceError):
    """Input holds text no service can store: NUL (U+0000) or a lone surrogate (422)."""

    status = 422
    type = SLUG
    title = TITLE


def storable(value: str) -> bool:
    """Whether ``value`` can be stored as PostgreSQL text: no NUL, and encodable as UTF-8."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_storable(value: str, name: str) -> None:
    """Refuse ``value`` (found at ``name``, e.g. ``path``, ``query.name``) with 422 unless it can be stored."""
    if not storable(value):
        reason = "contains NUL (U+0000) or a lone surrogate, which cannot be stored"
        raise UnstorableInput(f"{name}: {reason}", invalid_params=[{"name": name, "reason": reason}])


def check_target(scope: Scope) -> None:
    """Refuse (422) a request whose path or query string holds NUL (decoded, or as ``%00``)."""
    if "\x00" in scope["path"]:
        check_storable(scope["path"], "path")
    query: bytes = scope.get("query_string", b"")
    if query and (b"%00" in query or b"\x00" in query):
        reason = "contains NUL (U+0000), which cannot be stored"
        raise UnstorableInput(f"query: {reason}", invalid_params=[{"name": "query", "reason": reason}])


async def refuse_unstorable_target(request: Request) -> None:
    """App-wide dependency: :func:`check_target` before any route runs."""
    check_target(request.scope)


async def _database_refusal(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    reason = _INPUT_STATES.get(str(state))
    if reason is None:
        raise exc
    return problem_response(request, status=422, slug=SLUG, title=TITLE, detail=reason)


def install(app: FastAPI) -> None:
    """Answer input the database refuses as unstorable with 422 (other database errors stay 500s)."""
    app.add_exception_handler(DBAPIError, _database_refusal)
