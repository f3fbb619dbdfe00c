"""API shapes of exports: the national directory's core metadata (政务信息资源目录核心元数据), with the guide's names.

The elements and their order follow the 政务信息资源目录编制指南（试行）'s core metadata: 信息资源分类, 名称, 代码,
提供方 and 提供方代码, 摘要, 格式, 信息项信息 (名称, 数据类型), 共享属性 (共享类型, 共享条件, 共享方式), 开放属性,
更新周期, 发布日期, 关联资源代码. Elements the platform adds for its own use (资源标识, 数据元 …) come after them.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class _Form(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, serialize_by_alias=True, validate_by_name=True)


class Classification(_Form):
    """信息资源分类: the guide's 类 (the platform keeps no 项/目/细目 below it)."""

    code: str = Field(alias="类")
    """1 基础信息资源, 2 主题信息资源, 3 部门信息资源 (the directory code's first digit)."""
    name: str = Field(alias="名称")
    """基础信息资源 / 主题信息资源 / 部门信息资源."""


class ResourceFormat(_Form):
    """信息资源格式: the guide's format class and the concrete type."""

    kind: str = Field(alias="格式分类")
    """电子文件 / 电子表格 / 数据库 / 图形图像 / 流媒体 / 自描述格式 / 其他."""
    type: str = Field(alias="格式类型")
    """The concrete format, e.g. ``json``, ``geojson``, ``sdmx``."""


class InformationItem(_Form):
    """信息项: one field."""

    name: str = Field(alias="信息项名称")
    """The field name."""
    data_type: str = Field(alias="数据类型")
    """The guide's type code: C N Y D T L M G B I F."""
    data_type_name: str = Field(alias="数据类型名称")
    """字符型, 数值型, 货币型, 日期型, 日期时间型, 逻辑型, 备注型, 通用型, 双精度型, 整型, 浮点型."""
    length: int | None = Field(alias="数据长度")
    """Maximum length."""
    element: str = Field(alias="数据元")
    """The platform-wide data element code."""
    description: str = Field(alias="信息项描述")
    """What it means."""
    authoritative: str = Field(alias="是否权威来源")
    """是 / 否."""
    source_element: str | None = Field(alias="来源数据元")
    """For copies: the element copied."""


class ShareMethod(_Form):
    """共享方式."""

    kind: str = Field(alias="共享方式分类")
    """共享平台方式 (through the platform) or 其他方式."""
    type: str | None = Field(alias="共享方式类型")
    """接口 / 数据库 / 文件 for the platform; ``null`` otherwise."""


class ShareAttributes(_Form):
    """共享属性."""

    share_type: str = Field(alias="共享类型")
    """无条件共享 / 有条件共享 / 不予共享."""
    share_condition: str | None = Field(alias="共享条件")
    """For conditional sharing; for not shared, its basis (不予共享 must cite one)."""
    method: ShareMethod = Field(alias="共享方式")
    """How it is shared."""


class OpenAttributes(_Form):
    """开放属性."""

    open_to_public: str = Field(alias="是否向社会开放")
    """是 / 否."""
    open_condition: str | None = Field(alias="开放条件")
    """The condition, if any."""


class DirectoryEntry(_Form):
    """One resource in the directory's core-metadata form."""

    classification: Classification = Field(alias="信息资源分类")
    """类 and its name."""
    name: str = Field(alias="信息资源名称")
    """Name."""
    code: str = Field(alias="信息资源代码")
    """前段码 (分类码) / 后段码 (顺序码), e.g. ``1/000001``."""
    provider: str = Field(alias="信息资源提供方")
    """The providing department's official name."""
    provider_code: str | None = Field(alias="信息资源提供方代码")
    """Its unified social credit code (GB 32100-2015)."""
    summary: str = Field(alias="信息资源摘要")
    """Summary."""
    format: ResourceFormat = Field(alias="信息资源格式")
    """Format class and type."""
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
    related: list[str] = Field(alias="关联资源代码")
    """Codes of the published resources that are the authoritative sources of what this one copies."""
    identifier: str = Field(alias="资源标识")
    """The resource id on the platform (an extension of the form)."""
    provider_short: str = Field(alias="提供方简码")
    """The department's short code on the platform (an extension of the form)."""


class DirectoryPage(BaseModel):
    """One page of the directory form, in resource id order."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[DirectoryEntry]
    """Entries."""
    next_cursor: str | None
    """Pass as ``cursor`` for the next page; ``null`` on the last page."""
