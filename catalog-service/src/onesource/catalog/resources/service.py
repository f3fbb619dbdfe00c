"""Business rules of resources: access, validation, directory codes, lifecycle, one datum one source, search.

Directory code (信息资源代码), after the 政务信息资源目录编制指南 and GB/T 21063.4 (政务信息资源分类):
``<分类码>/<顺序码>`` — the category code (1 base 基础, 2 theme 主题, 3 department 部门) and a six-digit
sequence code assigned per category in creation order, e.g. ``1/000001``. The guide's finer 项/目/细目
levels of the front code are left out: the platform keeps no subject taxonomy below the category.
Sequence codes come from a per-category counter row, so concurrent creations never share one, and a rolled-back
creation gives its number back (codes have no gaps).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.departments import service as departments
from onesource.catalog.models import Resource as ResourceRow
from onesource.catalog.models import ResourceVersion as ResourceVersionRow
from onesource.catalog.registries import service as registries
from onesource.catalog.resources import repository
from onesource.catalog.resources.errors import (
    DuplicateAuthoritativeSource,
    DuplicateResource,
    InvalidResource,
    InvalidTransition,
    ResourceHasActiveGrants,
    ResourceNotFound,
    RetiredResource,
)
from onesource.catalog.resources.events import ResourceChanged, ResourcePublished, ResourceRetired
from onesource.catalog.resources.schemas import (
    FacetCount,
    Facets,
    Resource,
    ResourceCreate,
    ResourceField,
    ResourceSummary,
    ResourceUpdate,
    ResourceVersion,
    SearchPage,
)
from onesource.catalog.resources.search import (
    attribute_term,
    query_terms,
    resource_terms,
    tier_queries,
    to_tsquery,
)
from onesource.kit import outbox
from onesource.kit.auth import Principal
from onesource.kit.concurrency import check_version
from onesource.kit.errors import Forbidden
from onesource.kit.pagination import Slice, paginate

CATEGORY_CODES = {"base": 1, "theme": 2, "department": 3}
AUTHORITY_INDEX = "uq_element_claim_authority"
#: Data types whose length the directory requires (C 字符型, N 数值型).
LENGTH_REQUIRED = frozenset({"C", "N"})
#: Document attributes that may not be ``null`` in a change.
REQUIRED = (
    "name",
    "summary",
    "format",
    "shape",
    "update_cycle",
    "share_type",
    "open_to_public",
    "paths",
    "fields",
    "filters",
)


def directory_code(category: str, sequence: int) -> str:
    """``<category code>/<six-digit sequence code>``, e.g. ``1/000001``."""
    return f"{CATEGORY_CODES[category]}/{sequence:06d}"


# --- access -------------------------------------------------------------------------------------------------


def sees_everything(principal: Principal) -> bool:
    """Coordinators and admins see every resource in every status."""
    return principal.has_role("coordinator", "admin")


def can_read(principal: Principal, resource: ResourceRow) -> bool:
    """Published resources: any caller; drafts and retired ones: the provider's stewards, coordinators, admins."""
    if resource.status == "published" or sees_everything(principal):
        return True
    return principal.has_role("steward") and principal.department == resource.provider


def ensure_can_manage(principal: Principal, provider: str, *, action: str) -> None:
    """Only the provider's stewards (and admins) register and change its resources."""
    if principal.has_role("admin"):
        return
    if not principal.has_role("steward"):
        raise Forbidden(f"only a steward of the provider or an admin may {action} a resource")
    if principal.department != provider:
        raise Forbidden(
            f"a steward of department {principal.department!r} may not {action} resources of department {provider!r}"
        )


# --- validation ---------------------------------------------------------------------------------------------


def problems(document: dict[str, Any]) -> list[dict[str, str]]:
    """Every rule spanning fields that ``document`` breaks, each naming the offending field."""
    found: list[dict[str, str]] = []

    def problem(name: str, reason: str) -> None:
        found.append({"name": f"body.{name}", "reason": reason})

    share_type = document["share_type"]
    if share_type == "conditional" and not document.get("share_condition"):
        problem("share_condition", "required when share_type is conditional (有条件共享 states its condition)")
    if share_type != "conditional" and document.get("share_condition"):
        problem("share_condition", f"only conditional resources have a share condition, this one is {share_type}")
    if share_type == "not_shared" and not document.get("legal_basis"):
        problem("legal_basis", "required when share_type is not_shared (不予共享 must cite its legal basis)")
    if share_type == "not_shared" and document.get("open_to_public"):
        problem("open_to_public", "a resource that is not shared cannot be open to the public")
    if document.get("open_condition") and not document.get("open_to_public"):
        problem("open_condition", "only resources open to the public have an open condition")
    if document.get("paths") and not document.get("service"):
        problem("service", "required when paths are given: the registry service the paths belong to")
    if len(set(document.get("paths") or [])) != len(document.get("paths") or []):
        problem("paths", "path templates must be distinct")
    fields: list[ResourceField] = document["fields"]
    names: set[str] = set()
    authoritative: dict[str, int] = {}
    for index, field in enumerate(fields):
        if field.name in names:
            problem(f"fields.{index}.name", f"field name {field.name!r} appears more than once")
        names.add(field.name)
        if field.authoritative and field.source_element is not None:
            problem(
                f"fields.{index}.source_element",
                "an authoritative field has no source element: give exactly one of authoritative and source_element",
            )
        if not field.authoritative and field.source_element is None:
            problem(
                f"fields.{index}.source_element",
                "required unless the field is authoritative: name the element the value is copied from",
            )
        if field.authoritative:
            if field.element in authoritative:
                problem(
                    f"fields.{index}.element",
                    f"element {field.element!r} already has an authoritative field "
                    f"(fields.{authoritative[field.element]}) in this resource",
                )
            authoritative.setdefault(field.element, index)
        if field.data_type in LENGTH_REQUIRED and field.length is None:
            problem(f"fields.{index}.length", f"required for data type {field.data_type}")
    if document.get("key") is not None and document["key"] not in names:
        problem("key", f"{document['key']!r} is not one of the resource's fields")
    for parameter, selected in (document.get("filters") or {}).items():
        unknown = [name for name in selected if name not in names]
        if unknown:
            problem(f"filters.{parameter}", f"{', '.join(map(repr, unknown))} is not one of the resource's fields")
        elif parameter in names:
            problem(f"filters.{parameter}", "a parameter named as a field selects by that field: it needs no entry")
    return found


def _validated(document: dict[str, Any]) -> None:
    found = problems(document)
    if found:
        raise InvalidResource(found)


# --- documents ----------------------------------------------------------------------------------------------


def to_document(resource: ResourceRow) -> Resource:
    """The resource document as the API and the events show it."""
    return Resource(
        id=resource.id,
        code=resource.code,
        name=resource.name,
        summary=resource.summary,
        provider=resource.provider,
        category=resource.category,  # type: ignore[arg-type]  # checked by the table's constraint
        format=resource.format,
        shape=resource.shape,  # type: ignore[arg-type]  # checked by the table's constraint
        update_cycle=resource.update_cycle,  # type: ignore[arg-type]
        share_type=resource.share_type,  # type: ignore[arg-type]
        share_condition=resource.share_condition,
        legal_basis=resource.legal_basis,
        open_to_public=resource.open_to_public,
        open_condition=resource.open_condition,
        service=resource.service,
        paths=list(resource.paths),
        key=resource.key,
        topic=resource.topic,
        status=resource.status,  # type: ignore[arg-type]
        version=resource.version,
        fields=[ResourceField.model_validate(field) for field in resource.fields],
        filters=dict(resource.filters),
        published_at=resource.published_at,
        updated_at=resource.updated_at,
    )


def _terms(document: dict[str, Any]) -> list[str]:
    """The search terms of a document (``fields`` as :class:`ResourceField`)."""
    fields: list[ResourceField] = document["fields"]
    return resource_terms(
        resource_id=document["id"],
        code=document["code"],
        name=document["name"],
        summary=document["summary"],
        fields=[(field.name, field.description) for field in fields],
        attributes={name: document[name] for name in ("provider", "category", "share_type", "status")},
        elements=_elements(fields),
    )


def _reindex(resource: ResourceRow) -> None:
    """Recompute the stored search terms after the resource's document changed (status included)."""
    document = to_document(resource)
    resource.search = repository.search_vector(_terms({**document.model_dump(), "fields": document.fields}))


def _elements(fields: list[ResourceField]) -> list[str]:
    return sorted({field.element for field in fields} | {f.source_element for f in fields if f.source_element})


def _authoritative(fields: list[ResourceField]) -> dict[str, str]:
    """Element → field name of the authoritative fields."""
    return {field.element: field.name for field in fields if field.authoritative}


async def _refuse_taken_elements(session: AsyncSession, resource_id: str, fields: list[ResourceField]) -> None:
    claimed = _authoritative(fields)
    for owner in await repository.owners(session, list(claimed), excluding=resource_id):
        raise DuplicateAuthoritativeSource(owner.element, claimed[owner.element], owner.as_dict())


async def _claims_published(session: AsyncSession, resource: ResourceRow, fields: list[ResourceField]) -> None:
    """Write the resource's claims as published; the unique index refuses a concurrent second authority."""
    try:
        async with session.begin_nested():
            await repository.replace_claims(
                session, resource.id, resource.provider, "published", [field.model_dump() for field in fields]
            )
    except IntegrityError as error:
        if AUTHORITY_INDEX not in str(error.orig):
            raise
        await _refuse_taken_elements(session, resource.id, fields)
        raise  # the index refused, so an owner exists; unreachable unless it vanished meanwhile


async def _record(session: AsyncSession, resource: ResourceRow, action: str, principal: Principal) -> Resource:
    document = to_document(resource)
    await repository.add_version(
        session,
        resource.id,
        resource.version,
        action,
        document.model_dump(mode="json"),
        principal.client_id,
        resource.updated_at,
    )
    return document


# --- lifecycle ----------------------------------------------------------------------------------------------


async def create(session: AsyncSession, principal: Principal, create: ResourceCreate) -> Resource:
    """Register a draft resource; 403, 409 (id taken, element owned elsewhere) or 422."""
    ensure_can_manage(principal, create.provider, action="register")
    document = create.model_dump()
    document["fields"] = create.fields
    document["status"] = "draft"
    _validated(document)
    await registries.ensure_provider_owns(session, create.provider, create.service, create.topic)
    await departments.ensure_exists(session, create.provider)
    if await repository.exists(session, create.id):
        raise DuplicateResource(f"a resource with id {create.id!r} exists already", resource=create.id)
    await _refuse_taken_elements(session, create.id, create.fields)
    now = datetime.now(UTC)
    document["code"] = directory_code(
        create.category, await repository.next_sequence(session, CATEGORY_CODES[create.category])
    )
    values = {
        **create.model_dump(exclude={"fields"}),
        "fields": [field.model_dump() for field in create.fields],
        "code": document["code"],
        "status": "draft",
        "version": 1,
        "elements": _elements(create.fields),
        "search": _terms(document),
        "created_by": principal.client_id,
        "updated_at": now,
        "published_at": None,
    }
    if not await repository.insert_resource(session, values):  # lost a race with a creation of the same id
        raise DuplicateResource(f"a resource with id {create.id!r} exists already", resource=create.id)
    await repository.register_elements(session, values["elements"], principal.client_id)
    await repository.replace_claims(session, create.id, create.provider, "draft", values["fields"])
    resource = await repository.get(session, create.id)
    assert resource is not None
    return await _record(session, resource, "created", principal)


async def _readable(session: AsyncSession, principal: Principal, resource_id: str) -> ResourceRow:
    resource = await repository.get(session, resource_id)
    if resource is None or not can_read(principal, resource):
        raise ResourceNotFound(f"no resource {resource_id!r}")
    return resource


async def get(session: AsyncSession, principal: Principal, resource_id: str) -> Resource:
    """The resource document, if the caller may see it; 404 otherwise."""
    return to_document(await _readable(session, principal, resource_id))


async def _managed(
    session: AsyncSession, principal: Principal, resource_id: str, *, action: str, expected: int | None
) -> ResourceRow:
    """The resource, locked, after the role, department and version checks of a change."""
    if not principal.has_role("steward", "admin"):
        raise Forbidden(f"only a steward of the provider or an admin may {action} a resource")
    resource = await repository.get(session, resource_id, for_update=True)
    if resource is None:
        raise ResourceNotFound(f"no resource {resource_id!r}")
    ensure_can_manage(principal, resource.provider, action=action)
    check_version(resource.version, expected)
    return resource


def _next_version(resource: ResourceRow) -> None:
    resource.version += 1
    resource.updated_at = datetime.now(UTC)


async def update(
    session: AsyncSession, principal: Principal, resource_id: str, change: ResourceUpdate, if_match: int | None
) -> Resource:
    """Change a draft or published resource at the version ``If-Match`` named (``None``: ``*``, any version)."""
    resource = await _managed(session, principal, resource_id, action="change", expected=if_match)
    if resource.status == "retired":
        raise RetiredResource(f"resource {resource_id!r} is retired and cannot change")
    sent = change.model_fields_set
    nulls = [
        {"name": f"body.{name}", "reason": "may not be null"}
        for name in REQUIRED
        if name in sent and getattr(change, name) is None
    ]
    if nulls:
        raise InvalidResource(nulls)
    current = to_document(resource)
    document = current.model_dump()
    document["fields"] = current.fields
    for name in sent:
        document[name] = getattr(change, name)
    _validated(document)
    await registries.ensure_provider_owns(session, resource.provider, document["service"], document["topic"])
    fields: list[ResourceField] = document["fields"]
    await _refuse_taken_elements(session, resource.id, fields)
    for name in sent - {"fields"}:
        setattr(resource, name, document[name])
    resource.fields = [field.model_dump() for field in fields]
    resource.elements = _elements(fields)
    _next_version(resource)
    _reindex(resource)
    await session.flush()
    await repository.register_elements(session, resource.elements, principal.client_id)
    if resource.status == "published":
        await _claims_published(session, resource, fields)
    else:
        await repository.replace_claims(session, resource.id, resource.provider, resource.status, resource.fields)
    updated = await _record(session, resource, "updated", principal)
    if resource.status == "published":
        outbox.add(session, ResourceChanged(resource=updated))
    return updated


async def publish(session: AsyncSession, principal: Principal, resource_id: str, if_match: int | None) -> Resource:
    """Publish a draft: its authoritative fields become the owners of their elements; emits ``published``."""
    resource = await _managed(session, principal, resource_id, action="publish", expected=if_match)
    if resource.status != "draft":
        raise InvalidTransition(f"only drafts are published; resource {resource_id!r} is {resource.status}")
    # Again at publication: the registry may have changed hands since the draft was registered.
    await registries.ensure_provider_owns(session, resource.provider, resource.service, resource.topic)
    fields = [ResourceField.model_validate(field) for field in resource.fields]
    await _refuse_taken_elements(session, resource.id, fields)
    resource.status = "published"
    _next_version(resource)
    resource.published_at = resource.updated_at
    _reindex(resource)
    await session.flush()
    await _claims_published(session, resource, fields)
    published = await _record(session, resource, "published", principal)
    outbox.add(session, ResourcePublished(resource=published))
    return published


async def retire(session: AsyncSession, principal: Principal, resource_id: str, if_match: int | None) -> Resource:
    """Retire a published resource (refused while grants on it are active); emits ``retired``."""
    resource = await _managed(session, principal, resource_id, action="retire", expected=if_match)
    if resource.status != "published":
        raise InvalidTransition(f"only published resources are retired; resource {resource_id!r} is {resource.status}")
    grants = await repository.active_grant_ids(session, resource.id)
    if grants:
        raise ResourceHasActiveGrants(
            f"resource {resource_id!r} has active grants ({', '.join(grants)}); they must be revoked or expire first",
            grants=grants,
        )
    resource.status = "retired"
    _next_version(resource)
    _reindex(resource)
    await session.flush()
    await repository.set_claims_status(session, resource.id, "retired")
    retired = await _record(session, resource, "retired", principal)
    outbox.add(session, ResourceRetired(resource=retired))
    return retired


async def history(
    session: AsyncSession, principal: Principal, resource_id: str, *, limit: int, cursor: str | None
) -> Slice[ResourceVersion]:
    """The resource's versions, oldest first, for callers who may read the resource."""
    await _readable(session, principal, resource_id)
    page = await paginate(
        session, repository.versions(resource_id), order=[ResourceVersionRow.version], limit=limit, cursor=cursor
    )
    versions = [
        ResourceVersion(
            version=row.version,
            action=row.action,
            changed_by=row.changed_by,
            changed_at=row.changed_at,
            document=Resource.model_validate(row.document),
        )
        for row in page.items
    ]
    return Slice(items=versions, next_cursor=page.next_cursor)


# --- search -------------------------------------------------------------------------------------------------


async def search(
    session: AsyncSession,
    principal: Principal,
    *,
    text: str | None,
    provider: str | None,
    category: str | None,
    share_type: str | None,
    element: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
    facet_cap: int,
) -> SearchPage:
    """Resources matching the text and filters that the caller may see, most relevant first, with facets.

    With text, hits come in relevance tiers (``search.TIERS``): an exact name, code or id first, then names holding
    every term, then the other matches; within a tier, in id order. The cursor holds (tier, id). Facets count the
    matches up to ``facet_cap``; ``capped`` says when there are more.
    """
    everything = sees_everything(principal)
    steward_of = principal.department if principal.has_role("steward") else None
    if status is None and not everything:
        status = "published"  # others see drafts only when they ask for them (stewards: their own)
    required = [
        attribute_term(name, value)
        for name, value in (
            ("provider", provider),
            ("category", category),
            ("share_type", share_type),
            ("status", status),
            ("element", element),
        )
        if value is not None
    ]
    any_of = [] if everything else ["status=published", *([f"provider={steward_of}"] if steward_of else [])]
    filters = repository.SearchFilter(
        tsquery=to_tsquery(query_terms(text) if text else [], required=required, any_of=any_of),
        tiers=tier_queries(text) if text else None,
        provider=provider,
        category=category,
        share_type=share_type,
        element=element,
        status=status,
        visible_provider=steward_of,
        sees_everything=everything,
    )
    found = await repository.search(session, filters, cap=facet_cap, limit=limit, cursor=cursor)
    counts: dict[str, list[FacetCount]] = {"provider": [], "category": [], "share_type": [], "status": []}
    for facet, value, count in found.counts:
        counts[facet].append(FacetCount(value=value, count=count))
    for values in counts.values():
        values.sort(key=lambda facet: (-facet.count, facet.value))
    facets = Facets(**counts, total=found.total, capped=found.total >= facet_cap)
    return _search_page(found.page.items, found.page.next_cursor, facets)


def _search_page(rows: list[Any], next_cursor: str | None, facets: Facets) -> SearchPage:
    return SearchPage(
        items=[ResourceSummary.model_validate(row) for row in rows], next_cursor=next_cursor, facets=facets
    )
