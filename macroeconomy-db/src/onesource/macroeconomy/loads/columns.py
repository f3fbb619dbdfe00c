"""Checked observations as columns of numbers: what a block of a load is stored from.

The quick check makes these from whole columns of a CSV block (``loads.quick``) and ``COPY``'s data is built from
them (``repository.observation_copy``) without a Python object per observation; a load checked row by row (CSV or
JSON) is turned into them once, at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from onesource.macroeconomy.loads.checking import CheckedLoad, LoadedSeries
from onesource.macroeconomy.series.periods import Period

Numbers = npt.NDArray[np.int64]
Values = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class CheckedBlock:
    """Observations that passed, as parallel arrays (one entry per observation, in load order)."""

    series: list[LoadedSeries]
    """The series first seen in this block, numbered on from those of the blocks before."""
    periods: list[Period]
    """Every period of the load so far, by number."""
    statuses: list[str | None]
    """Every ``OBS_STATUS`` of the load so far, by number (``None``: the registry decides, ``A`` or ``R``)."""
    series_numbers: Numbers
    period_numbers: Numbers
    values: Values
    """``NaN``: no value (an accepted value is finite, so ``NaN`` is free to mean none)."""
    status_numbers: Numbers

    def __len__(self) -> int:
        return len(self.series_numbers)

    @classmethod
    def of(cls, load: CheckedLoad) -> CheckedBlock:
        """The columns of a load checked row by row."""
        statuses = list(dict.fromkeys(load.statuses))
        number = {status: position for position, status in enumerate(statuses)}
        return cls(
            series=load.series,
            periods=load.periods,
            statuses=statuses,
            series_numbers=np.array(load.series_numbers, dtype=np.int64),
            period_numbers=np.array(load.period_numbers, dtype=np.int64),
            values=np.array([np.nan if value is None else value for value in load.values], dtype=np.float64),
            status_numbers=np.array([number[status] for status in load.statuses], dtype=np.int64),
        )

    def checked_load(self) -> CheckedLoad:
        """The same observations as lists (``series`` those of this block only)."""
        values: list[float] = self.values.tolist()
        return CheckedLoad(
            series=list(self.series),
            periods=list(self.periods),
            series_numbers=self.series_numbers.tolist(),
            period_numbers=self.period_numbers.tolist(),
            values=[None if math.isnan(value) else value for value in values],
            statuses=[self.statuses[number] for number in self.status_numbers.tolist()],
        )
