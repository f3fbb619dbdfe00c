"""Signing in and out through the real gateway, the session cookie, and the CSRF check on forms."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from .conftest import GATEWAY, csrf_of, sign_in

PASSWORD = "a-long-password-1"


async def test_sign_in_sets_an_httponly_samesite_session_and_shows_the_persons_pages(portal, gateway, admin) -> None:
    await admin.person("ops.admin", "platform", ["admin"], PASSWORD)
    callback = await sign_in(portal, gateway, "ops.admin", PASSWORD)
    assert callback.status_code == 303
    assert callback.headers["location"] == "/catalog"
    cookie = next(
        value for name, value in callback.headers.multi_items() if name == "set-cookie" and "session" in value
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    people = await portal.get("/admin/people")
    assert people.status_code == 200, people.text
    assert "ops.admin" in people.text
    assert "人员账号" in people.text
    assert "default-src 'none'" in people.headers["content-security-policy"]
    assert "script-src" not in people.headers["content-security-policy"]  # no script at all: default-src 'none'
    assert people.headers["x-frame-options"] == "DENY"


async def test_the_admin_creates_a_person_whose_password_is_shown_once(portal, gateway, admin) -> None:
    await admin.person("ops.admin2", "platform", ["admin"], PASSWORD)
    await sign_in(portal, gateway, "ops.admin2", PASSWORD)
    page = await portal.get("/admin/people")
    created = await portal.post(
        "/admin/people",
        data={"csrf": csrf_of(page.text), "username": "new.steward", "name": "新管理员", "department": "platform",
              "roles": "steward"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    assert 'data-testid="secret"' in created.text
    again = await portal.get("/admin/people")
    assert 'data-testid="secret"' not in again.text
    assert "new.steward" in again.text


async def test_an_api_problem_is_shown_next_to_the_field_it_names(portal, gateway, admin) -> None:
    await admin.person("ops.admin3", "platform", ["admin"], PASSWORD)
    await sign_in(portal, gateway, "ops.admin3", PASSWORD)
    page = await portal.get("/admin/departments")
    refused = await portal.post(
        "/admin/departments", data={"csrf": csrf_of(page.text), "code": "x", "name": "某局", "uscc": "123"}
    )
    assert refused.status_code == 422
    # The reason sits right after the input it is about, and the typed values are kept.
    code_input = refused.text.index('id="d-code"')
    assert refused.text.index('id="error-code"') > code_input
    assert refused.text.index('id="error-code"') < refused.text.index('id="d-name"')
    assert 'value="某局"' in refused.text


async def test_a_form_without_the_csrf_token_is_refused(portal, gateway, admin) -> None:
    await admin.person("ops.admin4", "platform", ["admin"], PASSWORD)
    await sign_in(portal, gateway, "ops.admin4", PASSWORD)
    body = {"code": "forged", "name": "伪造局", "uscc": "11110000MB0000001X"}
    missing = await portal.post("/admin/departments", data=body)
    assert missing.status_code == 403
    assert "请求被拒绝" in missing.text
    wrong = await portal.post("/admin/departments", data={**body, "csrf": "guess"})
    assert wrong.status_code == 403


async def test_sign_out_revokes_the_persons_tokens_at_the_gateway(portal, gateway, admin, gateway_app) -> None:
    await admin.person("ops.steward", "platform", ["steward"], PASSWORD)
    await sign_in(portal, gateway, "ops.steward", PASSWORD)
    page = await portal.get("/audit/records")
    assert page.status_code == 200
    out = await portal.post("/logout", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303
    assert 'onesource_session=""' in out.headers["set-cookie"]
    assert gateway_app.state.revocations.is_revoked("person:ops.steward", 0)
    portal.cookies.clear()
    again = await portal.get("/audit/records")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login?next=")


async def test_a_wrong_password_stays_at_the_gateway_and_a_forged_callback_is_refused(portal, gateway, admin) -> None:
    await admin.person("ops.consumer", "platform", ["consumer"], PASSWORD)
    start = await portal.get("/login")
    fields = {name: values[0] for name, values in parse_qs(urlsplit(start.headers["location"]).query).items()}
    wrong = await gateway.post("/oauth/authorize", data={**fields, "username": "ops.consumer", "password": "nope"})
    assert wrong.status_code == 401
    assert "用户名或密码错误" in wrong.text
    forged = await portal.get("/auth/callback", params={"code": "stolen", "state": "not-the-state"})
    assert forged.status_code == 400
    assert "登录失败" in forged.text
    assert "onesource_session" not in portal.cookies


async def test_the_login_redirect_names_the_registered_callback_and_pkce(portal) -> None:
    start = await portal.get("/login", params={"next": "https://evil.example/steal"})
    location = urlsplit(start.headers["location"])
    query = parse_qs(location.query)
    assert location.netloc == urlsplit(GATEWAY).netloc
    assert query["redirect_uri"] == ["http://portal.test/auth/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["scope"] == ["openid"]
    login_cookie = start.headers["set-cookie"]
    assert "HttpOnly" in login_cookie
    assert "Path=/auth/callback" in login_cookie
