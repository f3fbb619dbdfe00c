"""The import writes each person's row with every column in its place."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from onesource.population.demo import PersonFactory
from onesource.population.imports.checking import _person_row
from onesource.population.imports.repository import IMPORTED_PERSON_COLUMNS, PERSON_COLUMNS
from onesource.population.imports.schemas import typed_row

persons = st.integers(min_value=0, max_value=2**32).map(lambda seed: PersonFactory(seed=seed).person())


@given(persons)
def test_the_person_row_holds_each_column_in_its_place(person: dict[str, Any]) -> None:
    typed = typed_row(person)
    assert typed is not None
    typed["deceased"] = typed["death_date"] is not None

    fields = _person_row(typed, "import-id").removesuffix("\n").split("\t")

    def as_copy_text(value: Any) -> str:
        if value is None:
            return "\\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        if isinstance(value, list):
            return "{" + ",".join(f'"{item}"' for item in value) + "}"
        return value.isoformat() if hasattr(value, "isoformat") else str(value)

    expected = [as_copy_text(typed[column]) for column in PERSON_COLUMNS]
    assert dict(zip(IMPORTED_PERSON_COLUMNS, fields, strict=True)) == {
        **dict(zip(PERSON_COLUMNS, expected, strict=True)),
        "import_id": "import-id",
    }
