"""Signing in (through the gateway's login page: authorization code + PKCE) and out (revoking at the gateway)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Annotated
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from onesource.portal.gateway import ApiProblem, SignInExpired
from onesource.portal.sessions import LOGIN_COOKIE, SESSION_COOKIE, PendingLogin, Session
from onesource.portal.web import (
    GatewayDep,
    SignedIn,
    checked_form,
    current_session,
    render,
    sealer_of,
    set_session_cookie,
    settings_of,
)

router = APIRouter(include_in_schema=False)

#: How long the gateway's login page may take before the sign-in must start over.
LOGIN_MAX_AGE = 600.0


def _local(path: str) -> str:
    """Only the portal's own paths are followed after sign-in (no open redirect)."""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//"):
        return "/catalog"
    return path


@router.get("/")
async def home(request: Request) -> Response:
    """The start page: the catalog for a signed-in person, otherwise the invitation to sign in."""
    if current_session(request) is not None:
        return RedirectResponse("/catalog", status_code=303)
    return render(request, "home.html")


@router.get("/login")
async def start_login(request: Request, next_path: Annotated[str, Query(alias="next")] = "/catalog") -> Response:
    """Send the browser to the gateway's login page with a fresh state, PKCE challenge and nonce."""
    settings = settings_of(request)
    login = PendingLogin(
        state=secrets.token_urlsafe(24),
        verifier=secrets.token_urlsafe(48),
        nonce=secrets.token_urlsafe(24),
        next_path=_local(next_path),
        started_at=time.time(),
    )
    challenge = base64.urlsafe_b64encode(hashlib.sha256(login.verifier.encode()).digest()).decode().rstrip("=")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.client_id,
            "redirect_uri": settings.redirect_uri,
            "scope": "openid",
            "state": login.state,
            "nonce": login.nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    response = RedirectResponse(f"{settings.browser_gateway_url}/oauth/authorize?{query}", status_code=303)
    response.set_cookie(
        LOGIN_COOKIE,
        sealer_of(request).seal_login(login),
        max_age=int(LOGIN_MAX_AGE),
        path="/auth/callback",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies or urlsplit(settings.public_url).scheme == "https",
    )
    return response


@router.get("/auth/callback")
async def finish_login(
    request: Request, gateway: GatewayDep, code: str = "", state: str = "", error: str = ""
) -> Response:
    """The gateway sends the browser back here with a code: exchange it, check the ID token, start the session."""
    login = sealer_of(request).open_login(request.cookies.get(LOGIN_COOKIE), max_age=LOGIN_MAX_AGE)
    if error or login is None or not code or not secrets.compare_digest(state, login.state):
        message = "登录未完成：请求已过期或不匹配，请重新登录。" if not error else f"登录未完成：{error}"
        return render(request, "error.html", status_code=400, title="登录失败", message=message)
    try:
        tokens = await gateway.exchange_code(code, login.verifier)
        person = await gateway.identity(tokens["id_token"], login.nonce)
    except (ApiProblem, SignInExpired) as failure:
        return render(request, "error.html", status_code=400, title="登录失败", message=str(failure))
    settings = settings_of(request)
    now = time.time()
    session = Session(
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        access_expires_at=now + float(tokens["expires_in"]),
        username=person.username,
        name=person.name,
        department=person.department,
        roles=person.roles,
        expires_at=now + settings.session_hours * 3600,
    )
    request.state.session = session
    response = RedirectResponse(login.next_path, status_code=303)
    set_session_cookie(response, sealer_of(request).seal_session(session), settings, session.expires_at)
    response.delete_cookie(LOGIN_COOKIE, path="/auth/callback")
    return response


@router.post("/logout")
async def logout(request: Request, session: SignedIn, gateway: GatewayDep) -> Response:
    """Sign out: the gateway revokes the person's tokens, and the cookie is cleared."""
    await checked_form(request, session)
    await gateway.revoke(session)
    request.state.session = None
    response = RedirectResponse("/?notice=" + quote("已退出登录。"), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
