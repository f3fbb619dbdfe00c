"""The gateway's sign-in page for people: plain HTML, no script, framed by nobody, posting only to itself."""

from __future__ import annotations

import base64
import hashlib
from html import escape
from urllib.parse import urlsplit

from onesource.gateway.oauth.authorization import AuthorizationRequest

_STYLE = (
    "body{font-family:'Noto Sans CJK SC','Noto Sans SC',sans-serif;background:#f3f5f8;margin:0}"
    "main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:6px;"
    "box-shadow:0 1px 4px #0002}h1{font-size:1.3rem;margin-top:0}label{display:block;margin:.8rem 0 .3rem}"
    "input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}"
    "button{margin-top:1.2rem;width:100%;padding:.6rem;font-size:1rem;background:#1f5fbf;color:#fff;border:0;"
    "border-radius:4px}.error{color:#b00020;background:#fdecee;padding:.5rem;border-radius:4px}"
    "p.note{color:#666;font-size:.85rem}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()


def content_security_policy(redirect_uri: str | None) -> str:
    """No script, the one inline style, no framing; forms post here (and may redirect on to the client)."""
    targets = "'self'"
    if redirect_uri:
        parts = urlsplit(redirect_uri)
        targets += f" {parts.scheme}://{parts.netloc}"  # browsers check form-action on the redirect after the post
    return (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action {targets}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def login_page(request: AuthorizationRequest, *, username: str = "", error: str | None = None) -> str:
    """The sign-in form for ``request``, with ``error`` above it when the last try failed."""
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in request.form_fields().items()
    )
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return _page(
        "登录 · 一数一源",
        "<h1>一数一源 · 统一身份认证</h1>"
        f"{message}"
        '<form method="post" action="/oauth/authorize">'
        f"{hidden}"
        '<label for="username">用户名</label>'
        f'<input id="username" name="username" autocomplete="username" required value="{escape(username)}">'
        '<label for="password">密码</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password" required>'
        '<button type="submit">登录</button></form>'
        f'<p class="note">登录后将返回 {escape(request.client_id)}。</p>',
    )


def error_page(message: str) -> str:
    """A sign-in request that cannot be answered at its redirect URI."""
    return _page("登录请求无效", f'<h1>登录请求无效</h1><p class="error" role="alert">{escape(message)}</p>')
