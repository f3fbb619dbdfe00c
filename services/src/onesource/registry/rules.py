"""What a registry's rules answer: the problems of a record, each naming its field, and the 422 that carries them.

A registry writes its rules as pure functions over a record's field values returning :class:`FieldProblem` s (so the
API and the bulk import refuse a record for the same reasons), and subclasses :class:`InvalidRecord` once with its
own problem type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ValidationError

from onesource.kit.errors import ServiceError
from onesource.kit.storable import storable


@dataclass(frozen=True)
class FieldProblem:
    """Why one field of a record is refused."""

    field: str
    reason: str


class InvalidRecord(ServiceError):
    """The record breaks a registry rule (422); ``invalid_params`` names each field (``body.<field>``) and why."""

    status: ClassVar[int] = 422
    type: ClassVar[str] = "invalid-record"
    title: ClassVar[str] = "Invalid record"

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        detail = "; ".join(f"{problem.field}: {problem.reason}" for problem in problems)
        super().__init__(
            detail, invalid_params=[{"name": f"body.{problem.field}", "reason": problem.reason} for problem in problems]
        )
        self.problems = tuple(problems)


def nul_problems(record: Mapping[str, Any]) -> list[FieldProblem]:
    """Text fields no database can store — a NUL (U+0000) or a lone surrogate (``kit.storable``) — as problems.

    A clear 422 naming the field, and in a bulk import a refused row, rather than a failed insert.
    """
    return [
        FieldProblem(field, "contains a NUL character (U+0000) or a lone surrogate, which cannot be stored")
        for field, value in record.items()
        if not _storable(value)
    ]


def _storable(value: Any) -> bool:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, Mapping):
        return all(_storable(item) for item in value.values())
    if isinstance(value, list | tuple):
        return all(_storable(item) for item in value)
    return True


def validation_problems(error: ValidationError) -> list[FieldProblem]:
    """A model's validation errors as field problems, named by the top-level field (``None`` for the whole row)."""
    return [
        FieldProblem(str(problem["loc"][0]) if problem["loc"] else "", problem["msg"])
        for problem in error.errors(include_url=False)
    ]


def of_fields(problems: Iterable[FieldProblem], fields: Iterable[str]) -> list[FieldProblem]:
    """Only the problems of ``fields`` (a change is refused for the fields it sets, not for older ones)."""
    wanted = set(fields)
    return [problem for problem in problems if problem.field in wanted]
