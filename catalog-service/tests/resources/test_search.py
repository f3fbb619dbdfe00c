"""The search terms (pure) and the search endpoint (through the API, on PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onesource.catalog.resources import repository
from onesource.catalog.resources.search import document_terms, matches, query_terms, to_tsquery

RESOURCES = "/v1/resources"

cjk = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=30)
words = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,15}", fullmatch=True)


# --- terms -------------------------------------------------------------------------------------------------


def test_chinese_is_indexed_by_characters_and_pairs() -> None:
    assert document_terms("人口基础") == sorted(["人", "口", "基", "础", "人口", "口基", "基础"])
    assert query_terms("人口") == [("人口", False)]
    assert query_terms("户") == [("户", False)]
    assert query_terms("人口基础") == [("人口", False), ("口基", False), ("基础", False)]


def test_english_is_lower_cased_words_matched_by_prefix() -> None:
    assert document_terms("Population REGISTRY, v2") == ["population", "registry", "v2"]
    assert query_terms("Popul") == [("popul", True)]
    assert matches(document_terms("Population registry"), query_terms("popul REG"))
    assert not matches(document_terms("Population registry"), query_terms("ulation"))


def test_mixed_and_full_width_text() -> None:
    terms = document_terms("人口API接口（ＪＳＯＮ）")
    assert {"人口", "api", "接口", "json"} <= set(terms)
    assert "口a" not in terms  # scripts are split apart
    assert matches(terms, query_terms("json 接口"))


def test_punctuation_only_queries_have_no_terms() -> None:
    assert query_terms("，。！?? --") == []
    assert to_tsquery([]) is None


def test_tsquery_quotes_every_term() -> None:
    assert to_tsquery([("人口", False), ("pop", True)]) == "'人口' & 'pop':*"
    assert to_tsquery([("it's", False)]) == "'it''s'"


@given(text=cjk, data=st.data())
def test_any_chinese_substring_finds_its_text(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    assert matches(document_terms(text), query_terms(text[start:end]))


@given(before=st.lists(words, max_size=5), word=words, after=st.lists(words, max_size=5), cut=st.integers(1, 16))
def test_any_word_prefix_finds_its_text(before: list[str], word: str, after: list[str], cut: int) -> None:
    text = " ".join([*before, word, *after])
    assert matches(document_terms(text), query_terms(word[:cut]))
    assert matches(document_terms(text), query_terms(word.upper()))


@given(text=st.text(max_size=200))
def test_terms_of_any_text_are_well_formed(text: str) -> None:
    for term in document_terms(text):
        assert term
        assert term == term.strip()
        assert len(term) <= 64
    query = query_terms(text)
    assert len(query) <= 32
    tsquery = to_tsquery(query)
    assert (tsquery is None) == (not query)


# --- the endpoint ------------------------------------------------------------------------------------------


async def _search(client: Any, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = await client.get(RESOURCES, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


async def _directory(catalog: Any, police_steward: Any, market_steward: Any, person: Any, company: Any) -> None:
    await catalog.published(person(), police_steward)
    await catalog.published(company(), market_steward)
    await catalog.create(
        person(
            id="population.household",
            name="户籍家庭信息",
            summary="Households and their members.",
            share_type="conditional",
            share_condition="用于社会救助",
            fields=[
                {"name": "household_id", "element": "household.id", "data_type": "C", "length": 20,
                 "description": "户号", "authoritative": True},
            ],
            key="household_id",
        ),
        police_steward,
    )  # fmt: skip


async def test_chinese_search_by_name_summary_and_field_description(
    client, catalog, police_steward, market_steward, consumer, person, company
) -> None:
    await _directory(catalog, police_steward, market_steward, person, company)
    assert _ids(await _search(client, consumer, q="人口")) == ["population.person"]
    assert _ids(await _search(client, consumer, q="人口基础信息")) == ["population.person"]
    assert _ids(await _search(client, consumer, q="户籍")) == ["population.person"]  # field 户籍地址; draft hidden
    assert _ids(await _search(client, consumer, q="基础信息")) == ["legal-entity.company", "population.person"]
    assert _ids(await _search(client, consumer, q="信用代码")) == ["legal-entity.company"]
    assert _ids(await _search(client, consumer, q="人口 法人")) == []  # every term must match
    assert _ids(await _search(client, consumer, q="口基")) == ["population.person"]  # any substring
    assert _ids(await _search(client, consumer, q="基口")) == []


async def test_english_search(client, catalog, police_steward, market_steward, consumer, person, company) -> None:
    await _directory(catalog, police_steward, market_steward, person, company)
    assert _ids(await _search(client, consumer, q="person records")) == ["population.person"]
    # population.person by its id (a name), the company by a field's description
    assert _ids(await _search(client, consumer, q="population")) == ["population.person", "legal-entity.company"]
    assert _ids(await _search(client, consumer, q="Legal Representative")) == ["legal-entity.company"]
    assert _ids(await _search(client, consumer, q="regist")) == ["legal-entity.company", "population.person"]
    assert _ids(await _search(client, consumer, q="household_address")) == ["population.person"]  # field name
    assert _ids(await _search(client, consumer, q="nothing-like-this")) == []
    assert _ids(await _search(client, consumer, q="!!!")) == ["legal-entity.company", "population.person"]


async def test_filters(client, catalog, police_steward, market_steward, consumer, person, company) -> None:
    await _directory(catalog, police_steward, market_steward, person, company)
    assert _ids(await _search(client, consumer, provider="market-regulation")) == ["legal-entity.company"]
    assert _ids(await _search(client, consumer, share_type="unconditional")) == ["population.person"]
    assert _ids(await _search(client, consumer, category="theme")) == []
    assert _ids(await _search(client, consumer, element="person.name")) == [
        "legal-entity.company",  # its representative_name copies person.name
        "population.person",
    ]
    assert _ids(await _search(client, consumer, element="entity.uscc")) == ["legal-entity.company"]
    assert _ids(await _search(client, consumer, q="基础", provider="public-security")) == ["population.person"]


async def test_status_visibility(
    client, catalog, police_steward, market_steward, consumer, coordinator, person, company
) -> None:
    await _directory(catalog, police_steward, market_steward, person, company)
    everything = ["legal-entity.company", "population.household", "population.person"]
    published = ["legal-entity.company", "population.person"]
    assert _ids(await _search(client, coordinator)) == everything
    assert _ids(await _search(client, consumer)) == published
    assert _ids(await _search(client, consumer, status="draft")) == []
    assert _ids(await _search(client, police_steward)) == published
    assert _ids(await _search(client, police_steward, status="draft")) == ["population.household"]
    assert _ids(await _search(client, market_steward, status="draft")) == []
    assert _ids(await _search(client, coordinator, status="draft", q="户籍")) == ["population.household"]


async def test_facets_count_every_match_not_just_the_page(
    client, catalog, police_steward, market_steward, coordinator, person, company
) -> None:
    await _directory(catalog, police_steward, market_steward, person, company)
    page = await _search(client, coordinator, limit="1")
    assert len(page["items"]) == 1
    facets = page["facets"]
    assert facets["provider"] == [
        {"value": "public-security", "count": 2},
        {"value": "market-regulation", "count": 1},
    ]
    assert facets["category"] == [{"value": "base", "count": 3}]
    assert facets["share_type"] == [
        {"value": "conditional", "count": 2},
        {"value": "unconditional", "count": 1},
    ]
    assert facets["status"] == [{"value": "published", "count": 2}, {"value": "draft", "count": 1}]
    assert facets["total"] == 3
    assert facets["capped"] is False
    narrowed = (await _search(client, coordinator, q="户籍"))["facets"]
    assert narrowed["total"] == 2
    assert narrowed["provider"] == [{"value": "public-security", "count": 2}]


async def test_pagination(client, catalog, police_steward, consumer, person) -> None:
    copies = [
        {"name": "name", "element": "person.name", "data_type": "C", "length": 50, "source_element": "person.name"}
    ]
    expected = []
    for number in range(7):
        resource_id = f"theme.elderly-{number}"
        await catalog.published(
            person(id=resource_id, name=f"老年人服务 {number}", category="theme", fields=copies, key="name"),
            police_steward,
        )
        expected.append(resource_id)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"q": "老年", "limit": "3", **({"cursor": cursor} if cursor else {})}
        page = await _search(client, consumer, **params)
        assert page["facets"]["total"] == 7
        seen += _ids(page)
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == 3


# --- relevance ---------------------------------------------------------------------------------------------


async def _ranked_directory(catalog: Any, police_steward: Any, person: Any) -> None:
    """Resources that hold "婚姻登记" in different places (ids in the reverse of the relevance order)."""
    copies = [
        {"name": "name", "element": "person.name", "data_type": "C", "length": 50, "source_element": "person.name"}
    ]

    def entry(resource_id: str, name: str, summary: str, description: str = "姓名") -> dict[str, Any]:
        fields = [{**copies[0], "description": description}]
        return person(id=resource_id, name=name, summary=summary, category="department", fields=fields, key="name")

    for document in (
        entry("civil.a-field", "民政业务档案", "档案信息", description="婚姻登记机关"),
        entry("civil.b-summary", "民政事务记录", "包括婚姻登记的事务"),
        entry("civil.c-longer-name", "婚姻登记信息（历史）", "历史数据"),
        entry("civil.d-name", "婚姻登记信息", "现行数据"),
    ):
        await catalog.published(document, police_steward)


async def test_exact_names_first_then_names_then_summaries_and_fields(
    client, catalog, police_steward, consumer, person
) -> None:
    await _ranked_directory(catalog, police_steward, person)
    assert _ids(await _search(client, consumer, q="婚姻登记信息")) == ["civil.d-name", "civil.c-longer-name"]
    assert _ids(await _search(client, consumer, q="婚姻登记")) == [
        "civil.c-longer-name",  # names, in id order
        "civil.d-name",
        "civil.a-field",  # then summaries and fields, in id order
        "civil.b-summary",
    ]
    assert _ids(await _search(client, consumer, q=" 婚姻登记信息（ 历史 ）")) == ["civil.c-longer-name"]


async def test_an_exact_code_or_id_comes_first(client, catalog, police_steward, consumer, person) -> None:
    await _ranked_directory(catalog, police_steward, person)
    by_code = await _search(client, consumer, q="3/000003")
    assert _ids(by_code)[0] == "civil.c-longer-name"
    assert by_code["items"][0]["code"] == "3/000003"
    assert _ids(await _search(client, consumer, q="civil.b-summary"))[0] == "civil.b-summary"


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5])
async def test_pages_run_across_the_tiers(client, catalog, police_steward, consumer, person, limit) -> None:
    await _ranked_directory(catalog, police_steward, person)
    seen: list[str] = []
    cursor = None
    while True:
        page = await _search(client, consumer, q="婚姻登记", limit=str(limit), **({"cursor": cursor} if cursor else {}))
        assert page["facets"]["total"] == 4
        assert page["items"] or not seen, "a next_cursor led to an empty page"
        seen += _ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["civil.c-longer-name", "civil.d-name", "civil.a-field", "civil.b-summary"]


async def test_a_page_that_ends_a_tier_leads_past_an_empty_one(
    client, catalog, police_steward, consumer, person
) -> None:
    copies = [
        {"name": "name", "element": "person.name", "data_type": "C", "length": 50, "source_element": "person.name"}
    ]
    for resource_id, name, summary in (
        ("civil.x-exact", "户口迁移", "迁移登记"),
        ("civil.y-text", "民政档案", "涉及户口迁移的记录"),
    ):
        document = person(id=resource_id, name=name, summary=summary, category="department", fields=copies, key="name")
        await catalog.published(document, police_steward)
    first = await _search(client, consumer, q="户口迁移", limit="1")
    assert _ids(first) == ["civil.x-exact"]  # the exact tier; no other name holds 户口迁移
    assert first["next_cursor"] is not None
    rest = await _search(client, consumer, q="户口迁移", limit="1", cursor=first["next_cursor"])
    assert _ids(rest) == ["civil.y-text"]
    assert rest["next_cursor"] is None


async def _crowded_directory(catalog: Any, police_steward: Any, person: Any, *, names_first: bool) -> list[str]:
    """Resources holding 老年 in summaries, in names, as a whole name, and a draft; the published in relevance order.

    The facet pass counts matches in the order they were registered: the text tier first, or (``names_first``)
    the name tier.
    """
    copies = [
        {"name": "name", "element": "person.name", "data_type": "C", "length": 50, "source_element": "person.name"}
    ]

    def entry(resource_id: str, name: str, summary: str) -> dict[str, Any]:
        return person(id=resource_id, name=name, summary=summary, category="theme", fields=copies, key="name")

    texts = [(f"civil.{letter}-text", f"民政档案 {letter}", "涉及老年人的记录") for letter in "acegkm"]
    names = [(f"civil.{letter}-name", f"老年人服务 {letter}", "服务记录") for letter in "bhnpq"]
    for resource_id, name, summary in [*names, *texts] if names_first else [*texts, *names]:
        await catalog.published(entry(resource_id, name, summary), police_steward)
    await catalog.published(entry("civil.z-exact", "老年", "名录"), police_steward)
    await catalog.create(entry("civil.d-draft", "民政草稿", "老年人草稿"), police_steward)
    return ["civil.z-exact", *(entry[0] for entry in names), *(entry[0] for entry in texts)]


@pytest.mark.parametrize("cap", [2, 1000])
@pytest.mark.parametrize("walk_rows_per_hit", [1, 20])
@pytest.mark.parametrize("names_first", [False, True])
async def test_many_matches_keep_the_ranking_across_pages(
    client, catalog, settings, police_steward, consumer, coordinator, person, monkeypatch, cap, walk_rows_per_hit,
    names_first
) -> None:  # fmt: skip
    # A small facet cap makes these few matches "many": the tier that fills the counted ones is then walked in id
    # order, and a walk of 1 row per hit hands over to the index after every few rows.
    published = await _crowded_directory(catalog, police_steward, person, names_first=names_first)
    monkeypatch.setattr(settings, "facet_cap", cap)
    monkeypatch.setattr(repository, "WALK_ROWS_PER_HIT", (walk_rows_per_hit,) * 3)
    everything = [*published[:6], *sorted([*published[6:], "civil.d-draft"])]
    for headers, expected in ((consumer, published), (coordinator, everything)):
        for limit in (1, 2, 3, 5, 6, 7, 50):
            seen: list[str] = []
            cursor = None
            while True:
                params = {"q": "老年", "limit": str(limit), **({"cursor": cursor} if cursor else {})}
                page = await _search(client, headers, **params)
                assert page["facets"]["total"] == min(len(expected), cap)
                assert page["facets"]["capped"] is (len(expected) >= cap)
                assert page["items"] or not seen, "a next_cursor led to an empty page"
                seen += _ids(page)
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert seen == expected, (limit, headers is consumer)


async def test_a_cursor_that_is_not_ours_is_refused_with_many_matches_too(
    client, catalog, settings, police_steward, consumer, person, monkeypatch
) -> None:
    await _crowded_directory(catalog, police_steward, person, names_first=False)
    monkeypatch.setattr(settings, "facet_cap", 2)
    for cursor in ("not-a-cursor", "WzEsMl0", "eyJhIjoxfQ"):  # not base64 JSON; [1,2]; {"a":1}
        response = await client.get(RESOURCES, params={"q": "老年", "cursor": cursor}, headers=consumer)
        assert response.status_code == 422, response.text
        assert response.json()["type"].endswith("invalid-cursor")
