"""API shapes of resources: the document, what creating and changing accept, history and search pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

RESOURCE_ID_PATTERN = r"^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$"
ELEMENT_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
DEPARTMENT_PATTERN = r"^[a-z][a-z0-9-]{1,31}$"
FIELD_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
SERVICE_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"
# Absolute path of literal segments and ``{name}`` placeholders, e.g. ``/v1/persons/{id_number}``.
PATH_TEMPLATE_PATTERN = r"^(/([A-Za-z0-9._~-]+|\{[a-z_][a-z0-9_]*\}))+$"
TOPIC_PATTERN = r"^[a-z][a-z0-9._-]{0,248}$"

ResourceId = Annotated[str, StringConstraints(pattern=RESOURCE_ID_PATTERN, max_length=128)]
ElementCode = Annotated[str, StringConstraints(pattern=ELEMENT_PATTERN, max_length=128)]
DepartmentCode = Annotated[str, StringConstraints(pattern=DEPARTMENT_PATTERN)]
FieldName = Annotated[str, StringConstraints(pattern=FIELD_NAME_PATTERN)]
ServiceName = Annotated[str, StringConstraints(pattern=SERVICE_PATTERN)]
PathTemplate = Annotated[str, StringConstraints(pattern=PATH_TEMPLATE_PATTERN, max_length=500)]
#: A query parameter of a registry's paths.
ParameterName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]
#: The fields a query parameter selects records by (it tells whoever uses it about those fields).
ParameterFields = Annotated[list[FieldName], Field(min_length=1, max_length=20)]
TopicName = Annotated[str, StringConstraints(pattern=TOPIC_PATTERN)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Format = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Condition = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]

Category = Literal["base", "theme", "department"]
#: What the registry's answers on the resource's paths are, so the gateway knows how to mask them
#: (DESIGN.md "Answer shapes"): JSON records and pages of them, GeoJSON, or SDMX data messages.
Shape = Literal["record", "geojson", "sdmx"]
UpdateCycle = Literal["realtime", "daily", "weekly", "monthly", "quarterly", "semiannual", "annual", "other"]
ShareType = Literal["unconditional", "conditional", "not_shared"]
Status = Literal["draft", "published", "retired"]
# The eleven data types of the directory's information items (政务信息资源目录编制指南, 信息项 数据类型):
# C 字符型, N 数值型, Y 货币型, D 日期型, T 日期时间型, L 逻辑型, M 备注型, G 通用型, B 二进制, I 整型, F 浮点型.
DataType = Literal["C", "N", "Y", "D", "T", "L", "M", "G", "B", "I", "F"]
Action = Literal["created", "updated", "published", "retired"]


class ResourceField(BaseModel):
    """One information item (信息项) of a resource."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    name: FieldName = Field(examples=["id_number"])
    """The field's name in the registry's records."""
    element: ElementCode = Field(examples=["person.id_number"])
    """The platform-wide data element (数据元) this field carries."""
    data_type: DataType
    """Directory data type: C N Y D T L M G B I F."""
    length: int | None = Field(default=None, ge=1, le=1_000_000)
    """Maximum length; required for C (character) and N (numeric) fields."""
    description: str = Field(default="", max_length=2000)
    """What the field means (searchable)."""
    authoritative: bool = False
    """This resource is the authoritative source of the element (exactly one of this and ``source_element``)."""
    source_element: ElementCode | None = None
    """For a copy: the element whose authoritative source the value comes from."""


class ResourceCreate(BaseModel):
    """A resource to register (as a draft)."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    id: ResourceId = Field(examples=["population.person"])
    """Readable slug: dot-separated lower-case segments."""
    name: Name = Field(examples=["人口基础信息"])
    """信息资源名称."""
    summary: Summary
    """信息资源摘要."""
    provider: DepartmentCode
    """The providing department's code (信息资源提供方)."""
    category: Category
    """base (基础) / theme (主题) / department (部门): the directory code's category code 1 / 2 / 3."""
    format: Format = Field(examples=["api/json"])
    """信息资源格式, e.g. ``api/json``, ``database``, ``file/csv``."""
    shape: Shape = "record"
    """What the registry answers on ``paths``: ``record`` (JSON records, ``{"items", "next_cursor"}`` pages),
    ``geojson`` (GeoJSON Features and FeatureCollections) or ``sdmx`` (SDMX-JSON 2.0 / SDMX-CSV 2.0 data)."""
    update_cycle: UpdateCycle
    """更新周期."""
    share_type: ShareType
    """共享类型: unconditional (无条件), conditional (有条件) or not_shared (不予共享)."""
    share_condition: Condition | None = None
    """共享条件: required for conditional sharing, and only for it."""
    legal_basis: Condition | None = None
    """The law or regulation behind the share type: required for not_shared."""
    open_to_public: bool = False
    """开放属性: whether the resource is open to the public (never for not_shared)."""
    open_condition: Condition | None = None
    """开放条件: only for resources open to the public."""
    service: ServiceName | None = Field(default=None, examples=["population"])
    """The registry service that serves the resource."""
    paths: list[PathTemplate] = Field(default_factory=list, max_length=50, examples=[["/v1/persons/{id_number}"]])
    """Path templates on ``service`` the resource covers."""
    key: FieldName | None = Field(default=None, examples=["id_number"])
    """The field that keys records (one of ``fields``)."""
    topic: TopicName | None = Field(default=None, examples=["onesource.population.person.v1"])
    """The source topic the registry publishes the resource's changes on."""
    fields: list[ResourceField] = Field(min_length=1, max_length=500)
    """The information items (信息项)."""
    filters: dict[ParameterName, ParameterFields] = Field(
        default_factory=dict, max_length=50, examples=[{"born_from": ["birth_date"], "region": ["region_code"]}]
    )
    """Query parameters of ``paths`` that select records by fields of other names, each with those fields: the
    gateway lets a consumer use one only when all its fields are granted (a parameter named as a field needs none)."""


class ResourceUpdate(BaseModel):
    """A partial change of a resource; fields left out keep their value, ``fields`` replaces the whole list."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    name: Name | None = None
    """信息资源名称."""
    summary: Summary | None = None
    """信息资源摘要."""
    format: Format | None = None
    """信息资源格式."""
    shape: Shape | None = None
    """What the registry answers on ``paths`` (``record``, ``geojson`` or ``sdmx``)."""
    update_cycle: UpdateCycle | None = None
    """更新周期."""
    share_type: ShareType | None = None
    """共享类型."""
    share_condition: Condition | None = None
    """共享条件 (``null`` clears it)."""
    legal_basis: Condition | None = None
    """Legal basis (``null`` clears it)."""
    open_to_public: bool | None = None
    """开放属性."""
    open_condition: Condition | None = None
    """开放条件 (``null`` clears it)."""
    service: ServiceName | None = None
    """Registry service (``null`` clears it)."""
    paths: list[PathTemplate] | None = Field(default=None, max_length=50)
    """Path templates (replaces the list)."""
    key: FieldName | None = None
    """Record-key field (``null`` clears it)."""
    topic: TopicName | None = None
    """Source topic (``null`` clears it)."""
    fields: list[ResourceField] | None = Field(default=None, min_length=1, max_length=500)
    """The information items (replaces the list)."""
    filters: dict[ParameterName, ParameterFields] | None = Field(default=None, max_length=50)
    """Query parameters selecting by fields of other names (replaces the mapping)."""


class Resource(BaseModel):
    """A directory entry (信息资源): the document ``GET`` answers and the catalog's events carry."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    id: str
    """Readable slug, e.g. ``population.person``."""
    code: str
    """Directory code (信息资源代码): category code + "/" + six-digit sequence code, e.g. ``1/000001``."""
    name: str
    """信息资源名称."""
    summary: str
    """信息资源摘要."""
    provider: str
    """The providing department's code."""
    category: Category
    """base / theme / department."""
    format: str
    """信息资源格式."""
    shape: Shape
    """What the registry answers on ``paths``: ``record``, ``geojson`` or ``sdmx``."""
    update_cycle: UpdateCycle
    """更新周期."""
    share_type: ShareType
    """共享类型."""
    share_condition: str | None
    """共享条件 (conditional only)."""
    legal_basis: str | None
    """Legal basis (always for not_shared)."""
    open_to_public: bool
    """开放属性."""
    open_condition: str | None
    """开放条件."""
    service: str | None
    """The registry service serving it."""
    paths: list[str]
    """Path templates on ``service`` it covers."""
    key: str | None
    """The record-key field."""
    topic: str | None
    """Its source topic."""
    status: Status
    """draft → published → retired."""
    version: int
    """Incremented by every change (also the ``ETag``)."""
    fields: list[ResourceField]
    """The information items."""
    filters: dict[str, list[str]] = Field(default_factory=dict)
    """Query parameters of ``paths`` selecting records by fields of other names, each with those fields."""
    published_at: datetime | None
    """When it was (first) published."""
    updated_at: datetime
    """When this version was made."""


class ResourceVersion(BaseModel):
    """One version of a resource: the document as it was, who made it, when, and how."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    version: int
    """The version number."""
    action: Action
    """What made this version."""
    changed_by: str
    """The client that made it."""
    changed_at: datetime
    """When."""
    document: Resource
    """The resource as of this version."""


class ResourceSummary(BaseModel):
    """A search hit: the resource's headline metadata."""

    model_config = ConfigDict(use_attribute_docstrings=True, from_attributes=True)

    id: str
    """Readable slug."""
    code: str
    """Directory code."""
    name: str
    """信息资源名称."""
    summary: str
    """信息资源摘要."""
    provider: str
    """Providing department."""
    category: Category
    """base / theme / department."""
    share_type: ShareType
    """共享类型."""
    status: Status
    """draft / published / retired."""
    version: int
    """Current version."""
    published_at: datetime | None
    """When it was published."""


class FacetCount(BaseModel):
    """How many matches have one value."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    value: str
    """The value."""
    count: int
    """Matches with it."""


class Facets(BaseModel):
    """Counts of the current query's matches by value, largest first."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    provider: list[FacetCount]
    """By providing department."""
    category: list[FacetCount]
    """By category."""
    share_type: list[FacetCount]
    """By share type."""
    status: list[FacetCount]
    """By status."""
    total: int
    """Matches counted."""
    capped: bool
    """``true`` when the query matched more than the counting cap: counts then cover the first ``total``."""


class SearchPage(BaseModel):
    """One page of search hits, with the facets of the whole query."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[ResourceSummary]
    """Hits of this page, most relevant first (exact name, code or id; then names; then the rest), then by id."""
    next_cursor: str | None
    """Pass as ``cursor`` for the next page; ``null`` on the last page."""
    facets: Facets
    """Counts over the query's matches (not just this page)."""
