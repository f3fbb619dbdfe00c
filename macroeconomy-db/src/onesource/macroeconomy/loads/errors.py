"""Errors of loads."""

from __future__ import annotations

from collections.abc import Sequence

from onesource.kit.errors import ServiceError
from onesource.macroeconomy.loads.checking import RowProblem


class InvalidLoad(ServiceError):
    """Rows of the load break the dataflow's structure (422): ``errors`` give each line, column and reason."""

    status = 422
    type = "invalid-load"
    title = "Invalid load"

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        detail = "; ".join(f"{problem.location()}: {problem.reason}" for problem in problems[:10])
        if len(problems) > 10:
            detail += f"; and {len(problems) - 10} more"
        super().__init__(
            "nothing was loaded: " + detail,
            errors=[
                {
                    "line": problem.line,
                    "column": problem.column,
                    "component": problem.component,
                    "pointer": problem.pointer,
                    "reason": problem.reason,
                }
                for problem in problems
            ],
            invalid_params=[{"name": problem.location(), "reason": problem.reason} for problem in problems],
        )
