"""The pages' handlers against a recorded fake of the gateway: what they ask it, and what they show."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from onesource.portal.charts import Bar, bar_chart
from onesource.portal.gateway import ApiProblem
from onesource.portal.pages.stewardship import field_rows
from onesource.portal.sessions import Sealer, Session
from onesource.portal.web import Form, working_days_until

from .conftest import csrf_of, signed_in_as

REQUESTS = "/api/exchange/v1/share-requests"


def share_request(identifier: str, due: datetime | None, *, provider: str = "psb", overdue: bool = False) -> dict:
    return {
        "id": identifier,
        "status": "pending_provider",
        "consumer": "mca",
        "requested_by": "person:mca.consumer",
        "resource": "population.person-extended",
        "provider": provider,
        "fields": ["id_number", "household_address"],
        "purpose": "最低生活保障资格审核",
        "legal_basis": "《社会救助暂行办法》",
        "due_at": due.isoformat() if due else None,
        "overdue": overdue,
        "approved_fields": None,
        "decision_reason": None,
        "refusal_reason": None,
        "dispute_reason": None,
        "grant_id": None,
        "created_at": datetime.now(UTC).isoformat(),
        "history": [],
    }


async def test_the_inbox_lists_the_departments_requests_by_due_date_with_overdue_marked(portal_with_fake, fake) -> None:
    http, app = portal_with_fake
    signed_in_as(http, app, ["steward"])
    now = datetime.now(UTC)
    fake.answer(
        "GET",
        REQUESTS,
        body={
            "items": [
                share_request("later-0000", now + timedelta(days=12)),
                share_request("late-00000", now - timedelta(days=3), overdue=True),
                share_request("other-dept", now + timedelta(days=1), provider="amr"),
                share_request("sooner-000", now + timedelta(days=5)),
            ],
            "next_cursor": None,
        },
    )
    page = await http.get("/requests")
    assert page.status_code == 200, page.text
    order = [page.text.index(key) for key in ("late-000", "sooner-0", "later-00")]
    assert order == sorted(order)
    assert "other-de" not in page.text, "another department's request is not in this inbox"
    assert "已逾期" in page.text
    assert "剩余" in page.text
    (asked,) = fake.sent
    assert asked.url.params["status"] == "pending_provider"
    assert asked.headers["authorization"] == "Bearer access-token"


async def test_approving_sends_only_the_ticked_fields(portal_with_fake, fake) -> None:
    http, app = portal_with_fake
    signed_in_as(http, app, ["steward"])
    fake.answer("GET", f"{REQUESTS}/r1", body=share_request("r1", None))
    fake.answer("POST", f"{REQUESTS}/r1/decision", body={"status": "pending_confirmation"})
    page = await http.get("/requests/r1")
    answered = await http.post(
        "/requests/r1/decision", data={"csrf": csrf_of(page.text), "approve": "true", "fields": "id_number"}
    )
    assert answered.status_code == 303
    decision = next(request for request in fake.sent if request.url.path.endswith("/decision"))
    assert json.loads(decision.content) == {"approve": True, "reason": None, "fields": ["id_number"]}


async def test_a_second_authoritative_claim_shows_the_existing_owner(portal_with_fake, fake) -> None:
    http, app = portal_with_fake
    session = signed_in_as(http, app, ["steward"])
    owner = {"resource": "population.person", "field": "name", "provider": "psb", "element": "person.name"}
    fake.answer(
        "POST",
        "/api/catalog/v1/resources",
        409,
        {
            "type": "https://onesource.gov.cn/problems/duplicate-authoritative-source",
            "title": "The element already has an authoritative source",
            "status": 409,
            "detail": "field 'name' claims element 'person.name' …",
            "owner": owner,
        },
    )
    form = {
        "csrf": session.csrf,
        "id": "population.claim",
        "name": "重复",
        "summary": "x",
        "share_type": "conditional",
        "fields.0.name": "name",
        "fields.0.element": "person.name",
        "fields.0.authoritative": "on",
    }
    refused = await http.post("/stewardship/new", data=form)
    assert refused.status_code == 409
    assert 'data-problem="duplicate-authoritative-source"' in refused.text
    assert 'href="/catalog/population.person"' in refused.text
    assert 'value="person.name"' in refused.text, "the form keeps what was typed"
    sent = json.loads(fake.sent[-1].content)
    assert sent["fields"] == [
        {"name": "name", "element": "person.name", "data_type": "C", "length": None, "description": "",
         "authoritative": True, "source_element": None}
    ]  # fmt: skip


async def test_a_fields_problem_is_shown_under_that_row(portal_with_fake, fake) -> None:
    http, app = portal_with_fake
    session = signed_in_as(http, app, ["steward"])
    fake.answer(
        "POST",
        "/api/catalog/v1/resources",
        422,
        {
            "title": "Invalid input",
            "status": 422,
            "invalid_params": [{"name": "body.fields.1.element", "reason": "not a data element name"}],
        },
    )
    form = {"csrf": session.csrf, "id": "population.x", "fields.0.name": "a", "fields.0.element": "person.a"}
    form |= {"fields.1.name": "b", "fields.1.element": "Bad Element"}
    refused = await http.post("/stewardship/new", data=form)
    assert refused.status_code == 422
    row = refused.text.index('name="fields.1.element"')
    reason = refused.text.index('id="error-fields.1.element"')
    assert row < reason < refused.text.index('name="fields.1.data_type"')
    assert "not a data element name</span>" in refused.text


async def test_the_navigation_shows_only_what_the_roles_allow_and_pages_refuse_the_rest(portal_with_fake, fake) -> None:
    http, app = portal_with_fake
    signed_in_as(http, app, ["consumer"], department="mca")
    fake.answer("GET", "/api/catalog/v1/resources", body={"items": [], "next_cursor": None, "facets": {
        "provider": [], "category": [], "share_type": [], "status": [], "total": 0, "capped": False}})  # fmt: skip
    page = await http.get("/catalog")
    assert page.status_code == 200, page.text
    assert 'href="/records"' in page.text
    assert 'href="/stewardship"' not in page.text
    assert 'href="/admin/people"' not in page.text
    assert (await http.get("/stewardship")).status_code == 403
    assert (await http.get("/admin/people")).status_code == 403
    assert (await http.get("/statistics")).status_code == 403


async def test_an_expired_token_is_renewed_and_the_cookie_carries_the_new_one(portal_with_fake, fake) -> None:
    http, app = portal_with_fake
    session = signed_in_as(http, app, ["steward"])
    session.access_expires_at = 0  # lapsed
    http.cookies.set("onesource_session", app.state.sealer.seal_session(session))
    fake.answer("POST", "/oauth/token", body={"access_token": "renewed", "refresh_token": "next", "expires_in": 900})
    fake.answer("GET", "/api/audit/v1/records/population.person/110", body={"items": [], "next_cursor": None})
    page = await http.get("/audit/records", params={"resource": "population.person", "key": "110"})
    assert page.status_code == 200, page.text
    assert fake.sent[-1].headers["authorization"] == "Bearer renewed"
    renewed = app.state.sealer.open_session(page.cookies["onesource_session"])
    assert (renewed.access_token, renewed.refresh_token) == ("renewed", "next")


async def test_a_refused_renewal_ends_the_session(portal_with_fake, fake) -> None:
    http, app = portal_with_fake
    session = signed_in_as(http, app, ["steward"])
    session.access_expires_at = 0
    http.cookies.set("onesource_session", app.state.sealer.seal_session(session))
    fake.answer("POST", "/oauth/token", 400, {"error": "invalid_grant", "error_description": "revoked"})
    page = await http.get("/audit/records", params={"resource": "population.person", "key": "110"})
    assert page.status_code == 303
    assert 'onesource_session=""' in page.headers["set-cookie"]


def test_working_days_skip_weekends_and_count_back_when_overdue() -> None:
    friday = date(2026, 12, 4)
    assert working_days_until(friday, friday) == 0
    assert working_days_until(date(2026, 12, 7), friday) == 1  # Monday
    assert working_days_until(date(2026, 12, 18), friday) == 10
    assert working_days_until(date(2026, 12, 3), friday) == -1
    assert working_days_until(date(2026, 11, 30), date(2026, 12, 7)) == -5


def test_field_rows_skip_empty_rows_and_read_checkboxes() -> None:
    first = {"fields.0.name": ["a"], "fields.0.element": ["x.a"], "fields.0.length": ["18"]}
    form = Form(first | {"fields.0.authoritative": ["on"], "fields.2.name": ["c"], "fields.2.source_element": ["x.c"]})
    rows = field_rows(form)
    assert [row["name"] for row in rows] == ["a", "c"]
    assert rows[0]["length"] == 18
    assert rows[0]["authoritative"] is True
    assert rows[1]["authoritative"] is False
    assert rows[1]["source_element"] == "x.c"


def test_problem_params_map_to_form_fields() -> None:
    problem = ApiProblem(
        status=422,
        title="Invalid input",
        invalid_params=[{"name": "body.fields.0.name", "reason": "r1"}, {"name": "query.q", "reason": "r2"}],
    )
    assert problem.field_errors() == {"fields.0.name": "r1", "q": "r2"}


def test_charts_escape_every_label() -> None:
    svg = str(bar_chart("<b>统计</b>", [Bar("<script>alert(1)</script>", [2.0, 1.0])], ["已授权", "<i>"]))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert svg.count("<rect") == 4  # two legend keys, two bar segments


def test_the_call_charts_split_each_departments_calls_into_answered_and_refused() -> None:
    from onesource.portal.pages.statistics import charts

    calls = {
        "consumers": [{"department": "mca", "calls": 5, "answered": 3}],
        "providers": [
            {"department": "psb", "calls": 5, "answered": 3},
            {"department": "amr", "calls": 1, "answered": 1},
        ],
    }
    drawn = dict(charts({"providers": [], "consumers": []}, calls))
    consumers, providers = drawn["各使用方的数据调用（近 30 日）"], drawn["各提供方数据被调用（近 30 日）"]
    assert "mca" in str(consumers)
    assert "psb" in str(providers)
    assert "amr" in str(providers)
    # two legend keys, then one segment per value: mca 3 and 2
    assert str(consumers).count("<rect") == 2 + 2


def test_a_session_cookie_cannot_be_read_altered_or_reused_for_another_purpose() -> None:
    sealer = Sealer("secret-one")
    session = Session("a", "r", 1e12, "li.na", "李娜", "psb", ["steward"], 1e12)
    sealed = sealer.seal_session(session)
    assert "li.na" not in sealed
    assert sealer.open_session(sealed) == session
    altered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    assert sealer.open_session(altered) is None
    assert Sealer("secret-two").open_session(sealed) is None
    assert sealer.open_login(sealed, max_age=600) is None
    expired = Session("a", "r", 0, "li.na", "李娜", "psb", ["steward"], 1.0)
    assert sealer.open_session(sealer.seal_session(expired)) is None


async def test_the_consumer_disputes_a_rejection_and_the_coordinator_mediates(portal_with_fake, fake) -> None:
    http, app = portal_with_fake
    consumer = signed_in_as(http, app, ["consumer"], department="mca", username="mca.consumer")
    rejected = share_request("r2", None) | {"status": "rejected", "decision_reason": "不符合条件"}
    fake.answer("GET", f"{REQUESTS}/r2", body=rejected)
    fake.answer("POST", f"{REQUESTS}/r2/dispute", body=rejected | {"status": "disputed"})
    page = await http.get("/requests/r2")
    assert "提出异议" in page.text
    assert "确认并授权" not in page.text
    disputed = await http.post("/requests/r2/dispute", data={"csrf": consumer.csrf, "reason": "依法履职需要"})
    assert disputed.status_code == 303
    assert json.loads(fake.sent[-1].content) == {"reason": "依法履职需要"}

    http.cookies.clear()
    coordinator = signed_in_as(http, app, ["coordinator"], department="bdb", username="bdb.coordinator")
    fake.answer("GET", f"{REQUESTS}/r2", body=rejected | {"status": "disputed", "dispute_reason": "依法履职需要"})
    fake.answer("POST", f"{REQUESTS}/r2/mediate", body=rejected | {"status": "granted"})
    page = await http.get("/requests/r2")
    assert "准予共享" in page.text
    assert "维持驳回" in page.text
    mediated = await http.post(
        "/requests/r2/mediate",
        data={"csrf": coordinator.csrf, "grant": "true", "fields": "id_number", "reason": "依法准予"},
    )
    assert mediated.status_code == 303
    assert json.loads(fake.sent[-1].content) == {"grant": True, "reason": "依法准予", "fields": ["id_number"]}
    # The consumer cannot mediate, whatever it posts: the page refuses before the gateway would.
    http.cookies.clear()
    consumer = signed_in_as(http, app, ["consumer"], department="mca", username="mca.consumer")
    sent = len(fake.sent)
    refused = await http.post("/requests/r2/mediate", data={"csrf": consumer.csrf, "grant": "true", "reason": "x"})
    assert refused.status_code == 403
    assert len(fake.sent) == sent


async def test_a_record_is_read_only_by_a_form_post_never_by_a_link(portal_with_fake, fake) -> None:
    http, app = portal_with_fake
    session = signed_in_as(http, app, ["consumer"], department="mca")
    linked = await http.get("/records", params={"resource": "population.person", "key": "110", "purpose": "x"})
    assert linked.status_code == 200
    assert fake.sent == [], "a link makes no audited read in the person's name"
    resource = {"id": "population.person", "service": "population", "paths": ["/v1/persons/{id_number}"]}
    fake.answer("GET", "/api/catalog/v1/resources/population.person", body=resource)
    fake.answer("GET", "/api/population/v1/persons/110", body={"id_number": "110", "name": "王五"})
    form = {"resource": "population.person", "key": "110", "purpose": "最低生活保障资格审核"}
    assert (await http.post("/records", data=form)).status_code == 403
    read = await http.post("/records", data={**form, "csrf": session.csrf})
    assert read.status_code == 200
    assert "王五" in read.text
    data_call = fake.sent[-1]
    assert data_call.url.path == "/api/population/v1/persons/110"
    assert (
        data_call.headers["x-onesource-purpose"]
        == "%E6%9C%80%E4%BD%8E%E7%94%9F%E6%B4%BB%E4%BF%9D%E9%9A%9C%E8%B5%84%E6%A0%BC%E5%AE%A1%E6%A0%B8"
    )


async def test_more_field_rows_keep_what_was_typed_without_calling_the_catalog(portal_with_fake, fake) -> None:
    http, app = portal_with_fake
    session = signed_in_as(http, app, ["steward"])
    form = {"csrf": session.csrf, "id": "population.x", "name": "名称", "fields.0.name": "a", "more_rows": "6"}
    page = await http.post("/stewardship/new", data=form)
    assert page.status_code == 200
    assert fake.sent == []
    assert 'value="population.x"' in page.text
    assert 'name="fields.6.name"' in page.text
    assert 'name="fields.7.name"' not in page.text


async def test_ready_only_while_the_gateway_answers(portal_with_fake, fake) -> None:
    http, _ = portal_with_fake
    assert (await http.get("/readyz")).status_code == 503
    fake.answer("GET", "/healthz", body={"status": "ok"})
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"gateway": "ok"}
