"""The quick check accepts exactly what RowChecker accepts, with the same observations, and gives up otherwise."""

from __future__ import annotations

import functools
import gc

import pytest

from onesource.macroeconomy.dataflows.definitions import DATAFLOWS
from onesource.macroeconomy.loads.checking import CheckedLoad
from onesource.macroeconomy.loads.errors import InvalidLoad
from onesource.macroeconomy.loads.parsing import UnreadableLoad, csv_rows
from onesource.macroeconomy.loads.quick import QuickCsv, quick_csv
from onesource.macroeconomy.loads.service import _checked, check_csv

FLOW = DATAFLOWS["GDP_Q"]
HEAD = "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,INDICATOR,PRICE_BASIS,TIME_PERIOD,OBS_VALUE,OBS_STATUS,"
HEADER = HEAD + "UNIT_MEASURE,UNIT_MULT,DECIMALS"


def row(area: str = "330000", period: str = "2024-Q1", value: str = "1.5", status: str = "", **changes: str) -> str:
    cells = {
        "STRUCTURE": "dataflow",
        "STRUCTURE_ID": "CN_STATS:GDP_Q(1.0.0)",
        "ACTION": "I",
        "FREQ": "Q",
        "REF_AREA": area,
        "INDICATOR": "GDP",
        "PRICE_BASIS": "CUR",
        "TIME_PERIOD": period,
        "OBS_VALUE": value,
        "OBS_STATUS": status,
        "UNIT_MEASURE": "CNY",
        "UNIT_MULT": "8",
        "DECIMALS": "2",
        **changes,
    }
    return ",".join(cells.values())


def load(*rows: str, header: str = HEADER, end: str = "\r\n") -> str:
    return end.join([header, *rows]) + end


@functools.cache  # the large texts are checked in several tests
def slow(text: str) -> CheckedLoad | None:
    """What the row-by-row check makes of ``text`` (``None``: refused)."""
    try:
        return CheckedLoad.of(_checked(csv_rows(text, FLOW), FLOW))
    except (InvalidLoad, UnreadableLoad):
        return None


AREAS = ["330000", "320000", "110000", "310000", "440000"]


def many(count: int, **changes: str) -> list[str]:
    """``count`` rows of distinct series and periods: more than one of the quick check's steps (8,192 rows)."""
    periods = [f"{year}-Q{quarter}" for year in range(1990, 2025) for quarter in range(1, 5)]
    indicators = ["GDP", "GDPI", "VA_PRIMARY", "VA_SECONDARY", "VA_TERTIARY"]
    keys = [(area, indicator, basis) for area in AREAS for indicator in indicators for basis in ("CUR", "CON", "IDX")]
    return [
        row(area, period, str(n % 97 + 0.25), INDICATOR=indicator, PRICE_BASIS=basis, **changes)
        for n, ((area, indicator, basis), period) in enumerate((key, period) for key in keys for period in periods)
    ][:count]


LARGE = many(10_500)
GOOD = [
    load(*LARGE),  # several steps, each cut from the text
    load(*LARGE, end="\n"),
    load(*LARGE[:9_000], "", *LARGE[9_000:]),  # an empty line in a later step: that step read line by line
    load(*LARGE[:9_000], *many(10_500, ACTION="A")[9_000:]),  # another action from a later step on
    load(*LARGE[:9_000], *many(10_500, ACTION="R")[9_000:9_001], *LARGE[9_001:]),  # one row's other action
    load(*LARGE).replace("\r\n", "\n", 9_500),  # line ends mixed
    load(*LARGE, header=HEADER.replace("STRUCTURE_ID,ACTION,", "STRUCTURE_ID,")).replace(",I,", ","),
    load(row(), row(period="2024-Q2", value="-2e3", status="P"), row(area="320000", value="")),
    load(row(), "", row(period="2024-Q2")),  # an empty line is skipped
    load(row(), row(period="2024-Q2"), end="\n"),
    load(row(), row(period="2024-Q2"), end="\r"),  # lone carriage returns end lines
    load(row(), row(period="2024-Q2")).replace("\r\n", "\n", 1),  # line ends mixed
    load(row(), "", "", row(area="320000")),  # the second series' line counts the empty ones
    load(row(value="+.5"), row(period="2024-Q2", value="7.")),
    load(row(ACTION="R"), row(period="2024-Q2", ACTION="Append")),
    load(row(FREQ="A", period="2020"), row(FREQ="S", period="2020-S2"), row(area="330185", period="2014-Q1")),
    load(row(), header=HEADER.replace("STRUCTURE_ID,ACTION,", "STRUCTURE_ID,")).replace(",I,", ",", 1),
    load('"dataflow",CN_STATS:GDP_Q(1.0.0),I,Q,"330000",GDP,CUR,2024-Q1,1,,CNY,8,2'),  # quoted fields
    # Arrow reads these: no value in a later block, a second length of period text (and frequency) later on, a
    # status code only later, values of many forms
    load(*LARGE[:9_000], *many(10_500, OBS_VALUE="")[9_000:]),
    load(*LARGE[:9_500], row(FREQ="A", period="2020"), row(FREQ="S", period="2020-S1"), *LARGE[9_500:]),
    load(row(), row(FREQ="A", period="2020"), row(period="2024-Q2"), row(FREQ="A", period="2021")),
    load(*LARGE[:9_999], *many(10_500, OBS_STATUS="E")[9_999:]),
    load(*(line.replace(",I,", ",A,") for line in LARGE[:3]), *LARGE[3:]),
    load(*many(9, OBS_VALUE="-0"), row(area="110000", value="1e-400"), row(area="310000", value="00012.50E+2")),
    # the CSV reader takes over from Arrow at an empty line (early, last); lone carriage returns end some lines;
    # a quote in a late row: the CSV reader's from the start
    load(*LARGE[:5], "", *LARGE[5:]),
    load(*LARGE, ""),
    load(*LARGE).replace("\r\n", "\r", 5_000),  # lone carriage returns ending the first lines
    load(*LARGE[:10_000], LARGE[10_000].replace(",GDP,", ',"GDP",'), *LARGE[10_001:]),
]
#: Accepted row by row, given up on by the quick check (Python's ``\d`` and ``$`` take more than SDMX-CSV's).
GIVEN_UP = [
    load(row(value="\u0663")),  # an Arabic-Indic digit 3: ``float`` reads it
    load('dataflow,CN_STATS:GDP_Q(1.0.0),I,Q,330000,GDP,CUR,2024-Q1,"1\n",,CNY,8,2'),
]
BAD = [
    load(*LARGE[:9_000], LARGE[9_000].replace(",2", ""), *LARGE[9_001:]),  # a row of fewer fields in a later step
    # a row ending in an empty field, then a row of a beginning's fewer fields starting with an empty one: the
    # line end between them is no row's beginning
    load(*LARGE[:9_000], LARGE[9_000][:-2] + ",", "," + LARGE[9_001].split(",", 3)[3][:-2], *LARGE[9_002:]),
    load(*LARGE[:9_000], LARGE[9_000].replace("dataflow", "datastructure"), *LARGE[9_001:]),
    load(*LARGE[:9_000], LARGE[9_000].replace(",I,", ",D,"), *LARGE[9_001:]),
    load(*LARGE[:9_000], LARGE[9_000], *LARGE[9_000:]),  # a period twice, in a later step
    load(row(), row()),  # a period twice
    load(row(), row(period="2024-Q2", UNIT_MULT="4")),  # a series' attribute changes
    load(row(area="330185", period="2020-Q1")),  # abolished by then
    load(row(area="999999")),
    load(row(period="2024-13")),
    load(row(period="")),
    load(row(value="abc")),
    load(row(value="nan")),
    load(row(value="inf")),
    load(row(value="1e999")),
    load(row(value="1_000")),
    load(row(value=" 1")),
    load(row(status="Z")),
    load(row(FREQ="M", period="2024-01")),
    load(row(INDICATOR="NOPE")),
    load(row(INDICATOR="")),
    load(row(UNIT_MEASURE="")),
    load(row(ACTION="D")),
    load(row(STRUCTURE_ID="CN_STATS:CPI_M(1.0.0)")),
    load(row(STRUCTURE="datastructure")),
    load(row() + ",extra"),
    load(row(), header=HEAD + "UNIT_MEASURE,UNIT_MULT"),  # a mandatory attribute's column missing
    load(row(), header=HEADER + ",EMBARGO_TIME"),
    load('dataflow,CN_STATS:GDP_Q(1.0.0),I,Q,"330\n000",GDP,CUR,2024-Q1,1,,CNY,8,2'),
    load('dataflow,CN_STATS:GDP_Q(1.0.0),I,Q,330000,GDP,CUR,2024-Q1,"1,,CNY,8,2'),  # an unclosed quote
    load(),
    "",
    load(*LARGE[:9_000], ",,,,,,,,,,,,", *LARGE[9_000:]),  # a row of empty fields: no empty line
    load(*LARGE[:9_000], LARGE[9_000].replace("-Q", "-q"), *LARGE[9_001:]),
    load(*LARGE[:9_000], LARGE[9_000].replace(",CNY,", ",\u4eba\u6c11\u5e01,"), *LARGE[9_001:]),  # non-ASCII
    load(*LARGE[:9_000], LARGE[9_000].replace(",8,", ",9,"), *LARGE[9_001:]),  # a series' attribute changes
    load(*LARGE[:9_000], LARGE[9_000].replace(",I,", ",,"), *LARGE[9_001:]),
    load(*LARGE[:9_000], LARGE[9_000] + "\x00", *LARGE[9_001:]),
    "\ufeff" + load(row()),  # a byte order mark is the router's to take off
]


@pytest.mark.parametrize("text", GOOD)
def test_a_good_load_is_accepted_quickly_with_the_same_observations(text: str) -> None:
    expected = slow(text)
    assert expected is not None
    assert quick_csv(text, FLOW) == expected
    assert check_csv(text, FLOW) == expected


@pytest.mark.parametrize("text", BAD)
def test_the_quick_check_gives_up_where_a_row_may_be_refused(text: str) -> None:
    assert quick_csv(text, FLOW) is None
    assert slow(text) is None
    with pytest.raises(InvalidLoad):
        check_csv(text, FLOW)


@pytest.mark.parametrize("text", GIVEN_UP)
def test_what_only_python_reads_as_a_number_is_left_to_the_row_by_row_check(text: str) -> None:
    expected = slow(text)
    assert expected is not None
    assert quick_csv(text, FLOW) is None
    assert check_csv(text, FLOW) == expected


def in_blocks(text: str, size: int, *, repeats: bool = True) -> CheckedLoad | None:
    """The quick check's blocks of ``size`` rows as one load (``None``: it gave up at one)."""
    quick = QuickCsv(text, FLOW, repeats=repeats)
    found = CheckedLoad([], [], [], [], [], [])
    while not quick.finished:
        block = quick.block(size)
        if block is None:
            return None
        part = block.checked_load()
        found.series.extend(part.series)
        found.periods[:] = part.periods
        found.series_numbers.extend(part.series_numbers)
        found.period_numbers.extend(part.period_numbers)
        found.values.extend(part.values)
        found.statuses.extend(part.statuses)
    return found


@pytest.mark.parametrize("size", [1_000, 4_099])
@pytest.mark.parametrize("text", [text for text in GOOD if text.count("\n") > 1_000])
def test_blocks_end_inside_series_and_number_on_from_the_blocks_before(text: str, size: int) -> None:
    assert in_blocks(text, size) == slow(text)


@pytest.mark.parametrize("text", [text for text in BAD if text.count("\n") > 1_000])
def test_a_block_after_accepted_ones_is_given_up_on(text: str) -> None:
    assert in_blocks(text, 4_099) is None


def test_the_collector_runs_again_after_a_block_accepted_or_not() -> None:
    assert gc.isenabled()
    assert quick_csv(GOOD[0], FLOW) is not None
    assert gc.isenabled()
    assert quick_csv(BAD[0], FLOW) is None
    assert gc.isenabled()
