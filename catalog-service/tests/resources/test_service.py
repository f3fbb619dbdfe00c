"""Rules of the resources service that need real concurrency and commits, and the validation rules as properties."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onesource.catalog.models import Department, DirectorySequence, Element, Resource
from onesource.catalog.resources import service
from onesource.catalog.resources.errors import DuplicateAuthoritativeSource
from onesource.catalog.resources.schemas import ResourceCreate, ResourceField
from onesource.kit.auth import Principal
from onesource.kit.db import sessionmaker_for
from onesource.kit.tables import outbox_event

ADMIN = Principal(client_id="admin", department="platform", roles=frozenset({"admin"}))


def _draft(resource_id: str, element: str, *, category: str = "base") -> ResourceCreate:
    return ResourceCreate(
        id=resource_id,
        name="并发测试",
        summary="concurrency",
        provider="public-security",
        category=category,  # type: ignore[arg-type]
        format="api/json",
        update_cycle="daily",
        share_type="unconditional",
        fields=[ResourceField(name="value", element=element, data_type="I", authoritative=True)],
    )


@pytest_asyncio.fixture(loop_scope="session")
async def committed(catalog_app: Any) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], list[str]]]:
    """Sessions that really commit (for races), and a list of resource ids removed again afterwards."""
    sessions = sessionmaker_for(catalog_app.state.engine)
    created: list[str] = []
    async with sessions() as session, session.begin():
        session.add(Department(code="public-security", name="公安局", uscc="11110000000011017C"))
    yield sessions, created
    async with sessions() as session, session.begin():
        await session.execute(delete(Department).where(Department.code == "public-security"))
        await session.execute(delete(outbox_event).where(outbox_event.c.key.in_(created)))
        await session.execute(delete(Resource).where(Resource.id.in_(created)))
        await session.execute(delete(Element).where(Element.code.like("race.%")))
        # nothing committed is left, so the counters start again (other tests expect codes from 000001)
        await session.execute(delete(DirectorySequence))


async def _create(sessions: async_sessionmaker[AsyncSession], created: list[str], draft: ResourceCreate) -> str:
    async with sessions() as session, session.begin():
        document = await service.create(session, ADMIN, draft)
    created.append(draft.id)
    return document.code


async def _publish(sessions: async_sessionmaker[AsyncSession], resource_id: str) -> str:
    async with sessions() as session, session.begin():
        return (await service.publish(session, ADMIN, resource_id, None)).status


async def test_a_concurrent_second_claim_waits_for_the_first_and_is_refused(committed) -> None:
    sessions, created = committed
    element = f"race.datum_{uuid.uuid4().hex[:8]}"
    first, second = f"race.first-{uuid.uuid4().hex[:8]}", f"race.second-{uuid.uuid4().hex[:8]}"
    await _create(sessions, created, _draft(first, element))
    await _create(sessions, created, _draft(second, element))
    async with sessions() as session, session.begin():
        await service.publish(session, ADMIN, first, None)
        # the second publication passes the pre-check (the first is not committed) and blocks on the index
        contender = asyncio.create_task(_publish(sessions, second))
        await asyncio.sleep(0.5)
        assert not contender.done()
    with pytest.raises(DuplicateAuthoritativeSource) as refused:
        await contender
    assert refused.value.extensions["owner"]["resource"] == first


async def test_concurrent_publications_of_two_claims_exactly_one_wins(committed) -> None:
    sessions, created = committed
    element = f"race.datum_{uuid.uuid4().hex[:8]}"
    ids = [f"race.claim-{number}-{uuid.uuid4().hex[:8]}" for number in range(4)]
    for resource_id in ids:
        await _create(sessions, created, _draft(resource_id, element))
    outcomes = await asyncio.gather(*(_publish(sessions, resource_id) for resource_id in ids), return_exceptions=True)
    assert sum(outcome == "published" for outcome in outcomes) == 1, outcomes
    assert sum(isinstance(outcome, DuplicateAuthoritativeSource) for outcome in outcomes) == 3, outcomes
    async with sessions() as session:
        published = await session.scalar(
            select(func.count()).where(Resource.id.in_(ids), Resource.status == "published")
        )
        events = await session.scalar(select(func.count()).where(outbox_event.c.key.in_(ids)))
    assert published == 1
    assert events == 1


async def test_concurrent_creations_get_distinct_consecutive_codes(committed) -> None:
    sessions, created = committed
    drafts = [
        _draft(
            f"race.code-{number}-{uuid.uuid4().hex[:8]}", f"race.code_{number}_{uuid.uuid4().hex[:8]}", category="theme"
        )
        for number in range(6)
    ]
    codes = await asyncio.gather(*(_create(sessions, created, draft) for draft in drafts))
    numbers = sorted(int(code.split("/")[1]) for code in codes)
    assert all(code.startswith("2/") for code in codes)
    assert numbers == list(range(numbers[0], numbers[0] + 6))


async def test_rolled_back_work_leaves_no_event(committed) -> None:
    sessions, created = committed
    resource_id = f"race.rollback-{uuid.uuid4().hex[:8]}"
    await _create(sessions, created, _draft(resource_id, f"race.rollback_{uuid.uuid4().hex[:8]}"))
    async with sessions() as session:
        async with session.begin():
            await service.publish(session, ADMIN, resource_id, None)
            await session.flush()
            assert await session.scalar(select(func.count()).where(outbox_event.c.key == resource_id)) == 1
            await session.rollback()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).where(outbox_event.c.key == resource_id)) == 0
        assert await session.scalar(select(Resource.status).where(Resource.id == resource_id)) == "draft"


# --- validation as properties ------------------------------------------------------------------------------

conditions = st.one_of(st.none(), st.just("条件"))


@given(
    share_type=st.sampled_from(["unconditional", "conditional", "not_shared"]),
    share_condition=conditions,
    legal_basis=conditions,
    open_to_public=st.booleans(),
    open_condition=conditions,
)
def test_share_and_open_rules(
    share_type: str,
    share_condition: str | None,
    legal_basis: str | None,
    open_to_public: bool,
    open_condition: str | None,
) -> None:
    document = {
        "share_type": share_type,
        "share_condition": share_condition,
        "legal_basis": legal_basis,
        "open_to_public": open_to_public,
        "open_condition": open_condition,
        "paths": [],
        "fields": [ResourceField(name="a", element="x.a", data_type="I", authoritative=True)],
    }
    names = {problem["name"] for problem in service.problems(document)}
    assert ("body.share_condition" in names) == ((share_type == "conditional") != (share_condition is not None))
    assert ("body.legal_basis" in names) == (share_type == "not_shared" and legal_basis is None)
    assert ("body.open_to_public" in names) == (share_type == "not_shared" and open_to_public)
    assert ("body.open_condition" in names) == (open_condition is not None and not open_to_public)


@given(
    fields=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["x.a", "x.b"]),
            st.booleans(),
            st.one_of(st.none(), st.just("x.a")),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_field_rules(fields: list[tuple[str, str, bool, str | None]]) -> None:
    document = {
        "share_type": "unconditional",
        "paths": [],
        "fields": [
            ResourceField(name=name, element=element, data_type="I", authoritative=authoritative, source_element=source)
            for name, element, authoritative, source in fields
        ],
    }
    names = {problem["name"] for problem in service.problems(document)}
    seen: set[str] = set()
    claimed: set[str] = set()
    for index, (name, element, authoritative, source) in enumerate(fields):
        assert (f"body.fields.{index}.name" in names) == (name in seen)
        seen.add(name)
        assert (f"body.fields.{index}.source_element" in names) == (authoritative == (source is not None))
        assert (f"body.fields.{index}.element" in names) == (authoritative and element in claimed)
        if authoritative:
            claimed.add(element)
