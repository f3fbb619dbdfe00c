"""The working-day calendar that sets a provider's answer deadline (10 working days, 需求导向、供方响应).

A day is a working day when it is a make-up workday (调休上班), or a weekday that is not a public holiday.
Deadlines fall at the end of the last working day, in the calendar's time zone (China Standard Time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

#: Monday is 0; Saturday and Sunday are rest days unless made up.
_WEEKEND = frozenset({5, 6})
_END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days are working days."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    makeup_workdays: frozenset[date] = field(default_factory=frozenset)
    zone: timezone = timezone(timedelta(hours=8))

    @classmethod
    def of(
        cls, holidays: Iterable[date], makeup_workdays: Iterable[date], utc_offset_hours: int = 8
    ) -> WorkingCalendar:
        """A calendar from date lists (a day in both lists is a working day: the make-up wins)."""
        return cls(frozenset(holidays), frozenset(makeup_workdays), timezone(timedelta(hours=utc_offset_hours)))

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day."""
        if day in self.makeup_workdays:
            return True
        return day.weekday() not in _WEEKEND and day not in self.holidays

    def add_working_days(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself does not count)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        day = start
        remaining = count
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie in ``(start, end]``."""
        return sum(
            1 for offset in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=offset))
        )

    def local_date(self, moment: datetime) -> date:
        """The calendar date of ``moment`` in the calendar's time zone."""
        return moment.astimezone(self.zone).date()

    def deadline(self, submitted_at: datetime, working_days: int) -> datetime:
        """The last second of the ``working_days``-th working day after the day of ``submitted_at``."""
        last = self.add_working_days(self.local_date(submitted_at), working_days)
        return datetime.combine(last, _END_OF_DAY, tzinfo=self.zone)
