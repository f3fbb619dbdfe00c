"""Exports of the published directory: DCAT-AP 3 JSON-LD and the core-metadata form."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from onesource.catalog.exports import repository
from onesource.catalog.exports.dcat import DcatExport
from onesource.catalog.exports.schemas import (
    DirectoryEntry,
    InformationItem,
    OpenAttributes,
    ShareAttributes,
)
from onesource.catalog.models import Resource as ResourceRow
from onesource.catalog.resources.schemas import Resource
from onesource.catalog.resources.service import to_document
from onesource.kit.pagination import Slice, paginate

CATEGORY_LABELS = {"base": "基础信息资源", "theme": "主题信息资源", "department": "部门信息资源"}
SHARE_LABELS = {"unconditional": "无条件共享", "conditional": "有条件共享", "not_shared": "不予共享"}
CYCLE_LABELS = {
    "realtime": "实时",
    "daily": "每日",
    "weekly": "每周",
    "monthly": "每月",
    "quarterly": "每季度",
    "semiannual": "每半年",
    "annual": "每年",
    "other": "其他",
}


async def dcat(session: AsyncSession, base_url: str) -> dict[str, Any]:
    """The published directory as a DCAT-AP 3 catalogue."""
    resources = [to_document(row) for row in (await session.scalars(repository.published())).all()]
    return DcatExport(base_url).document(resources)


def directory_entry(resource: Resource) -> DirectoryEntry:
    """One resource in the core-metadata form."""
    return DirectoryEntry(
        category=CATEGORY_LABELS[resource.category],
        name=resource.name,
        code=resource.code,
        identifier=resource.id,
        provider=resource.provider,
        summary=resource.summary,
        format=resource.format,
        items=[
            InformationItem(
                name=field.name,
                element=field.element,
                data_type=field.data_type,
                length=field.length,
                description=field.description,
                authoritative="是" if field.authoritative else "否",
                source_element=field.source_element,
            )
            for field in resource.fields
        ],
        share=ShareAttributes(
            share_type=SHARE_LABELS[resource.share_type],
            share_condition=resource.share_condition,
            legal_basis=resource.legal_basis,
            share_method="接口" if resource.service else "其他",
        ),
        open=OpenAttributes(
            open_to_public="是" if resource.open_to_public else "否", open_condition=resource.open_condition
        ),
        update_cycle=CYCLE_LABELS[resource.update_cycle],
        published_on=resource.published_at.date() if resource.published_at else None,
    )


async def directory(session: AsyncSession, *, limit: int, cursor: str | None) -> Slice[DirectoryEntry]:
    """One page of the published directory in the core-metadata form."""
    page = await paginate(session, repository.published(), order=[ResourceRow.id], limit=limit, cursor=cursor)
    return Slice(items=[directory_entry(to_document(row)) for row in page.items], next_cursor=page.next_cursor)
