"""API shapes of exports: the directory's core-metadata form (政务信息资源目录核心元数据), with Chinese labels."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class _Form(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, serialize_by_alias=True, validate_by_name=True)


class InformationItem(_Form):
    """信息项: one field."""

    name: str = Field(alias="信息项名称")
    """The field name."""
    element: str = Field(alias="数据元")
    """The data element code."""
    data_type: str = Field(alias="数据类型")
    """C N Y D T L M G B I F."""
    length: int | None = Field(alias="数据长度")
    """Maximum length."""
    description: str = Field(alias="信息项描述")
    """What it means."""
    authoritative: str = Field(alias="是否权威来源")
    """是 / 否."""
    source_element: str | None = Field(alias="来源数据元")
    """For copies: the element copied."""


class ShareAttributes(_Form):
    """共享属性."""

    share_type: str = Field(alias="共享类型")
    """无条件共享 / 有条件共享 / 不予共享."""
    share_condition: str | None = Field(alias="共享条件")
    """For conditional sharing."""
    legal_basis: str | None = Field(alias="不予共享依据")
    """The legal basis (for not shared)."""
    share_method: str = Field(alias="共享方式")
    """接口 (through the gateway) or 其他."""


class OpenAttributes(_Form):
    """开放属性."""

    open_to_public: str = Field(alias="是否向社会开放")
    """是 / 否."""
    open_condition: str | None = Field(alias="开放条件")
    """The condition, if any."""


class DirectoryEntry(_Form):
    """One resource in the directory's core-metadata form."""

    category: str = Field(alias="信息资源分类")
    """基础信息资源 / 主题信息资源 / 部门信息资源."""
    name: str = Field(alias="信息资源名称")
    """Name."""
    code: str = Field(alias="信息资源代码")
    """Directory code."""
    identifier: str = Field(alias="资源标识")
    """The resource id on the platform."""
    provider: str = Field(alias="信息资源提供方")
    """Providing department."""
    summary: str = Field(alias="信息资源摘要")
    """Summary."""
    format: str = Field(alias="信息资源格式")
    """Format."""
    items: list[InformationItem] = Field(alias="信息项信息")
    """The fields."""
    share: ShareAttributes = Field(alias="共享属性")
    """Sharing."""
    open: OpenAttributes = Field(alias="开放属性")
    """Opening to the public."""
    update_cycle: str = Field(alias="更新周期")
    """实时 / 每日 / 每周 / 每月 / 每季度 / 每半年 / 每年 / 其他."""
    published_on: date | None = Field(alias="发布日期")
    """When it was published."""


class DirectoryPage(BaseModel):
    """One page of the directory form, in resource id order."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[DirectoryEntry]
    """Entries."""
    next_cursor: str | None
    """Pass as ``cursor`` for the next page; ``null`` on the last page."""
