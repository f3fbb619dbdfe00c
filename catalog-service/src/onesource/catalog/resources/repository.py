"""Every SQL statement of the resources domain."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    delete,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Text

from onesource.catalog.models import (
    DirectorySequence,
    Element,
    ElementClaim,
    ExchangeGrant,
    Resource,
    ResourceVersion,
)
from onesource.catalog.resources.search import TIERS
from onesource.kit.pagination import InvalidCursor, Slice, cursor_after, decode_cursor, paginate


@dataclass(frozen=True)
class Owner:
    """The published authoritative field of an element."""

    element: str
    resource: str
    field: str
    provider: str

    def as_dict(self) -> dict[str, str]:
        """The owner as problem and API bodies show it."""
        return {"element": self.element, "resource": self.resource, "field": self.field, "provider": self.provider}


@dataclass(frozen=True)
class SearchFilter:
    """What a search asks for, after access rules were applied."""

    tsquery: str | None
    tiers: tuple[str, str] | None
    """With text: the ``tsquery`` texts over a match's ``naming`` terms that place it in the exact, else the name
    tier, else the text tier (``search.tier_queries``)."""
    provider: str | None
    category: str | None
    share_type: str | None
    element: str | None
    status: str | None
    visible_provider: str | None
    """Besides published resources, the caller may see this department's (a steward's own)."""
    sees_everything: bool


async def get(session: AsyncSession, resource_id: str, *, for_update: bool = False) -> Resource | None:
    """The resource with ``resource_id`` (locked for the transaction with ``for_update``)."""
    statement = select(Resource).where(Resource.id == resource_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).first()


async def exists(session: AsyncSession, resource_id: str) -> bool:
    """Whether a resource with ``resource_id`` exists."""
    return (await session.scalar(select(func.count()).where(Resource.id == resource_id))) != 0


async def next_sequence(session: AsyncSession, category_code: int) -> int:
    """The next sequence code of a category; the row lock serialises creators and a rollback returns the number."""
    statement = (
        insert(DirectorySequence)
        .values(category_code=category_code, last_value=1)
        .on_conflict_do_update(
            index_elements=[DirectorySequence.category_code],
            set_={"last_value": DirectorySequence.last_value + 1},
        )
        .returning(DirectorySequence.last_value)
    )
    value: int = (await session.execute(statement)).scalar_one()
    return value


async def insert_resource(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert a resource unless its id exists (race-safe); whether it was inserted."""
    statement = (
        insert(Resource)
        .values({**values, "search": search_vector(values["search"])})
        .on_conflict_do_nothing(index_elements=[Resource.id])
        .returning(Resource.id)
    )
    return (await session.execute(statement)).first() is not None


def search_vector(terms: list[str]) -> ColumnElement[Any]:
    """The stored ``tsvector`` of search terms: taken verbatim, no parser or dictionary involved."""
    return func.array_to_tsvector(cast(terms, ARRAY(Text)))


async def add_version(
    session: AsyncSession,
    resource_id: str,
    version: int,
    action: str,
    document: dict[str, Any],
    changed_by: str,
    changed_at: datetime,
) -> None:
    """Record one version of a resource's document."""
    session.add(
        ResourceVersion(
            resource_id=resource_id,
            version=version,
            action=action,
            document=document,
            changed_by=changed_by,
            changed_at=changed_at,
        )
    )
    await session.flush()


def versions(resource_id: str) -> Select[tuple[ResourceVersion]]:
    """A resource's versions (the caller orders and pages them)."""
    return select(ResourceVersion).where(ResourceVersion.resource_id == resource_id)


async def register_elements(session: AsyncSession, codes: Sequence[str], registered_by: str) -> None:
    """Add the element codes the vocabulary does not have yet."""
    if codes:
        await session.execute(
            insert(Element)
            .values([{"code": code, "registered_by": registered_by} for code in sorted(set(codes))])
            .on_conflict_do_nothing()
        )


async def replace_claims(
    session: AsyncSession, resource_id: str, provider: str, status: str, fields: Sequence[dict[str, Any]]
) -> None:
    """Replace a resource's element claims by those of ``fields``."""
    await session.execute(delete(ElementClaim).where(ElementClaim.resource_id == resource_id))
    await session.execute(
        insert(ElementClaim).values(
            [
                {
                    "resource_id": resource_id,
                    "field": field["name"],
                    "element": field["element"],
                    "source_element": field.get("source_element"),
                    "authoritative": field["authoritative"],
                    "provider": provider,
                    "resource_status": status,
                }
                for field in fields
            ]
        )
    )


async def set_claims_status(session: AsyncSession, resource_id: str, status: str) -> None:
    """Follow a resource's status in its claims (a published authoritative claim is unique per element)."""
    await session.execute(
        update(ElementClaim).where(ElementClaim.resource_id == resource_id).values(resource_status=status)
    )


async def owners(session: AsyncSession, elements: Sequence[str], *, excluding: str | None = None) -> list[Owner]:
    """The published authoritative owners of ``elements`` (other than resource ``excluding``)."""
    if not elements:
        return []
    statement = select(ElementClaim).where(
        ElementClaim.element.in_(sorted(set(elements))),
        ElementClaim.authoritative,
        ElementClaim.resource_status == "published",
    )
    if excluding is not None:
        statement = statement.where(ElementClaim.resource_id != excluding)
    return [
        Owner(claim.element, claim.resource_id, claim.field, claim.provider)
        for claim in (await session.scalars(statement)).all()
    ]


async def active_grant_ids(session: AsyncSession, resource_id: str, *, limit: int = 20) -> list[str]:
    """Ids of grants on the resource that are active and not past their end."""
    statement = (
        select(ExchangeGrant.id)
        .where(
            ExchangeGrant.resource == resource_id,
            ExchangeGrant.status == "active",
            or_(ExchangeGrant.valid_until.is_(None), ExchangeGrant.valid_until > func.now()),
        )
        .order_by(ExchangeGrant.id)
        .limit(limit)
    )
    return list((await session.scalars(statement)).all())


def _conditions(search: SearchFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if not search.sees_everything:
        visible = Resource.status == "published"
        if search.visible_provider is not None:
            visible = or_(visible, Resource.provider == search.visible_provider)
        conditions.append(visible)
    if search.tsquery is not None:
        conditions.append(Resource.search.bool_op("@@")(cast(search.tsquery, TSQUERY)))
    if search.provider is not None:
        conditions.append(Resource.provider == search.provider)
    if search.category is not None:
        conditions.append(Resource.category == search.category)
    if search.share_type is not None:
        conditions.append(Resource.share_type == search.share_type)
    if search.status is not None:
        conditions.append(Resource.status == search.status)
    if search.element is not None:
        conditions.append(Resource.elements.contains(cast([search.element], ARRAY(Text))))
    return conditions


_SUMMARY = (
    Resource.id,
    Resource.code,
    Resource.name,
    Resource.summary,
    Resource.provider,
    Resource.category,
    Resource.share_type,
    Resource.status,
    Resource.version,
    Resource.published_at,
)


@dataclass(frozen=True)
class Found:
    """What a search found: facet counts over at most the cap of matches, and one page of matches."""

    total: int
    """Matches counted (the cap when there are more)."""
    counts: list[tuple[str, str, int]]
    """``(facet, value, count)`` by provider, category, share type and status."""
    page: Slice[Any]
    """Rows with a ``rank`` (the relevance tier) and the summary columns, in (rank, id) order."""


#: A walk of a relevance tier (exact, name, text) in id order reads at most this many rows per row it is to find,
#: then leaves the rest to the text index. Whether a row is in the exact or name tier shows in its small naming terms,
#: so those walks afford more rows than one of the text tier, which reads each row's (out-of-line) search terms.
WALK_ROWS_PER_HIT = (100, 100, 20)


async def search(session: AsyncSession, search: SearchFilter, *, cap: int, limit: int, cursor: str | None) -> Found:
    """Facets over at most ``cap`` matches of ``search``, and the page of ``limit`` matches after ``cursor``.

    The page's key is (rank, id): with text the rank is the match's relevance tier (0 exact, 1 name, 2 text), taken
    from its small ``naming`` terms, so ranking reads no out-of-line search vector; without text it is 0.

    Plans are chosen here, because the planner estimates a conjunction of search terms badly in both directions.
    Fewer matches than ``cap`` (the facet pass counted them all): one statement from the text index's bitmap, every
    tier at once, sorted (at most ``cap`` rows). More (see :func:`_ranked_many`): tier by tier, a dense one walked
    in id order, a sparse one from the index. Without text, for filters alone: few matches, fetch them all and
    sort; many, walk an id-ordered index and stop after ``limit`` matches (about ``limit`` × rows / matches rows).
    Either way the rows touched stay bounded.
    """
    if search.tiers is not None:
        after = _cursor_key(cursor)
        async with _planned(session, id_ordered=False):
            sample = await _facet_counts(session, search, cap=cap, after=after)
            if sample.total < cap:
                page = await _page(session, search, limit=limit, cursor=cursor)
            else:
                page = await _ranked_many(session, search, limit=limit, after=after, sample=sample, cap=cap)
        return Found(total=sample.total, counts=sample.counts, page=page)
    # Planned for its parameters: a generic plan cannot know how many rows the filters leave.
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    sample = await _facet_counts(session, search, cap=cap, after=None)
    many = sample.total >= cap
    async with _planned(session, id_ordered=many):
        page = await _page(session, search, limit=limit, cursor=cursor, plan="id-ordered" if many else "bitmap")
    return Found(total=sample.total, counts=sample.counts, page=page)


def _rank(search: SearchFilter) -> ColumnElement[int]:
    if search.tiers is None:
        return literal_column("0", Integer)
    exact, named = search.tiers
    return case(
        (Resource.naming.bool_op("@@")(cast(exact, TSQUERY)), 0),
        (Resource.naming.bool_op("@@")(cast(named, TSQUERY)), 1),
        else_=2,
    )


async def _page(
    session: AsyncSession, search: SearchFilter, *, limit: int, cursor: str | None, plan: str = "bitmap"
) -> Slice[Any]:
    rank = _rank(search).label("rank")
    statement: Select[Any] = select(rank, *_SUMMARY).where(*_conditions(search))
    # Each plan has its own statement text, so a prepared plan is never reused under the other settings.
    statement = statement.prefix_with(f"/* {plan} */")
    return await paginate(session, statement, order=[rank, Resource.id], limit=limit, cursor=cursor, rows=True)


async def _ranked_many(
    session: AsyncSession, search: SearchFilter, *, limit: int, after: tuple[int, str] | None, sample: Sample, cap: int
) -> Slice[Any]:
    """A page of a text search with at least ``cap`` matches, after the (rank, id) ``after``.

    One statement per tier, best first, until the page (and one row more) is full. A tier that holds at least half
    of the ``sample`` (the ``cap`` matches the facets counted) is dense: walk it in id order and stop after enough
    hits (about ``limit`` × rows / hits rows). A walk reads at most :data:`WALK_ROWS_PER_HIT` rows per hit it still
    needs, because a tier may sit together far along the id order (ids, names and field texts share words: the
    name tier of 社保 is every ``social-insurance.*``); the index finds the rest, past the rows the walk read, and
    takes all of them when the sample holds none of the tier's rows within the walk's reach. A sparse tier comes
    from the index alone: the exact and name tiers through their own terms (in ``search`` as well), the text tier
    from the matches' bitmap.
    """
    first = after[0] if after is not None else 0
    rows: list[Any] = []
    for tier in range(max(first, 0), len(TIERS)):
        last_id = after[1] if after is not None and after[0] == tier else None
        need = limit + 1 - len(rows)  # one row more than the page holds tells whether another page follows
        if sample.in_tiers[tier] * 2 >= cap:
            rows += await _walk_tier(session, search, tier, last_id=last_id, count=need, sampled=sample.first[tier])
        else:
            rows += (await session.execute(_tier_rows(search, tier, last_id=last_id, count=need, index=True))).all()
        if len(rows) > limit:
            break
    page = rows[:limit]
    more = len(rows) > limit
    return Slice(items=page, next_cursor=cursor_after([page[-1].rank, page[-1].id]) if more and page else None)


async def _walk_tier(
    session: AsyncSession, search: SearchFilter, tier: int, *, last_id: str | None, count: int, sampled: str | None
) -> list[Any]:
    """The first ``count`` matches of ``tier`` after ``last_id``: walked in id order, then (if need be) indexed.

    ``sampled`` is the smallest id after ``last_id`` of the tier's rows in the facets' sample.
    """
    # The walk covers the ids up to the one ``budget`` rows on (read from the primary key alone), the index the rest:
    # the two ranges meet exactly, whatever commits between the statements.
    await _use_plan(session, id_ordered=True)
    boundary = await session.scalar(
        select(Resource.id)
        .where(*([Resource.id > last_id] if last_id is not None else []))
        .order_by(Resource.id)
        .offset(count * WALK_ROWS_PER_HIT[tier] - 1)
        .limit(1)
    )
    if boundary is not None and (sampled is None or sampled > boundary):
        # None of the tier's sampled rows (at least half of the sample) is within the walk's reach: the index takes all.
        await _use_plan(session, id_ordered=False)
        return list((await session.execute(_tier_rows(search, tier, last_id=last_id, count=count, index=True))).all())
    walk = _tier_rows(search, tier, last_id=last_id, count=count, index=False)
    if boundary is not None:
        walk = walk.where(Resource.id <= boundary)
    found = list((await session.execute(walk)).all())
    await _use_plan(session, id_ordered=False)
    if len(found) < count and boundary is not None:
        rest = _tier_rows(search, tier, last_id=boundary, count=count - len(found), index=True)
        found += (await session.execute(rest)).all()
    return found


def _tier_rows(search: SearchFilter, tier: int, *, last_id: str | None, count: int, index: bool) -> Select[Any]:
    """The first ``count`` matches of relevance tier ``tier`` after ``last_id``, in id order.

    Walked (``index=False``), the tier's conditions over the small ``naming`` terms come first, so the search terms
    are read only for the rows in the tier. From the index, the exact and name tiers add their terms to the query.
    """
    assert search.tsquery is not None
    assert search.tiers is not None
    exact, named = (Resource.naming.bool_op("@@")(cast(tsquery, TSQUERY)) for tsquery in search.tiers)
    in_tier = [exact] if tier == 0 else [named, ~exact] if tier == 1 else [~named, ~exact]
    if index and tier < 2:
        search = replace(search, tsquery=f"{search.tsquery} & {search.tiers[tier]}")
    return (
        select(literal_column(str(int(tier)), Integer).label("rank"), *_SUMMARY)
        .where(*in_tier, *_conditions(search), *([Resource.id > last_id] if last_id is not None else []))
        .order_by(Resource.id)
        .limit(count)
        # Each plan has its own statement text, so a prepared plan is never reused under the other settings.
        .prefix_with("/* bitmap */" if index else "/* id-ordered */")
    )


def _cursor_key(cursor: str | None) -> tuple[int, str] | None:
    """The (rank, id) a search cursor points after; ``None`` without one; 422 when it is not one of ours."""
    if cursor is None:
        return None
    try:
        rank, resource_id = json.loads(decode_cursor(cursor) or "")
        if isinstance(rank, int) and not isinstance(rank, bool) and isinstance(resource_id, str):
            return rank, resource_id
    except (ValueError, TypeError):
        pass
    raise InvalidCursor(  # as :func:`paginate` answers one
        "the cursor is not valid; pass the next_cursor of a previous page",
        invalid_params=[{"name": "query.cursor", "reason": "not a cursor issued by this API"}],
    )


@asynccontextmanager
async def _planned(session: AsyncSession, *, id_ordered: bool) -> AsyncIterator[None]:
    """Allow only the id-ordered index walk, or only the bitmap, for the statements inside (see :func:`_use_plan`)."""
    await _use_plan(session, id_ordered=id_ordered)
    try:
        yield
    finally:
        await session.execute(
            text(
                "SELECT set_config('enable_indexscan', 'on', true), set_config('enable_bitmapscan', 'on', true), "
                "set_config('enable_seqscan', 'on', true)"
            )
        )


async def _use_plan(session: AsyncSession, *, id_ordered: bool) -> None:
    """Allow only the id-ordered index walk, or only the bitmap, from now on in the transaction (one round trip).

    Each statement is also planned for its parameters (for the filters' indexes; see :func:`search`).
    """
    walk, bitmap = ("on", "off") if id_ordered else ("off", "on")
    await session.execute(
        text(
            "SELECT set_config('enable_indexscan', :walk, true), set_config('enable_bitmapscan', :bitmap, true), "
            "set_config('enable_seqscan', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true)"
        ),
        {"walk": walk, "bitmap": bitmap},
    )


@dataclass(frozen=True)
class Sample:
    """What the facet pass saw of at most the cap of matches."""

    total: int
    """Matches counted (the cap when there are more)."""
    counts: list[tuple[str, str, int]]
    """``(facet, value, count)`` by provider, category, share type and status."""
    in_tiers: list[int]
    """How many of them are in each relevance tier."""
    first: list[str | None]
    """The smallest id of each tier among them (after the cursor, in the cursor's tier)."""


async def _facet_counts(
    session: AsyncSession, search: SearchFilter, *, cap: int, after: tuple[int, str] | None
) -> Sample:
    """Facets and tier counts over at most ``cap`` matches, in one pass (GROUPING SETS, not one query per facet)."""
    matched = (
        select(
            Resource.id,
            Resource.provider,
            Resource.category,
            Resource.share_type,
            Resource.status,
            _rank(search).label("rank"),
        )
        .where(*_conditions(search))
        .limit(cap)
        .subquery("matched")
    )

    def in_tier(tier: int) -> ColumnElement[bool]:
        if after is not None and after[0] == tier:
            return and_(matched.c.rank == tier, matched.c.id > after[1])
        return matched.c.rank == tier

    columns = (matched.c.provider, matched.c.category, matched.c.share_type, matched.c.status)
    statement = select(
        *columns,
        func.grouping(*columns).label("grouping"),
        func.count().label("matches"),
        *(func.count().filter(matched.c.rank == tier).label(f"in_tier_{tier}") for tier in range(len(TIERS))),
        *(func.min(matched.c.id).filter(in_tier(tier)).label(f"first_{tier}") for tier in range(len(TIERS))),
    ).group_by(func.grouping_sets(*(tuple_(column) for column in columns), tuple_()))
    names = ("provider", "category", "share_type", "status")
    sample = Sample(total=0, counts=[], in_tiers=[0] * len(TIERS), first=[None] * len(TIERS))
    counts: list[tuple[str, str, int]] = []
    for row in (await session.execute(statement)).all():
        # grouping() sets bit (3 - i) for every column *not* grouped in this row's set.
        grouped = [name for index, name in enumerate(names) if not (row.grouping >> (3 - index)) & 1]
        if not grouped:
            sample = Sample(
                total=row.matches,
                counts=counts,
                in_tiers=[row._mapping[f"in_tier_{tier}"] for tier in range(len(TIERS))],
                first=[row._mapping[f"first_{tier}"] for tier in range(len(TIERS))],
            )
        elif row[names.index(grouped[0])] is not None:
            counts.append((grouped[0], row[names.index(grouped[0])], row.matches))
    return replace(sample, counts=counts)
