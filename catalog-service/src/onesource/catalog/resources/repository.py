"""Every SQL statement of the resources domain."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
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
from onesource.kit.pagination import Slice, paginate


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


async def search_page(
    session: AsyncSession, search: SearchFilter, *, tier: int, limit: int, cursor: str | None, many: bool
) -> Slice[Any]:
    """One page of matching resources' summaries of relevance tier ``tier``, in id order, after ``cursor``.

    The key is (tier, id): one statement per tier, each with its tier as a constant, so a cursor from an earlier
    tier passes every row of a later one and a cursor from a later tier none of an earlier one (the planner folds
    the constant comparisons away, and the id condition remains).

    The plan is chosen here, from ``many`` (the tier has many matches), because the planner cannot tell: it
    estimates a conjunction of search terms badly in both directions. Few matches: fetch them all from the
    index's bitmap and sort (at most the facet cap of rows). Many: walk an id-ordered index and stop after
    ``limit`` matches (about ``limit`` × rows / matches rows). Either way the rows touched stay bounded.
    """
    rank = literal_column(str(int(tier)), Integer).label("rank")
    statement: Select[Any] = select(rank, *_SUMMARY).where(*_conditions(search))
    # Each plan has its own statement text, so a prepared plan is never reused under the other settings.
    statement = statement.prefix_with("/* id-ordered */" if many else "/* bitmap */")
    async with _planned(session, id_ordered=many):
        return await paginate(session, statement, order=[rank, Resource.id], limit=limit, cursor=cursor, rows=True)


async def any_match(session: AsyncSession, search: SearchFilter) -> bool:
    """Whether any resource matches ``search`` (to tell whether a page that ends a tier is the last).

    Always from the index's bitmap: left to itself the planner walks the primary key for a ``LIMIT 1`` and, when
    nothing matches, reads the whole table.
    """
    statement = select(Resource.id).where(*_conditions(search)).limit(1).prefix_with("/* bitmap */")
    async with _planned(session, id_ordered=False):
        return (await session.execute(statement)).first() is not None


@asynccontextmanager
async def _planned(session: AsyncSession, *, id_ordered: bool) -> AsyncIterator[None]:
    """Allow only the id-ordered index walk, or only the bitmap, for the statements inside (one round trip each way)."""
    walk, bitmap = ("on", "off") if id_ordered else ("off", "on")
    await session.execute(
        text(
            "SELECT set_config('enable_indexscan', :walk, true), set_config('enable_bitmapscan', :bitmap, true), "
            "set_config('enable_seqscan', 'off', true)"
        ),
        {"walk": walk, "bitmap": bitmap},
    )
    try:
        yield
    finally:
        await session.execute(
            text(
                "SELECT set_config('enable_indexscan', 'on', true), set_config('enable_bitmapscan', 'on', true), "
                "set_config('enable_seqscan', 'on', true)"
            )
        )


async def plan_each_search(session: AsyncSession) -> None:
    """Plan this transaction's statements for their parameters: a generic plan cannot know a query's selectivity."""
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def facet_counts(
    session: AsyncSession, search: SearchFilter, *, cap: int, tiers: Sequence[str] = ()
) -> list[tuple[str, str | None, int, list[int]]]:
    """``(facet, value, count, tier counts)`` over at most ``cap`` matches; facet ``total`` (value ``None``).

    The ``total`` row counts the matches, and its tier counts how many of them match each of ``tiers`` (``tsquery``
    texts). One pass over the (capped) matches with GROUPING SETS instead of one query per facet.
    """
    hits = [
        Resource.search.bool_op("@@")(cast(tier, TSQUERY)).label(f"tier_{index}") for index, tier in enumerate(tiers)
    ]
    matched = (
        select(Resource.provider, Resource.category, Resource.share_type, Resource.status, *hits)
        .where(*_conditions(search))
        .limit(cap)
        .subquery("matched")
    )
    columns = (matched.c.provider, matched.c.category, matched.c.share_type, matched.c.status)
    tier_counts = [
        func.count().filter(matched.c[f"tier_{index}"]).label(f"in_tier_{index}") for index in range(len(tiers))
    ]
    statement = select(
        *columns,
        func.grouping(*columns).label("grouping"),
        func.count().label("matches"),
        *tier_counts,
    ).group_by(func.grouping_sets(*(tuple_(column) for column in columns), tuple_()))
    names = ("provider", "category", "share_type", "status")
    counts: list[tuple[str, str | None, int, list[int]]] = []
    for row in (await session.execute(statement)).all():
        in_tiers = [row._mapping[f"in_tier_{index}"] for index in range(len(tiers))]
        # grouping() sets bit (3 - i) for every column *not* grouped in this row's set.
        grouped = [name for index, name in enumerate(names) if not (row.grouping >> (3 - index)) & 1]
        if not grouped:
            counts.append(("total", None, row.matches, in_tiers))
        else:
            counts.append((grouped[0], row[names.index(grouped[0])], row.matches, in_tiers))
    return counts
