"""The ``person.registered`` events of a bulk import: deferred when it loads, written when the relay publishes them.

An import does not write an event per person. Per block it writes one outbox row per shard naming the block's new
ID numbers (``outbox.add_deferred``), in its transaction; the relay calls :func:`render_registrations`, which writes
each event from the person's first version. That version never changes once committed: it is the person row until
the first change, which writes it out into ``person_version`` first (``persons.service``), in one transaction, so
any one query sees it in exactly one of the two places. The events equal what a registration through the API
writes (a test holds them so), and their ids are derived from the import and the ID number, so an event published
again after a relay failure keeps its id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from onesource.kit import outbox
from onesource.kit.events import EnvelopeWriter, derived_event_id
from onesource.population.imports import repository
from onesource.population.persons.events import PERSON_TOPIC, PersonRegistered

#: The renderer's name in the outbox (``outbox_event.renderer``): fixed, rows written by earlier releases name it.
REGISTRATIONS = "population.imported-registrations"

_json_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
#: The JSON string literal of a ``str`` (what ``_json_text`` does for one, without its dispatch).
_json_string = encode_basestring


async def defer_registrations(
    session: AsyncSession, import_id: uuid.UUID, at: datetime, id_numbers: Sequence[str]
) -> None:
    """Add the ``person.registered`` events of persons the import ``import_id`` registers, in its transaction."""
    await outbox.add_deferred(
        session, REGISTRATIONS, PERSON_TOPIC, id_numbers, {"import_id": str(import_id), "at": at.isoformat()}
    )


async def render_registrations(connection: AsyncConnection, deferred: outbox.Deferred) -> list[outbox.Message]:
    """The ``person.registered`` events of an import's persons, from their first versions (the relay's renderer)."""
    import_id = uuid.UUID(deferred.details["import_id"])
    at = datetime.fromisoformat(deferred.details["at"])
    writer = EnvelopeWriter(PersonRegistered, at)
    found = {row.id_number: row for row in await repository.first_versions(connection, deferred.keys)}
    messages = []
    for id_number in deferred.keys:
        row = found.get(id_number)
        if row is not None and row.version == 1 and row.import_id == import_id:
            record = record_json(row._mapping)  # unchanged since the import: the row is the first version
        elif row is not None and row.first_import_id == import_id:
            record = _json_text(row.first_record)  # written out by the first change
        else:  # persons are never deleted, and the import committed with this row: a broken database
            raise LookupError(f"{id_number}, registered by import {import_id}, has no first version of that import")
        event_id = derived_event_id(at, str(import_id), id_number)
        _, event_json = writer(id_number, f'{{"record":{record}}}', event_id)
        messages.append(outbox.Message(event_id, id_number, event_json))
    return messages


def _quoted(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


def record_json(values: Any) -> str:
    """A person's record as JSON text, equal once parsed to what the API writes (``persons.service.record_of``).

    ``values`` maps the record's fields to their typed values (dates as dates): a person row. Only the free-text
    fields need JSON escaping: every other field passed the registry's rules, which admit only ASCII digits, ``X``,
    ``-`` and ASCII letters there.
    """
    death_date = values["death_date"]
    former_names = values["former_names"]
    address = values["household_address"]
    return (
        f'{{"sex":"{values["sex"]}","name":{_json_string(values["name"])},'
        f'"deceased":{"true" if values["deceased"] else "false"},"education":{_quoted(values["education"])},'
        f'"ethnicity":"{values["ethnicity"]}","id_number":"{values["id_number"]}",'
        f'"birth_date":"{values["birth_date"].isoformat()}",'
        f'"death_date":{"null" if death_date is None else _quoted(death_date.isoformat())},'
        f'"former_names":{_json_text(former_names) if former_names else "[]"},'
        f'"household_id":{_quoted(values["household_id"])},"marital_status":{_quoted(values["marital_status"])},'
        f'"birthplace_code":"{values["birthplace_code"]}",'
        f'"household_address":{"null" if address is None else _json_string(address)},'
        f'"relationship_to_head":{_quoted(values["relationship_to_head"])},'
        f'"household_region_code":"{values["household_region_code"]}"}}'
    )
