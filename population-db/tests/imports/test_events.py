"""An import's deferred registrations are rendered as the API writes them (the rendering's pure part)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from onesource.population.demo import PersonFactory
from onesource.population.imports.events import record_json
from onesource.population.imports.schemas import typed_row
from onesource.population.persons.schemas import Person

persons = st.integers(min_value=0, max_value=2**32).map(lambda seed: PersonFactory(seed=seed).person())
# any text the model lets through: quotes, backslashes, control characters, any script (not lone surrogates)
free_text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40)


@given(persons, free_text, st.none() | free_text, st.lists(free_text, max_size=3))
def test_the_record_json_is_the_record_the_api_writes(
    person: dict[str, Any], name: str, address: str | None, former_names: list[str]
) -> None:
    typed = typed_row(person)
    assert typed is not None
    typed.update(name=name, household_address=address, former_names=former_names)  # as a person row holds them
    typed["deceased"] = typed["death_date"] is not None
    now = datetime.now(UTC)
    # what persons.service.record_of makes of the stored row
    expected = Person.model_validate({**typed, "version": 1, "created_at": now, "updated_at": now}).record()

    record = json.loads(record_json(typed))

    assert record == expected
