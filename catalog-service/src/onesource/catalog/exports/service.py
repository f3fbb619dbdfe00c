"""Exports of the published directory, page by page: DCAT-AP 3 and the national directory's core-metadata form.

Every export reads keyset pages of the published resources (the kit's ``paginate``), so its memory stays one page
whatever the directory's size; the CSV streams the whole directory page by page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from rdflib import Graph
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onesource.catalog.departments import repository as departments
from onesource.catalog.exports import repository
from onesource.catalog.exports.dcat import CATEGORY_LABELS, DcatExport, Publisher
from onesource.catalog.exports.schemas import (
    Classification,
    DirectoryEntry,
    InformationItem,
    OpenAttributes,
    ResourceFormat,
    ShareAttributes,
    ShareMethod,
)
from onesource.catalog.models import Resource as ResourceRow
from onesource.catalog.resources.schemas import Resource
from onesource.catalog.resources.service import CATEGORY_CODES, to_document
from onesource.kit.pagination import MAX_LIMIT, Slice, paginate

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
#: The guide's data types of information items (信息项 数据类型).
DATA_TYPE_LABELS = {
    "C": "字符型",
    "N": "数值型",
    "Y": "货币型",
    "D": "日期型",
    "T": "日期时间型",
    "L": "逻辑型",
    "M": "备注型",
    "G": "通用型",
    "B": "双精度型",
    "I": "整型",
    "F": "浮点型",
}
#: Concrete formats by the guide's format class (信息资源格式分类).
FORMAT_CLASSES = {
    "电子文件": {"ofd", "wps", "txt", "doc", "docx", "html", "pdf", "ppt", "pptx", "rtf"},
    "电子表格": {"et", "xls", "xlsx", "csv"},
    "数据库": {"database", "dm", "kingbase", "oracle", "sqlserver", "db2", "mysql", "postgresql", "access", "dbf"},
    "图形图像": {"jpg", "jpeg", "gif", "bmp", "png", "tif", "tiff", "svg"},
    "流媒体": {"swf", "rm", "mpg", "mp4", "avi", "flv", "mp3", "wav"},
    "自描述格式": {"json", "geojson", "xml", "sdmx", "rdf", "ndjson"},
}


@dataclass(frozen=True)
class PageContext:
    """What a page of the directory refers to beyond its resources."""

    publishers: Mapping[str, Publisher]
    """The providing departments by code."""
    related: Mapping[str, list[str]]
    """Resource id → codes of the resources holding the sources of what it copies."""


async def _published_page(session: AsyncSession, *, limit: int, cursor: str | None) -> Slice[Resource]:
    page = await paginate(session, repository.published(), order=[ResourceRow.id], limit=limit, cursor=cursor)
    return Slice(items=[to_document(row) for row in page.items], next_cursor=page.next_cursor)


async def _context(session: AsyncSession, resources: Sequence[Resource]) -> PageContext:
    known = await departments.by_code(session, (resource.provider for resource in resources))
    publishers = {
        resource.provider: Publisher(resource.provider, known[resource.provider].name, known[resource.provider].uscc)
        if resource.provider in known
        else Publisher(resource.provider, resource.provider, None)
        for resource in resources
    }
    related = await repository.source_codes(session, [resource.id for resource in resources])
    return PageContext(publishers=publishers, related=related)


def page_query(limit: int, cursor: str | None) -> str:
    """The query string of one page of an export."""
    return urlencode({"limit": limit, **({"cursor": cursor} if cursor is not None else {})})


async def dcat(
    session: AsyncSession, export: DcatExport, *, limit: int, cursor: str | None
) -> tuple[Graph, str | None]:
    """One page of the published directory as a DCAT-AP 3 catalogue graph, and the query of the next page."""
    page = await _published_page(session, limit=limit, cursor=cursor)
    context = await _context(session, page.items)
    next_page = page_query(limit, page.next_cursor) if page.next_cursor is not None else None
    graph = export.graph(page.items, context.publishers, page=page_query(limit, cursor), next_page=next_page)
    return graph, next_page


def format_of(value: str) -> ResourceFormat:
    """The guide's format class of a resource's ``format`` (``api/json`` → 自描述格式 json)."""
    concrete = value.rsplit("/", 1)[-1].strip().lower()
    for kind, formats in FORMAT_CLASSES.items():
        if concrete in formats:
            return ResourceFormat(kind=kind, type=concrete)
    return ResourceFormat(kind="其他", type=concrete)


def _share_method(resource: Resource) -> ShareMethod:
    if resource.service is not None:
        return ShareMethod(kind="共享平台方式", type="接口")
    kind = format_of(resource.format).kind
    if kind == "数据库":
        return ShareMethod(kind="共享平台方式", type="数据库")
    if kind != "其他":
        return ShareMethod(kind="共享平台方式", type="文件")
    return ShareMethod(kind="其他方式", type=None)


def directory_entry(resource: Resource, context: PageContext) -> DirectoryEntry:
    """One resource in the core-metadata form."""
    publisher = context.publishers[resource.provider]
    condition = resource.share_condition if resource.share_type == "conditional" else resource.legal_basis
    return DirectoryEntry(
        classification=Classification(
            code=str(CATEGORY_CODES[resource.category]), name=CATEGORY_LABELS[resource.category]
        ),
        name=resource.name,
        code=resource.code,
        provider=publisher.name,
        provider_code=publisher.uscc,
        summary=resource.summary,
        format=format_of(resource.format),
        items=[
            InformationItem(
                name=field.name,
                data_type=field.data_type,
                data_type_name=DATA_TYPE_LABELS[field.data_type],
                length=field.length,
                element=field.element,
                description=field.description,
                authoritative="是" if field.authoritative else "否",
                source_element=field.source_element,
            )
            for field in resource.fields
        ],
        share=ShareAttributes(
            share_type=SHARE_LABELS[resource.share_type],
            share_condition=condition,
            method=_share_method(resource),
        ),
        open=OpenAttributes(
            open_to_public="是" if resource.open_to_public else "否", open_condition=resource.open_condition
        ),
        update_cycle=CYCLE_LABELS[resource.update_cycle],
        published_on=resource.published_at.date() if resource.published_at else None,
        related=context.related.get(resource.id, []),
        identifier=resource.id,
        provider_short=resource.provider,
    )


async def directory(session: AsyncSession, *, limit: int, cursor: str | None) -> Slice[DirectoryEntry]:
    """One page of the published directory in the core-metadata form."""
    page = await _published_page(session, limit=limit, cursor=cursor)
    context = await _context(session, page.items)
    return Slice(items=[directory_entry(resource, context) for resource in page.items], next_cursor=page.next_cursor)


#: The CSV's columns: one row per information item (信息项), the resource's elements repeated on each.
CSV_COLUMNS = (
    "信息资源分类代码",
    "信息资源分类",
    "信息资源名称",
    "信息资源代码",
    "信息资源提供方",
    "信息资源提供方代码",
    "信息资源摘要",
    "信息资源格式分类",
    "信息资源格式类型",
    "信息项名称",
    "数据类型",
    "数据长度",
    "共享类型",
    "共享条件",
    "共享方式分类",
    "共享方式类型",
    "是否向社会开放",
    "开放条件",
    "更新周期",
    "发布日期",
    "关联资源代码",
    "资源标识",
    "数据元",
    "是否权威来源",
    "来源数据元",
)


def csv_rows(entry: DirectoryEntry) -> list[tuple[str, ...]]:
    """The CSV rows of one entry: one per information item."""

    def text(value: object) -> str:
        return "" if value is None else str(value)

    return [
        tuple(
            text(value)
            for value in (
                entry.classification.code,
                entry.classification.name,
                entry.name,
                entry.code,
                entry.provider,
                entry.provider_code,
                entry.summary,
                entry.format.kind,
                entry.format.type,
                item.name,
                item.data_type,
                item.length,
                entry.share.share_type,
                entry.share.share_condition,
                entry.share.method.kind,
                entry.share.method.type,
                entry.open.open_to_public,
                entry.open.open_condition,
                entry.update_cycle,
                entry.published_on.isoformat() if entry.published_on else None,
                ";".join(entry.related),
                entry.identifier,
                item.element,
                item.authoritative,
                item.source_element,
            )
        )
        for item in entry.items
    ]


def _csv_text(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


async def directory_csv(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[str]:
    """The whole published directory as CSV (RFC 4180, UTF-8 with BOM for spreadsheet tools), page by page.

    Keyset pages in id order: a resource published or changed while the file streams appears once at most.
    """
    yield "\ufeff" + _csv_text([CSV_COLUMNS])
    async with sessions() as session:
        cursor: str | None = None
        while True:
            page = await directory(session, limit=MAX_LIMIT, cursor=cursor)
            yield _csv_text([row for entry in page.items for row in csv_rows(entry)])
            if page.next_cursor is None:
                return
            cursor = page.next_cursor
