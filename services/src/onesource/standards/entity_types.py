"""Types of legal entities (法人和其他组织类型), each tied to the GB 32100 department and category that register it.

Two documented national lists, in one table of codes:

- the entity categories of GB 32100-2015's registration table (positions 1–2 of a unified social credit code:
  ``11`` 机关, ``12`` 事业单位, ``51`` 社会团体, ``91`` 企业, ``92`` 个体工商户, ``N2`` 村级集体经济组织 …), each a
  type of its own (``data/uscc_registration.csv``);
- finer types for companies (公司, registered by market regulation as enterprises, GB 32100 ``91``): the four-digit
  company type codes of the State Administration for Market Regulation's enterprise-type code table (企业类型代码:
  ``1130`` 有限责任公司（自然人投资或控股）, ``1200`` 股份有限公司 …; ``data/company_types.csv``).

An entity's type must be registered by the department and in the category its USCC names: a company type only
with ``91``, a category code only with itself. Enterprises other than companies (partnerships, sole proprietorships,
enterprises owned by the whole people or collectively) are typed ``91`` until their finer codes are in the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from onesource.standards._files import read_table
from onesource.standards.uscc import registration_departments

#: GB 32100 department and category of every company type: 9 工商 (market regulation), 1 企业.
COMPANY_REGISTRATION = ("9", "1")


@dataclass(frozen=True, slots=True)
class EntityType:
    """One type of legal entity and the GB 32100 department and category that register it."""

    code: str
    name: str
    department: str
    """Position 1 of the USCC of every entity of this type."""
    category: str
    """Position 2."""


@cache
def entity_types() -> Mapping[str, EntityType]:
    """Every entity type by code: the GB 32100 categories (two characters), then the company types (four digits)."""
    types = {
        department.code + category: EntityType(department.code + category, name, department.code, category)
        for department in registration_departments().values()
        for category, name in department.categories.items()
    }
    department, category = COMPANY_REGISTRATION
    for row in read_table("company_types.csv"):
        types[row["code"]] = EntityType(row["code"], row["name"], department, category)
    return types


def entity_type(code: str) -> EntityType | None:
    """The type ``code`` names, or ``None``."""
    return entity_types().get(code)


def entity_type_problem(code: str, uscc: str | None = None) -> str | None:
    """Why ``code`` is not a type of entity, or not one that the USCC ``uscc`` can belong to; ``None`` when it is.

    ``uscc`` is read only for its positions 1–2 (its own validity is checked elsewhere).
    """
    found = entity_type(code)
    if found is None:
        return f"{code!r} is not an entity type (a GB 32100 category such as 91, or a company type such as 1130)"
    if uscc is None or len(uscc) < 2:
        return None
    if uscc[:2] != found.department + found.category:
        department = registration_departments().get(found.department)
        registered_by = f"{found.department}{found.category}"
        if department is not None:
            category = department.categories[found.category]
            registered_by = f"{department.name} ({found.department}), category {found.category} ({category})"
        return (
            f"{found.code} {found.name} is registered by {registered_by}, but the USCC's positions 1–2 are {uscc[:2]!r}"
        )
    return None
