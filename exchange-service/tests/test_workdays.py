from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onesource.exchange.settings import Settings
from onesource.exchange.workdays import WorkingCalendar

DEFAULTS = Settings()
CALENDAR = WorkingCalendar.of(DEFAULTS.holidays, DEFAULTS.makeup_workdays)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 1, 1), False),  # 元旦, a Thursday
        (date(2026, 1, 4), True),  # Sunday made up for 元旦
        (date(2026, 2, 14), True),  # Saturday made up for 春节
        (date(2026, 2, 16), False),  # 春节, a Monday
        (date(2026, 2, 23), False),  # last day of 春节
        (date(2026, 2, 24), True),
        (date(2026, 4, 6), False),  # 清明 Monday
        (date(2026, 5, 9), True),  # Saturday made up for 劳动节
        (date(2026, 9, 20), True),  # Sunday made up for 国庆
        (date(2026, 10, 7), False),
        (date(2026, 10, 10), True),  # Saturday made up for 国庆
        (date(2026, 11, 21), False),  # an ordinary Saturday
        (date(2026, 11, 23), True),  # an ordinary Monday
    ],
)
def test_china_2026_schedule(day: date, working: bool) -> None:
    assert CALENDAR.is_working_day(day) is working


def test_spring_festival_deadline() -> None:
    # Submitted Friday 13 Feb 2026: Sat 14 is made up (1); 15–23 are the holiday; Tue 24 … then weekends.
    due = CALENDAR.add_working_days(date(2026, 2, 13), 10)
    # 14(1) 24(2) 25(3) 26(4) 27(5) 28 Sat made up(6) Mar 2(7) 3(8) 4(9) 5(10)
    assert due == date(2026, 3, 5)


def test_national_day_deadline() -> None:
    # Submitted Wed 30 Sep 2026: 1–7 Oct holiday; Thu 8(1) Fri 9(2) Sat 10 made up(3) Mon 12 … Fri 16(8) … Tue 20(10)
    assert CALENDAR.add_working_days(date(2026, 9, 30), 10) == date(2026, 10, 20)


def test_deadline_is_the_end_of_the_day_in_china() -> None:
    # 20:00 UTC on Thursday 31 Dec 2026 is already Friday 1 Jan 2027 in Beijing (no 2027 holidays configured)
    deadline = CALENDAR.deadline(datetime(2026, 12, 31, 20, 0, tzinfo=UTC), 1)
    assert deadline.isoformat() == "2027-01-04T23:59:59+08:00"


def test_configured_holidays_and_makeups() -> None:
    calendar = WorkingCalendar.of([date(2030, 1, 2)], [date(2030, 1, 5)])
    assert not calendar.is_working_day(date(2030, 1, 2))
    assert calendar.is_working_day(date(2030, 1, 5))  # a Saturday
    assert calendar.add_working_days(date(2030, 1, 1), 3) == date(2030, 1, 5)
    with pytest.raises(ValueError, match="at least 1"):
        calendar.add_working_days(date(2030, 1, 1), 0)


days = st.dates(min_value=date(2025, 11, 1), max_value=date(2027, 3, 1))


@given(start=days, count=st.integers(min_value=1, max_value=40))
def test_due_day_is_a_working_day_exactly_n_working_days_later(start: date, count: int) -> None:
    due = CALENDAR.add_working_days(start, count)
    assert CALENDAR.is_working_day(due)
    assert CALENDAR.working_days_between(start, due) == count
    # and it is the first such day: one day earlier there were fewer
    assert CALENDAR.working_days_between(start, due - timedelta(days=1)) == count - 1


@given(
    moment=st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 1, 31), timezones=st.just(UTC)),
)
def test_deadline_lands_on_a_working_day_ten_working_days_after_submission(moment: datetime) -> None:
    deadline = CALENDAR.deadline(moment, 10)
    local_due = CALENDAR.local_date(deadline)
    assert CALENDAR.is_working_day(local_due)
    assert CALENDAR.working_days_between(CALENDAR.local_date(moment), local_due) == 10
    assert deadline > moment
    assert (local_due - CALENDAR.local_date(moment)).days >= 10  # make-up weekend days can shorten it below 2 weeks


@given(
    holidays=st.sets(days, max_size=40),
    makeups=st.sets(days, max_size=10),
    start=days,
    count=st.integers(min_value=1, max_value=20),
)
def test_any_configured_calendar(holidays: set[date], makeups: set[date], start: date, count: int) -> None:
    calendar = WorkingCalendar.of(holidays, makeups)
    due = calendar.add_working_days(start, count)
    assert calendar.is_working_day(due)
    assert calendar.working_days_between(start, due) == count
    assert due not in holidays - makeups
    assert due.weekday() < 5 or due in makeups
