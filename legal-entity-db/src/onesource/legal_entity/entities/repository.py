"""Every SQL statement of the entities domain (the registry core writes records and their versions)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, Text, cast, select
from sqlalchemy.dialects.postgresql import ARRAY

from onesource.legal_entity.entities.rules import EntityStatus
from onesource.legal_entity.models import Entity, name_grams


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching values that start with ``prefix`` taken literally."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def query_grams(text: str) -> list[str]:
    """The grams a name holding ``text`` must hold: its character, or every two adjacent characters of it."""
    if len(text) == 1:
        return [text]
    return sorted({text[start : start + 2] for start in range(len(text) - 1)})


def search(
    *,
    name: str | None,
    region: str | None,
    industry: str | None,
    status: EntityStatus | None,
    established_from: date | None,
    established_to: date | None,
) -> Select[tuple[Entity]]:
    """Entities matching every given filter (the caller orders and pages them).

    ``name`` anywhere in the name: the GIN index of the name's grams finds the candidates (those holding every gram
    of ``name``), and ``LIKE`` keeps those that hold it as one piece.
    """
    statement = select(Entity)
    if name is not None:
        statement = statement.where(
            name_grams(Entity.name).contains(cast(query_grams(name), ARRAY(Text))),
            Entity.name.contains(name, autoescape=True),
        )
    if region is not None:
        statement = statement.where(Entity.region_code.like(_like_prefix(region), escape="\\"))
    if industry is not None:
        if industry.isalpha():
            statement = statement.where(Entity.industry_section == industry)
        else:
            statement = statement.where(Entity.industry_code.like(_like_prefix(industry), escape="\\"))
    if status is not None:
        statement = statement.where(Entity.status == status.value)
    if established_from is not None:
        statement = statement.where(Entity.established_on >= established_from)
    if established_to is not None:
        statement = statement.where(Entity.established_on <= established_to)
    return statement
