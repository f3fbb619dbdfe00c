"""The OAuth 2.0 endpoints: token, people's sign-in (authorization code + PKCE), revocation, OpenID Connect."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from onesource.gateway.addresses import caller_address
from onesource.gateway.dependencies import SettingsDep
from onesource.gateway.oauth import authorization as people_grants
from onesource.gateway.oauth import login, service
from onesource.gateway.oauth.errors import InvalidClient, InvalidRequest, OAuthError, SlowDown
from onesource.gateway.oauth.schemas import TokenError, TokenResponse, UserInfo
from onesource.gateway.people import service as people
from onesource.gateway.people.schemas import PERSON_SUBJECT_PREFIX, subject_of
from onesource.kit.auth import CurrentPrincipal
from onesource.kit.db import SessionDep
from onesource.kit.errors import Forbidden, problem_responses

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
                    "grant_type": {
                        "type": "string",
                        "enum": [service.GRANT_TYPE, "authorization_code", "refresh_token"],
                    },
                    "client_id": {"type": "string", "description": "Unless sent with HTTP Basic."},
                    "client_secret": {"type": "string", "description": "Unless sent with HTTP Basic."},
                    "code": {"type": "string", "description": "`authorization_code`: the code."},
                    "redirect_uri": {"type": "string", "description": "`authorization_code`: as authorized."},
                    "code_verifier": {"type": "string", "description": "`authorization_code`: the PKCE verifier."},
                    "refresh_token": {"type": "string", "description": "`refresh_token`: the refresh token."},
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
    """OAuth 2.0 client credentials grant (RFC 6749 §4.4); for people, authorization code and refresh grants.

    Send `grant_type=client_credentials` with `client_id` and `client_secret` as form parameters, or
    authenticate with HTTP Basic (RFC 6749 §2.3.1). The answer is a short-lived EdDSA-signed JWT whose key is
    published at `/.well-known/jwks.json`. Unlike every other endpoint, errors here follow OAuth's format
    (RFC 6749 §5.2: `{"error", "error_description"}` with 400 or 401), not problem+json, so standard OAuth
    client libraries understand them. After repeated failed attempts for a client id from an address (or, many more,
    from an address for any ids), the answer is 429 `slow_down` with `Retry-After` (even for the right secret) until
    the wait is over; other addresses are not held up.

    People's sign-in (public clients registered for it, no client secret): `grant_type=authorization_code` with
    `code`, `redirect_uri`, `client_id` and the PKCE `code_verifier` (RFC 7636), or `grant_type=refresh_token` with
    `refresh_token` and `client_id`, answers an access token, an OpenID Connect `id_token` and a new `refresh_token`
    (the one sent is used up).
    """
    body = await request.body()
    try:
        if len(body) > _MAX_BODY:
            raise InvalidRequest("the request body is too large")
        form = service.parse_form(body, request.headers.get("content-type"))
        grant_type = form.get("grant_type")
        if grant_type in _PEOPLE_GRANTS and authorization is not None:
            raise InvalidRequest("people's sign-in uses public clients: send client_id in the form, no credentials")
        if grant_type == "authorization_code":
            token = await people_grants.exchange_code(session, settings, form)
        elif grant_type == "refresh_token":
            token = await people_grants.refresh(session, settings, form)
        else:
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
    return JSONResponse(token.model_dump(exclude_none=True), headers=_NO_STORE)


_PEOPLE_GRANTS = {"authorization_code", "refresh_token"}
_LOGIN_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _html(page: str, status_code: int, redirect_uri: str | None, extra: dict[str, str] | None = None) -> HTMLResponse:
    headers = {**_LOGIN_HEADERS, "Content-Security-Policy": login.content_security_policy(redirect_uri)}
    return HTMLResponse(page, status_code=status_code, headers={**headers, **(extra or {})})


@router.get(
    "/oauth/authorize",
    summary="People's sign-in page",
    response_class=HTMLResponse,
    responses={302: {"description": "An error sent back to the client's redirect URI (RFC 6749 §4.1.2.1)"}},
)
async def show_login(request: Request, settings: SettingsDep) -> Response:
    """OAuth 2.0 authorization endpoint (RFC 6749 §4.1.1) for people: the sign-in form.

    Requires `response_type=code`, a registered `client_id` with one of its exact `redirect_uri`s, `scope=openid`,
    and PKCE (`code_challenge`, `code_challenge_method=S256`); `state` and `nonce` are passed back.
    """
    try:
        checked = people_grants.check_request(settings, dict(request.query_params))
    except people_grants.UntrustedRedirect as error:
        return _html(login.error_page(str(error)), 400, None)
    except people_grants.RedirectableError as error:
        return RedirectResponse(error.location, status_code=302)
    return _html(login.login_page(checked), 200, checked.redirect_uri)


@router.post(
    "/oauth/authorize",
    summary="Sign a person in",
    response_class=HTMLResponse,
    responses={
        303: {"description": "Signed in: back to the client's redirect URI with `code` and `state`"},
        400: {"description": "The sign-in request is not acceptable"},
        429: {"description": "Too many failed sign-ins for this username from this address; see `Retry-After`"},
    },
)
async def sign_in(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Check a person's username and password (throttled like client secrets) and send a one-time code back."""
    body = await request.body()
    content_type = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if len(body) > _MAX_BODY or content_type != service.FORM_MEDIA_TYPE:
        return _html(login.error_page("请求格式无效"), 400, None)
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return _html(login.error_page("请求格式无效"), 400, None)
    try:
        checked = people_grants.check_request(settings, form)
    except people_grants.UntrustedRedirect as error:
        return _html(login.error_page(str(error)), 400, None)
    except people_grants.RedirectableError as error:
        return RedirectResponse(error.location, status_code=303)
    username = form.get("username", "").strip().lower()
    password = form.get("password", "")
    throttle = request.app.state.login_throttle
    pair, from_address = throttle.keys(subject_of(username), caller_address(request.scope, settings.trusted_proxies))
    wait = throttle.retry_after(pair, from_address)
    if wait:
        page = login.login_page(checked, username=username, error=f"尝试次数过多，请 {wait} 秒后再试。")
        return _html(page, 429, checked.redirect_uri, {"Retry-After": str(wait)})
    person = await people.authenticate(session, username, password) if username and password else None
    if person is None:
        throttle.failed(pair, from_address)
        page = login.login_page(checked, username=username, error="用户名或密码错误，或账号已停用。")
        return _html(page, 401, checked.redirect_uri, {"WWW-Authenticate": 'Form realm="onesource"'})
    throttle.succeeded(pair)
    code = await people_grants.issue_code(session, settings, checked, person, datetime.now(UTC))
    return RedirectResponse(checked.redirect(code=code, iss=settings.issuer), status_code=303)


@router.post(
    "/oauth/revoke",
    summary="Sign a person out",
    responses={400: {"model": TokenError, "description": "`invalid_request` or `unauthorized_client`"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                service.FORM_MEDIA_TYPE: {
                    "schema": {
                        "type": "object",
                        "required": ["token", "client_id"],
                        "properties": {
                            "token": {"type": "string", "description": "A refresh token or access token."},
                            "token_type_hint": {"type": "string"},
                            "client_id": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
async def revoke_token(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Token revocation (RFC 7009) for people: ends every session of the token's person.

    The person's refresh tokens are revoked, and access tokens issued before are refused by the gateway and by every
    service (the revocation list). An unknown token is answered 200 too (RFC 7009 §2.2).
    """
    body = await request.body()
    try:
        if len(body) > _MAX_BODY:
            raise InvalidRequest("the request body is too large")
        form = service.parse_form(body, request.headers.get("content-type"))
        now = datetime.now(UTC)
        username = await people_grants.revoke(session, settings, form, now)
    except OAuthError as error:
        return _error_response(error)
    if username is not None:
        request.app.state.revocations.rotated(subject_of(username), now)
    return Response(status_code=200, headers=_NO_STORE)


@router.get("/oauth/userinfo", summary="Who the signed-in person is", responses=problem_responses(401, 403, 404))
async def get_userinfo(principal: CurrentPrincipal, session: SessionDep) -> UserInfo:
    """OpenID Connect UserInfo (Core §5.3) with a person's access token."""
    if not principal.client_id.startswith(PERSON_SUBJECT_PREFIX):
        raise Forbidden("userinfo answers people's tokens only")
    person = await people.get(session, principal.client_id.removeprefix(PERSON_SUBJECT_PREFIX))
    return UserInfo(
        sub=principal.client_id,
        preferred_username=person.username,
        name=person.name,
        dept=person.department,
        roles=list(person.roles),
    )


@router.get("/.well-known/openid-configuration", summary="OpenID Connect discovery")
async def get_openid_configuration(settings: SettingsDep) -> JSONResponse:
    """OpenID Connect Discovery 1.0 metadata: where people sign in and how tokens are signed."""
    base = settings.public_url.rstrip("/")
    document = {
        "issuer": settings.issuer,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "userinfo_endpoint": f"{base}/oauth/userinfo",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "scopes_supported": ["openid"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", service.GRANT_TYPE],
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "claims_supported": ["sub", "preferred_username", "name", "dept", "roles", "auth_time", "nonce"],
        "authorization_response_iss_parameter_supported": True,
    }
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=300"})
