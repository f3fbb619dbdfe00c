"""The import's fast readers of well-formed rows read every row they take exactly as the API's model does."""

from __future__ import annotations

import csv
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from onesource.population.demo import PersonFactory
from onesource.population.imports.schemas import IMPORT_COLUMNS, ImportRow, plain_csv_reader, typed_row

REQUIRED = ("id_number", "name", "sex", "ethnicity", "birth_date", "birthplace_code", "household_region_code")


def by_the_model(values: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return dict(ImportRow.model_validate(values).__dict__)
    except ValidationError:
        return None


def csv_cells(person: dict[str, Any]) -> dict[str, str]:
    """A person's cells as a CSV import has them (former names joined by semicolons, absent values empty)."""
    former_names = person.get("former_names", [])
    cells = {**person, "former_names": ";".join(former_names) if isinstance(former_names, list) else former_names}
    return {column: "" if cells.get(column) is None else str(cells[column]) for column in IMPORT_COLUMNS}


persons = st.integers(min_value=0, max_value=2**32).map(lambda seed: PersonFactory(seed=seed).person())
# Values near the edges of what the model accepts: padding it strips (or not), case it changes, digits of other
# scripts, other date forms, surrogates from JSON escapes, lengths around the limits, other JSON types.
tweaks = st.sampled_from(
    [
        lambda text: text,
        lambda text: f" {text}",
        lambda text: f"{text}\u3000",
        lambda text: f"{text}\x1c",
        lambda text: f"\x1f{text}",
        lambda text: text.lower(),
        lambda text: text.replace("-", ""),
        lambda text: f"{text}T00:00:00",
        lambda text: text.replace("1", "\u0661"),
        lambda text: f"{text}\n",
        lambda text: text * 40,
        lambda text: f"{text};;{text}",
        lambda text: f"{text}; ",
        lambda text: "",
        lambda text: text[:1],
        lambda text: f"\ud800{text}",
        lambda text: "2024-02-30",
    ]
)
#: Lengths at the model's limits (household numbers 32, names 64, addresses 200), and one past them.
limits = st.sampled_from([1, 32, 33, 64, 65, 200, 201])


def tweak(draw: st.DrawFn, text: str) -> str:
    if draw(st.booleans()):
        return str(draw(tweaks)(text))
    return (text * 201)[: draw(limits)]


other_values = st.one_of(
    st.none(),
    st.integers(min_value=-3, max_value=3),
    st.booleans(),
    st.text(max_size=70),
    st.lists(st.text(max_size=66), max_size=11),
)


@st.composite
def rows(draw: st.DrawFn) -> dict[str, Any]:
    """A generated person with some fields changed, dropped or added."""
    person = draw(persons)
    for column in draw(st.sets(st.sampled_from([*IMPORT_COLUMNS, "deceased"]), max_size=4)):
        kind = draw(st.sampled_from(["tweak", "other", "drop"]))
        if kind == "drop":
            person.pop(column, None)
        elif kind == "other":
            person[column] = draw(other_values)
        else:
            original = person.get(column)
            text = ";".join(original) if isinstance(original, list) else str(original or "王")
            person[column] = tweak(draw, text)
    return person


@given(rows())
@settings(max_examples=1500)
@example({"id_number": "11010519491231002x", "name": "王明", "sex": "2", "ethnicity": "01",
          "birth_date": "1949-12-31", "birthplace_code": "110105", "household_region_code": "110101",
          "former_names": " 王大 ; ;王二"})  # fmt: skip
def test_typed_row_gives_the_models_fields_whenever_it_gives_any(values: dict[str, Any]) -> None:
    typed = typed_row(values)
    if typed is not None:
        assert typed == by_the_model(values)


@given(persons)
def test_typed_row_takes_every_well_formed_row(person: dict[str, Any]) -> None:
    typed = typed_row(person)
    assert typed is not None
    assert typed == by_the_model(person)


@st.composite
def headers_and_lines(draw: st.DrawFn) -> tuple[list[str], str]:
    person = draw(persons)
    cells = csv_cells(person)
    for column in draw(st.sets(st.sampled_from(IMPORT_COLUMNS), min_size=1, max_size=3)):
        cells[column] = tweak(draw, cells[column] or "王")
    optional = [column for column in IMPORT_COLUMNS if column not in REQUIRED]
    columns = [*REQUIRED, *draw(st.sets(st.sampled_from(optional)))]
    if draw(st.booleans()):
        columns.remove(draw(st.sampled_from(REQUIRED)))
    header = draw(st.permutations(columns))
    # a plain line: what a CSV file holds without quotes (no commas, quotes or line breaks inside a cell)
    line = ",".join(cells[column].replace(",", "").replace('"', "").replace("\r", "") for column in header)
    return list(header), line.replace("\n", "")


@given(headers_and_lines())
@settings(max_examples=1500)
def test_the_plain_csv_reader_gives_the_models_fields_whenever_it_gives_any(header_line: tuple[list[str], str]) -> None:
    header, line = header_line
    typed = plain_csv_reader(header)(line)
    if typed is not None:
        # what the slow path reads: the line's cells, empty ones absent, through the model
        values = {name: value for name, value in zip(header, line.split(","), strict=True) if value}
        assert typed == by_the_model(values)


@given(persons, st.permutations(IMPORT_COLUMNS))
def test_the_plain_csv_reader_takes_every_well_formed_line(person: dict[str, Any], header: list[str]) -> None:
    cells = csv_cells(person)
    typed = plain_csv_reader(header)(",".join(cells[column] for column in header))
    assert typed is not None
    assert typed == by_the_model(person)


@given(st.text(alphabet=st.characters(blacklist_characters='"\r\n'), min_size=1))
def test_a_line_without_quotes_splits_into_the_fields_csv_reads(line: str) -> None:
    # why imports split plain lines at commas instead of calling csv.reader
    assert line.split(",") == next(csv.reader([line], strict=True))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("name", "王" * 64),
        ("name", "王" * 65),
        ("household_address", "路" * 200),
        ("household_address", "路" * 201),
        ("household_id", "1" * 32),
        ("household_id", "1" * 33),
        ("former_names", ";".join(["李"] * 10)),
        ("former_names", ";".join(["李"] * 11)),
        ("former_names", "李" * 64),
        ("former_names", "李" * 65),
    ],
)
def test_the_fast_readers_keep_the_models_limits(column: str, value: str) -> None:
    cells = {**csv_cells(PersonFactory(seed=1).person()), column: value}
    header = list(IMPORT_COLUMNS)
    line = ",".join(cells[name] for name in header)
    values = {name: cell for name, cell in zip(header, line.split(","), strict=True) if cell}
    expected = by_the_model(values)  # a dict up to the limit, None past it
    assert plain_csv_reader(header)(line) == expected
    assert typed_row(values) == expected
