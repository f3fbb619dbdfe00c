"""The OAuth 2.0 token endpoint."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from onesource.gateway.addresses import caller_address
from onesource.gateway.dependencies import SettingsDep
from onesource.gateway.oauth import service
from onesource.gateway.oauth.errors import InvalidClient, InvalidRequest, OAuthError, SlowDown
from onesource.gateway.oauth.schemas import TokenError, TokenResponse
from onesource.kit.db import SessionDep

router = APIRouter(tags=["oauth"])

#: RFC 6749 §5.1: token responses must not be cached.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_MAX_BODY = 8 * 1024

_FORM_SCHEMA = {
    "required": True,
    "content": {
        service.FORM_MEDIA_TYPE: {
            "schema": {
                "type": "object",
                "required": ["grant_type"],
                "properties": {
                    "grant_type": {"type": "string", "enum": [service.GRANT_TYPE]},
                    "client_id": {"type": "string", "description": "Unless sent with HTTP Basic."},
                    "client_secret": {"type": "string", "description": "Unless sent with HTTP Basic."},
                },
            }
        }
    },
}


def _error_response(error: OAuthError) -> JSONResponse:
    headers = dict(_NO_STORE)
    if isinstance(error, InvalidClient) and error.basic:
        headers["WWW-Authenticate"] = 'Basic realm="onesource"'
    if isinstance(error, SlowDown):
        headers["Retry-After"] = str(error.retry_after)
    body = TokenError(error=error.error, error_description=error.description)
    return JSONResponse(body.model_dump(), status_code=error.status, headers=headers)


@router.post(
    "/oauth/token",
    summary="Issue an access token",
    response_model=TokenResponse,
    responses={
        400: {"model": TokenError, "description": "`invalid_request` or `unsupported_grant_type` (RFC 6749 §5.2)"},
        401: {"model": TokenError, "description": "`invalid_client` (RFC 6749 §5.2)"},
        429: {
            "model": TokenError,
            "description": (
                "`slow_down`: too many failed attempts for this client from this address, or from this address; "
                "see `Retry-After`"
            ),
        },
    },
    openapi_extra={"requestBody": _FORM_SCHEMA},
)
async def issue_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> JSONResponse:
    """OAuth 2.0 client credentials grant (RFC 6749 §4.4).

    Send `grant_type=client_credentials` with `client_id` and `client_secret` as form parameters, or
    authenticate with HTTP Basic (RFC 6749 §2.3.1). The answer is a short-lived EdDSA-signed JWT whose key is
    published at `/.well-known/jwks.json`. Unlike every other endpoint, errors here follow OAuth's format
    (RFC 6749 §5.2: `{"error", "error_description"}` with 400 or 401), not problem+json, so standard OAuth
    client libraries understand them. After repeated failed attempts for a client id from an address (or, many more,
    from an address for any ids), the answer is 429 `slow_down` with `Retry-After` (even for the right secret) until
    the wait is over; other addresses are not held up.
    """
    body = await request.body()
    try:
        if len(body) > _MAX_BODY:
            raise InvalidRequest("the request body is too large")
        form = service.parse_form(body, request.headers.get("content-type"))
        token = await service.issue(
            session,
            settings,
            form,
            authorization,
            throttle=request.app.state.login_throttle,
            address=caller_address(request.scope, settings.trusted_proxies),
        )
    except OAuthError as error:
        return _error_response(error)
    return JSONResponse(token.model_dump(), headers=_NO_STORE)
