"""The registry's rules for an entity record, as pure functions over field values, and the status lifecycle.

The API and the bulk import both call :func:`entity_problems`, so a record is accepted or refused for the same
reasons whichever way it arrives; each problem names its field. Whether the legal representative is a registered,
living person is not a rule of this record but population-db's answer (``representatives``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from onesource.registry.rules import FieldProblem, nul_problems
from onesource.standards.citizen_id import checked_id_number
from onesource.standards.currencies import currency, currency_problem
from onesource.standards.divisions import division_problem
from onesource.standards.entity_types import entity_type_problem
from onesource.standards.industries import industry_class_problem, section_of
from onesource.standards.uscc import listed_region_problem, registration_problem, uscc_problem


class EntityStatus(StrEnum):
    """Where an entity stands (登记状态)."""

    ACTIVE = "active"
    """存续 (在营、开业、在册)."""
    SUSPENDED = "suspended"
    """歇业."""
    REVOKED = "revoked"
    """吊销 (business licence revoked)."""
    DEREGISTERED = "deregistered"
    """注销."""
    CANCELLED = "cancelled"
    """撤销 (registration cancelled)."""
    MOVED_OUT = "moved_out"
    """迁出 (moved to another registration authority)."""


#: The status lifecycle: from each status, the statuses a ``POST …/status`` may move an entity to.
TRANSITIONS: Final[Mapping[EntityStatus, frozenset[EntityStatus]]] = {
    EntityStatus.ACTIVE: frozenset(
        {
            EntityStatus.SUSPENDED,
            EntityStatus.REVOKED,
            EntityStatus.DEREGISTERED,
            EntityStatus.CANCELLED,
            EntityStatus.MOVED_OUT,
        }
    ),
    EntityStatus.SUSPENDED: frozenset({EntityStatus.ACTIVE, EntityStatus.DEREGISTERED}),
    EntityStatus.REVOKED: frozenset({EntityStatus.DEREGISTERED}),
    EntityStatus.DEREGISTERED: frozenset(),
    EntityStatus.CANCELLED: frozenset(),
    EntityStatus.MOVED_OUT: frozenset(),
}
#: Statuses nothing leaves: the record no longer changes.
FINAL: Final = frozenset(status for status, onward in TRANSITIONS.items() if not onward)


def may_move(current: EntityStatus, to: EntityStatus) -> bool:
    """Whether the lifecycle lets an entity in ``current`` move to ``to``."""
    return to in TRANSITIONS[current]


#: 民法典 第十七条: eighteen is the age of majority; a legal representative must have full civil capacity.
ADULT_AGE: Final = 18
#: A non-negative decimal amount: digits, optionally a point and more digits; no sign, exponent or separators.
_AMOUNT = re.compile(r"(0|[1-9][0-9]{0,17})(\.[0-9]{1,6})?")


def capital_problem(capital: Mapping[str, Any]) -> str | None:
    """Why ``{"amount", "currency"}`` is not a registered capital, or ``None``."""
    amount, code = capital.get("amount"), capital.get("currency")
    if not isinstance(amount, str) or not _AMOUNT.fullmatch(amount):
        return 'amount must be a non-negative decimal string such as "1000000.00" (at most 18 digits before the point)'
    if not isinstance(code, str) or (problem := currency_problem(code)) is not None:
        return f"currency: {problem or 'must be an ISO 4217 code'}"
    places = len(amount.partition(".")[2])
    minor_unit = currency(code).minor_unit  # type: ignore[union-attr]  # currency_problem found the code
    if minor_unit is not None and places > minor_unit:
        return f"amount has {places} decimal places; {code} has {minor_unit} (ISO 4217 minor unit)"
    return None


def canonical_amount(amount: str) -> str:
    """The amount as the registry keeps it: the same decimal, its scale kept (``"1000.50"`` stays so)."""
    return format(Decimal(amount), "f")


def adult_on(born: date, today: date) -> bool:
    """Whether someone born on ``born`` is of age on ``today``."""
    try:
        of_age = born.replace(year=born.year + ADULT_AGE)
    except ValueError:  # born on 29 February: of age on 1 March
        of_age = date(born.year + ADULT_AGE, 3, 1)
    return of_age <= today


# Many records name the same representative, division, industry and type (a bulk import's rows above all): the
# rules of such values are pure functions of them and the day, so each answer is worked out once.
_CACHED = 4096


@functools.lru_cache(maxsize=_CACHED)
def representative_problem(id_number: str, *, today: date) -> str | None:
    """Why ``id_number`` cannot name a legal representative, from the number alone (GB 11643 and age), or ``None``."""
    problem, born = checked_id_number(id_number, today=today)
    if problem is not None:
        return problem
    if born is not None and not adult_on(born, today):
        return f"the person, born {born}, is under {ADULT_AGE} (民法典 第十七条) and cannot be a legal representative"
    return None


_division_problem = functools.lru_cache(maxsize=_CACHED)(division_problem)
_industry_class_problem = functools.lru_cache(maxsize=_CACHED)(industry_class_problem)
_entity_type_problem = functools.lru_cache(maxsize=_CACHED)(entity_type_problem)
_registration_problem = functools.lru_cache(maxsize=_CACHED)(registration_problem)
_listed_region_problem = functools.lru_cache(maxsize=_CACHED)(listed_region_problem)


def entity_problems(record: Mapping[str, Any], *, today: date, storable: bool = False) -> list[FieldProblem]:
    """Every rule ``record`` breaks (empty when it is valid); ``record`` holds typed values (dates as dates).

    Fields absent from ``record`` are not checked (a change checks the record it makes, whole). ``storable``: its
    texts are known to hold no NUL and no lone surrogate (a bulk import's CSV block without the byte), so they are
    not looked at for them.
    """
    problems: list[FieldProblem] = []

    def check(field: str, problem: str | None) -> None:
        if problem is not None:
            problems.append(FieldProblem(field, problem))

    uscc = record.get("uscc")
    if uscc is not None:
        check("uscc", uscc_problem(uscc, region_problem=_listed_region_problem))
    if (kind := record.get("entity_type")) is not None:
        # consistent with the USCC's positions 1–2 when those name a department and category at all (both rules read
        # only those two positions)
        prefix = uscc[:2] if isinstance(uscc, str) and len(uscc) >= 2 else None
        comparable = prefix is not None and _registration_problem(prefix) is None
        check("entity_type", _entity_type_problem(kind, prefix if comparable else None))
    if (representative := record.get("legal_representative_id")) is not None:
        check("legal_representative_id", representative_problem(representative, today=today))
    established: date | None = record.get("established_on")
    if established is not None and established > today:
        check("established_on", "is in the future")
    until: date | None = record.get("operating_until")
    if until is not None and established is not None and until < established:
        check("operating_until", f"is before the date of establishment, {established}")
    if (capital := record.get("registered_capital")) is not None:
        check("registered_capital", capital_problem(capital))
    if (region := record.get("region_code")) is not None:
        check("region_code", _division_problem(region, today))
    if (industry := record.get("industry_code")) is not None:
        check("industry_code", _industry_class_problem(industry))
    if not storable:
        problems.extend(nul_problems(record))
    return problems


@functools.lru_cache(maxsize=_CACHED)
def industry_section(industry_code: str) -> str:
    """The GB/T 4754-2017 section (A–T) of a valid class (its first two digits name the division)."""
    section = section_of(industry_code)
    if section is None:
        raise ValueError(f"{industry_code} has no section")
    return section


def status_change_problems(*, established_on: date, effective_on: date, today: date, reason: str) -> list[FieldProblem]:
    """Why a status change's date or reason is refused, or nothing."""
    problems = []
    if effective_on > today:
        problems.append(FieldProblem("effective_on", "is in the future"))
    if effective_on < established_on:
        problems.append(FieldProblem("effective_on", f"is before the date of establishment, {established_on}"))
    problems.extend(nul_problems({"reason": reason}))
    return problems
