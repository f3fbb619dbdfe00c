"""The steward portal in a real browser (Debian's Chromium driven by Playwright) against a running mesh.

The pinned flow done by clicking, sign-in and sign-out, the CSRF refusal, one department kept out of another's
inbox, and a screenshot of every page (``var/artifacts/portal/``, not committed).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.conftest import Mesh

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "var" / "artifacts" / "portal"
LEGAL_BASIS = "《社会救助暂行办法》第十一条"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Debian's chromium is needed: apt-get install chromium fonts-noto-cjk (.ci/run does)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


def person(mesh: Mesh, username: str) -> dict[str, Any]:
    users: list[dict[str, Any]] = mesh.document["demo_users"]
    return next(user for user in users if user["username"] == username)


def portal(mesh: Mesh) -> str:
    return str(mesh.document["portal"])


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def signed_in(browser: Browser, mesh: Mesh, username: str) -> tuple[BrowserContext, Page]:
    """A fresh browser context signed in as a demo person, through the gateway's login page."""
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{portal(mesh)}/login")
    expect(page.get_by_role("heading", name="一数一源 · 统一身份认证")).to_be_visible()
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(person(mesh, username)["password"])
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("who")).to_contain_text(username)
    return context, page


def nav_labels(page: Page) -> list[str]:
    return [
        text.strip() for text in page.get_by_role("navigation", name="主导航").get_by_role("link").all_inner_texts()
    ]


def some_person(mesh: Mesh) -> dict[str, Any]:
    """A seeded person, read by its owner's registrar (test set-up, not part of the clicking)."""
    response = httpx.get(
        f"{mesh.gateway}/api/population/v1/persons",
        params={"limit": 5},
        headers=mesh.bearer("psb-registrar", "registry-maintenance"),
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["items"][0]
    return found


def test_sign_in_shows_only_what_the_roles_allow_and_sign_out_revokes(browser: Browser, mesh: Mesh) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(portal(mesh))
    shot(page, "00-home")
    page.get_by_role("link", name="使用统一身份认证登录").click()
    page.get_by_label("用户名").fill("mca.consumer")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    shot(page, "01-login-refused")
    page.get_by_label("密码").fill(person(mesh, "mca.consumer")["password"])
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("who")).to_contain_text("mca.consumer")
    assert nav_labels(page) == ["资源目录", "共享申请", "共享授权", "数据校核", "查询数据"]
    session = next(cookie for cookie in context.cookies() if cookie["name"] == "onesource_session")
    assert session["httpOnly"]
    assert session["sameSite"] == "Lax"
    # A consumer has no steward pages: refused, not merely hidden.
    refused = page.goto(f"{portal(mesh)}/stewardship")
    assert refused is not None
    assert refused.status == 403
    page.goto(f"{portal(mesh)}/catalog")
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("status")).to_contain_text("已退出登录")
    assert not [cookie for cookie in context.cookies() if cookie["name"] == "onesource_session"]
    # Signed out: the pages ask for a sign-in again.
    page.goto(f"{portal(mesh)}/catalog")
    expect(page.get_by_role("heading", name="一数一源 · 统一身份认证")).to_be_visible()
    context.close()


def test_a_form_without_the_sessions_csrf_token_is_refused(browser: Browser, mesh: Mesh) -> None:
    context, page = signed_in(browser, mesh, "psb.steward")
    base = portal(mesh)
    resource_id = "population.csrf-" + secrets.token_hex(3)
    body: dict[str, str | float | bool] = {"id": resource_id, "name": "x", "summary": "x", "share_type": "conditional"}
    forged = context.request.post(f"{base}/stewardship/new", form=body, max_redirects=0)
    assert forged.status == 403
    assert "请求被拒绝" in forged.text()
    wrong = context.request.post(f"{base}/stewardship/new", form={**body, "csrf": "guess"}, max_redirects=0)
    assert wrong.status == 403
    page.goto(f"{base}/stewardship")
    expect(page.get_by_text(resource_id)).to_have_count(0)
    context.close()


def test_one_departments_steward_cannot_reach_anothers_inbox(browser: Browser, mesh: Mesh) -> None:
    asked = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests",
        headers=mesh.bearer("mca-app"),
        json={
            "resource": "population.person-extended",
            "fields": ["id_number", "household_address"],
            "purpose": "跨部门隔离测试-" + secrets.token_hex(3),
            "legal_basis": LEGAL_BASIS,
        },
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    context, page = signed_in(browser, mesh, "amr.steward")
    page.goto(f"{portal(mesh)}/requests?view=steward&status=pending_provider")
    expect(page.get_by_test_id("requests")).not_to_contain_text(request_id[-8:])
    response = page.goto(f"{portal(mesh)}/requests/{request_id}")
    assert response is not None
    assert response.status in (403, 404)
    expect(page.get_by_role("alert")).to_be_visible()
    shot(page, "20-other-department-refused")
    context.close()

    context, page = signed_in(browser, mesh, "psb.steward")
    page.goto(f"{portal(mesh)}/requests")
    expect(page.get_by_test_id("requests")).to_contain_text(request_id[-8:])
    context.close()


def test_the_pinned_flow_by_clicking(browser: Browser, mesh: Mesh) -> None:
    base = portal(mesh)
    suffix = secrets.token_hex(3)
    resource_id = f"population.person-contact-{suffix}"
    purpose = f"最低生活保障资格审核-{suffix}"
    record = some_person(mesh)

    # The steward registers a resource with field rows and publishes it.
    steward_context, steward = signed_in(browser, mesh, "psb.steward")
    steward.goto(f"{base}/stewardship")
    shot(steward, "10-stewardship")
    steward.get_by_role("link", name="登记新资源").click()
    steward.get_by_label("资源标识").fill(resource_id)
    steward.get_by_label("名称", exact=True).fill(f"人口联络核验信息 {suffix}")
    steward.get_by_label("共享类型").select_option("conditional")
    steward.get_by_label("服务（注册库）").fill("population")
    steward.get_by_label("记录键字段").fill("id_number")
    steward.get_by_label("摘要").fill("用于联络核验的姓名和性别，来源于人口基础信息。")
    steward.get_by_label("接口路径").fill("/v1/persons/{id_number}")
    steward.get_by_label("共享条件").fill("经公安局审核、共享主管部门确认后共享。")
    for row, name in enumerate(["id_number", "name", "sex"]):
        steward.get_by_label(f"第{row + 1}行字段名").fill(name)
        steward.get_by_label(f"第{row + 1}行数据元").fill(f"person.{name}")
        steward.get_by_label(f"第{row + 1}行长度").fill("18")
        steward.get_by_label(f"第{row + 1}行来源数据元").fill(f"person.{name}")
    shot(steward, "11-register-form")
    steward.get_by_role("button", name="登记（草稿）").click()
    expect(steward.get_by_role("status")).to_contain_text("资源已登记")
    steward.get_by_role("button", name="发布").click()
    expect(steward.get_by_role("status")).to_contain_text("资源已发布")
    shot(steward, "12-resource-published")

    # A second authoritative claim on a datum psb already owns is refused, naming the existing owner.
    claim_id = f"population.person-claim-{suffix}"
    steward.goto(f"{base}/stewardship/new")
    steward.get_by_label("资源标识").fill(claim_id)
    steward.get_by_label("名称", exact=True).fill("重复权威声明")
    steward.get_by_label("摘要").fill("声明姓名的权威来源。")
    steward.get_by_label("共享条件").fill("经审核后共享。")
    steward.get_by_label("第1行字段名").fill("name")
    steward.get_by_label("第1行数据元").fill("person.name")
    steward.get_by_label("第1行长度").fill("64")
    steward.get_by_label("第1行权威").check()
    steward.get_by_role("button", name="登记（草稿）").click()
    problem = steward.locator(".problem")
    expect(problem).to_have_attribute("data-problem", "duplicate-authoritative-source")
    expect(problem.locator(".owner")).to_contain_text("population.person")
    expect(problem.locator(".owner")).to_contain_text("psb")
    # The form keeps what was typed, for the steward to declare the field a copy instead.
    expect(steward.get_by_label("第1行数据元")).to_have_value("person.name")
    shot(steward, "13-second-authoritative-claim")

    # The consumer finds it in the catalog and asks for three fields.
    consumer_context, consumer = signed_in(browser, mesh, "mca.consumer")
    consumer.get_by_label("关键词").fill("联络核验")
    consumer.get_by_role("button", name="搜索").click()
    shot(consumer, "30-catalog-search")
    consumer.get_by_role("link", name=f"人口联络核验信息 {suffix}").click()
    expect(consumer.get_by_role("heading", level=1)).to_contain_text(resource_id)
    for field in ("id_number", "name", "sex"):
        consumer.locator(f'input[name="fields"][value="{field}"]').check()
    consumer.get_by_label("用途").fill(purpose)
    consumer.get_by_label("法律依据").fill(LEGAL_BASIS)
    shot(consumer, "31-resource-ask")
    consumer.get_by_role("button", name="提交申请").click()
    expect(consumer.get_by_test_id("request-status")).to_have_text("待提供方答复")
    request_id = consumer.url.rsplit("/", 1)[-1].split("?")[0]

    # The provider's steward approves fewer fields from the inbox.
    steward.goto(f"{base}/requests")
    expect(steward.get_by_test_id("requests")).to_contain_text("剩余")
    shot(steward, "14-provider-inbox")
    steward.get_by_role("link", name=re.compile(request_id[-8:])).click()
    steward.locator('input[name="fields"][value="sex"]').uncheck()
    steward.get_by_role("button", name="同意").click()
    expect(steward.get_by_test_id("request-status")).to_have_text("待协调确认")
    expect(steward.get_by_test_id("approved-fields")).not_to_contain_text("sex")
    shot(steward, "15-approved-fewer-fields")

    # The coordinator confirms.
    coordinator_context, coordinator = signed_in(browser, mesh, "bdb.coordinator")
    coordinator.goto(f"{base}/requests")
    shot(coordinator, "40-coordinator-queue")
    coordinator.get_by_role("link", name=re.compile(request_id[-8:])).click()
    coordinator.get_by_role("button", name="确认并授权").click()
    expect(coordinator.get_by_test_id("request-status")).to_have_text("已授权")

    # The consumer sees the grant, and reads a record with the purpose: only the approved fields come back.
    consumer.goto(f"{base}/grants")
    held = consumer.get_by_test_id("held-grants")
    expect(held).to_contain_text(resource_id)
    shot(consumer, "32-grants")
    consumer.goto(f"{base}/records")
    consumer.get_by_label("资源").fill(resource_id)
    consumer.get_by_label("记录键").fill(record["id_number"])
    consumer.get_by_label("用途").fill(purpose)
    for _ in range(60):  # the grant reaches the gateway as an event
        consumer.get_by_role("button", name="查询").click()
        if consumer.get_by_test_id("record").count():
            break
        consumer.wait_for_timeout(500)
    shown = consumer.get_by_test_id("record")
    expect(shown).to_contain_text(record["name"])
    expect(shown).not_to_contain_text("sex")
    shot(consumer, "33-record-read")

    # The owner's steward sees the consumer's read in "who read this record".
    steward.goto(f"{base}/audit/records?resource={resource_id}&key={record['id_number']}")
    for _ in range(30):
        if "mca" in steward.get_by_test_id("accesses").inner_text():
            break
        steward.wait_for_timeout(500)
        steward.reload()
    accesses = steward.get_by_test_id("accesses")
    expect(accesses).to_contain_text("mca")
    expect(accesses).to_contain_text(purpose)
    expect(accesses).to_contain_text("person:mca.consumer")
    shot(steward, "16-who-read")

    # 校核: the consumer reports a suspect value of the record it read; the owner's steward resolves it.
    consumer.get_by_role("link", name="报告这条记录的问题（校核）").click()
    expect(consumer.get_by_label("资源")).to_have_value(resource_id)
    consumer.get_by_label("字段").fill("name")
    consumer.get_by_label("建议值").fill(record["name"] + "（核对）")
    consumer.get_by_label("问题说明").fill(f"与户籍登记不一致-{suffix}")
    consumer.get_by_role("button", name="提交校核").click()
    expect(consumer.get_by_role("status")).to_contain_text("校核已提交")
    shot(consumer, "34-correction-reported")
    steward.goto(f"{base}/corrections")
    reported = steward.locator("tr", has_text=f"与户籍登记不一致-{suffix}")
    reported.get_by_placeholder("处理说明").fill("已核实并更正")
    reported.get_by_role("button", name="已更正").click()
    expect(steward.get_by_role("status")).to_contain_text("已处理")
    shot(steward, "17-correction-resolved")

    # The steward edits the resource, revokes the grant, and retires the resource.
    steward.goto(f"{base}/stewardship/{resource_id}/edit")
    steward.get_by_label("摘要").fill("用于联络核验的姓名，来源于人口基础信息（已修订）。")
    steward.get_by_role("button", name="保存").click()
    expect(steward.get_by_role("status")).to_contain_text("修改已保存")
    expect(steward.locator("dl.facts")).to_contain_text("已修订")
    steward.goto(f"{base}/grants?resource={resource_id}")
    given = steward.get_by_test_id("given-grants").locator("tr", has_text=purpose)
    given.get_by_placeholder("撤回理由").fill("测试结束")
    given.get_by_role("button", name="撤回").click()
    expect(steward.get_by_role("status")).to_contain_text("授权已撤回")
    consumer.goto(f"{base}/grants")
    expect(consumer.get_by_test_id("held-grants")).not_to_contain_text(resource_id)
    steward.goto(f"{base}/catalog/{resource_id}")
    steward.get_by_role("button", name="撤销").click()
    expect(steward.get_by_role("status")).to_contain_text("资源已撤销")
    for context in (steward_context, consumer_context, coordinator_context):
        context.close()


@pytest.mark.parametrize(
    ("username", "paths"),
    [
        ("bdb.coordinator", ["/statistics", "/grants", "/requests?view=coordinator&status=granted"]),
        ("platform.admin", ["/audit", "/admin/departments", "/admin/clients", "/admin/people", "/statistics"]),
        ("psb.steward", ["/corrections", "/catalog/reports/re-collection", "/catalog/elements/person.name"]),
        ("mca.consumer", ["/corrections", "/records", "/requests"]),
    ],
)
def test_every_page_of_each_role_renders(browser: Browser, mesh: Mesh, username: str, paths: list[str]) -> None:
    context, page = signed_in(browser, mesh, username)
    for path in paths:
        response = page.goto(f"{portal(mesh)}{path}")
        assert response is not None
        assert response.status == 200, (path, page.content()[:2000])
        expect(page.locator(".problem")).to_have_count(0)
        shot(page, f"50-{username}-{path.strip('/').replace('/', '-').split('?')[0]}")
    if username == "platform.admin":
        page.goto(f"{portal(mesh)}/audit")
        expect(page.get_by_test_id("chain-ok")).to_have_text("完好")
        page.goto(f"{portal(mesh)}/admin/people")
        page.get_by_label("用户名").fill("new.person-" + secrets.token_hex(2))
        page.get_by_label("名称").fill("新同事")
        page.get_by_label("部门").select_option("mca")
        page.get_by_label("使用方").check()
        page.get_by_role("button", name="新增").click()
        expect(page.get_by_test_id("secret")).to_have_text(re.compile(r"^\S{12,}$"))
        shot(page, "51-admin-person-created")
    if username == "bdb.coordinator":
        page.goto(f"{portal(mesh)}/statistics")
        assert page.locator("svg.chart").count() >= 8  # six of the exchange, two of the audit log
    context.close()
