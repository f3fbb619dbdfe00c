"""What every page shares: the signed-in person, forms with their CSRF check, rendering, and the navigation."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from onesource.portal.gateway import ApiProblem, Gateway
from onesource.portal.sessions import SESSION_COOKIE, Sealer, Session
from onesource.portal.settings import Settings

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
MAX_FORM_BYTES = 256 * 1024

STATUS_NAMES = {
    "pending_provider": "待提供方答复",
    "pending_confirmation": "待协调确认",
    "granted": "已授权",
    "rejected": "已驳回",
    "disputed": "异议待协调",
    "refused": "不予共享",
    "upheld": "维持驳回",
    "draft": "草稿",
    "published": "已发布",
    "retired": "已撤销",
    "active": "有效",
    "revoked": "已撤回",
    "expired": "已过期",
    "open": "待处理",
    "resolved": "已更正",
    "dismissed": "不予更正",
}
SHARE_TYPES = {"unconditional": "无条件共享", "conditional": "有条件共享", "not_shared": "不予共享"}
CATEGORIES = {"base": "基础", "theme": "主题", "department": "部门"}
ROLE_NAMES = {
    "consumer": "使用方",
    "registrar": "登记方",
    "steward": "数据管理员",
    "coordinator": "共享协调",
    "admin": "管理员",
}


@dataclass(frozen=True)
class NavItem:
    """One link of the navigation, shown to the roles that may use it."""

    path: str
    label: str
    roles: tuple[str, ...] = ()
    """Empty: everyone signed in."""


NAVIGATION: tuple[NavItem, ...] = (
    NavItem("/catalog", "资源目录"),
    NavItem("/stewardship", "本部门资源", ("steward",)),
    NavItem("/requests", "共享申请", ("consumer", "steward", "coordinator")),
    NavItem("/grants", "共享授权", ("consumer", "steward", "coordinator", "admin")),
    NavItem("/corrections", "数据校核", ("consumer", "steward")),
    NavItem("/records", "查询数据", ("consumer",)),
    NavItem("/audit/records", "谁读取了此记录", ("steward", "admin")),
    NavItem("/statistics", "共享统计", ("coordinator", "admin")),
    NavItem("/audit", "审计链", ("admin",)),
    NavItem("/admin/departments", "部门", ("admin",)),
    NavItem("/admin/clients", "系统客户端", ("admin",)),
    NavItem("/admin/people", "人员账号", ("admin",)),
)


def navigation(session: Session | None) -> list[NavItem]:
    """The links ``session``'s roles allow."""
    if session is None:
        return []
    return [item for item in NAVIGATION if not item.roles or session.has_role(*item.roles)]


class NotSignedIn(Exception):
    """The page needs a signed-in person."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class NotAllowed(Exception):
    """The person's roles do not allow this page (the gateway would refuse it too)."""


class CsrfRefused(Exception):
    """A form came without this session's CSRF token."""


def settings_of(request: Request) -> Settings:
    """The running portal's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def gateway_of(request: Request) -> Gateway:
    """The running portal's gateway client."""
    gateway: Gateway = request.app.state.gateway
    return gateway


def sealer_of(request: Request) -> Sealer:
    """The running portal's cookie sealer."""
    sealer: Sealer = request.app.state.sealer
    return sealer


def current_session(request: Request) -> Session | None:
    """The person signed in with this request's cookie, if any (kept on the request: a refresh updates it)."""
    if not hasattr(request.state, "session"):
        request.state.session = sealer_of(request).open_session(request.cookies.get(SESSION_COOKIE))
        request.state.loaded_token = request.state.session.access_token if request.state.session else None
    session: Session | None = request.state.session
    return session


async def signed_in(request: Request) -> Session:
    """The signed-in person; otherwise the page sends the browser to sign in."""
    session = current_session(request)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise NotSignedIn(target if request.method == "GET" else "/")
    return session


SignedIn = Annotated[Session, Depends(signed_in)]
GatewayDep = Annotated[Gateway, Depends(gateway_of)]


def require(session: Session, *roles: str) -> None:
    """Refuse the page unless the person holds one of ``roles``."""
    if not session.has_role(*roles):
        raise NotAllowed(f"需要以下角色之一：{'、'.join(ROLE_NAMES.get(role, role) for role in roles)}")


@dataclass(frozen=True)
class Form:
    """A submitted form (``application/x-www-form-urlencoded``), every name with all its values."""

    values: dict[str, list[str]]

    def get(self, name: str, default: str = "") -> str:
        """The first value of ``name``, stripped."""
        found = self.values.get(name)
        return found[0].strip() if found else default

    def all(self, name: str) -> list[str]:
        """Every non-empty value of ``name``."""
        return [value.strip() for value in self.values.get(name, []) if value.strip()]

    def flag(self, name: str) -> bool:
        """Whether a checkbox ``name`` was ticked."""
        return self.get(name) in ("on", "true", "1", "yes")


async def checked_form(request: Request, session: Session) -> Form:
    """The posted form, after checking that it carries this session's CSRF token."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise CsrfRefused("表单过大")
    try:
        values = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        values = {}
    token = (values.get("csrf") or [""])[0]
    if not token or not secrets.compare_digest(token, session.csrf):
        raise CsrfRefused("表单已失效或来源不明，请返回页面后重试。")
    return Form(values)


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    problem: ApiProblem | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page ``template`` with the person, the navigation and ``context``; an API ``problem`` is shown on it."""
    session = current_session(request)
    page = TEMPLATES.get_template(template).render(
        session=session,
        nav=navigation(session),
        path=request.url.path,
        csrf=session.csrf if session else "",
        problem=problem,
        errors=problem.field_errors() if problem else {},
        status_names=STATUS_NAMES,
        share_types=SHARE_TYPES,
        categories=CATEGORIES,
        role_names=ROLE_NAMES,
        notice=request.query_params.get("notice"),
        **context,
    )
    if problem is not None and status_code == 200:
        status_code = problem.status if 400 <= problem.status < 500 else 502
    return HTMLResponse(page, status_code=status_code)


def redirect(path: str, notice: str | None = None) -> RedirectResponse:
    """After a successful form: see the result (303, so a reload does not post again)."""
    if notice:
        path += ("&" if "?" in path else "?") + "notice=" + quote(notice)
    return RedirectResponse(path, status_code=303)


def working_days_until(due: date, today: date) -> int:
    """Working days (Monday to Friday) from ``today`` to ``due``; negative when overdue.

    The exchange sets the due date with the official holiday calendar; the portal only counts weekdays to show how
    near it is.
    """
    step = 1 if due >= today else -1
    days = 0
    current = today
    while current != due:
        current += timedelta(days=step)
        if current.weekday() < 5:
            days += step
    return days


def parse_time(value: str | None) -> datetime | None:
    """An API timestamp."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


#: China Standard Time, where the deadlines run (no daylight saving).
CHINA = timezone(timedelta(hours=8), "CST")


def china_date(moment: datetime) -> date:
    """The calendar day of ``moment`` in China Standard Time."""
    return moment.astimezone(CHINA).date()


def today() -> date:
    """Today in China Standard Time."""
    return china_date(datetime.now(UTC))


def set_session_cookie(response: Response, value: str, settings: Settings, expires_at: float) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure where the portal is served over HTTPS."""
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max(0, int(expires_at - time.time())),
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies or urlsplit(settings.public_url).scheme == "https",
    )
