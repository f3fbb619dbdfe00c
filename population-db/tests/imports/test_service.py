"""The import writes each person's event record as the API would."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from onesource.population.imports.checking import _person_row, _record_json
from onesource.population.imports.repository import IMPORTED_PERSON_COLUMNS, PERSON_COLUMNS
from onesource.population.imports.schemas import typed_row
from onesource.population.persons.schemas import Person
from onesource.population.synthetic import PersonFactory

persons = st.integers(min_value=0, max_value=2**32).map(lambda seed: PersonFactory(seed=seed).person())
# any text the model lets through: quotes, backslashes, control characters, any script (not lone surrogates)
free_text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40)


@given(persons, free_text, st.none() | free_text, st.lists(free_text, max_size=3))
def test_the_record_json_is_the_record_the_api_writes(
    person: dict[str, Any], name: str, address: str | None, former_names: list[str]
) -> None:
    typed = typed_row(person)
    assert typed is not None
    typed.update(name=name, household_address=address, former_names=tuple(former_names))  # as check() keeps them
    typed["deceased"] = typed["death_date"] is not None
    now = datetime.now(UTC)
    # what persons.service.record_of makes of the stored row
    expected = Person.model_validate({**typed, "version": 1, "created_at": now, "updated_at": now}).record()

    record = json.loads(_record_json(typed))

    assert record == expected


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
