"""Events of addresses, on ``onesource.geo.address.v1``, keyed by address code.

Each carries the whole record after the change in ``record``: the feature's properties, flat, and ``geometry`` as
GeoJSON — so the exchange masks it like any record, ``geometry`` being one more field.
"""

from __future__ import annotations

from typing import ClassVar

from onesource.registry.events import RecordChanged, RecordEvent, RecordRegistered

ADDRESS_TOPIC = "onesource.geo.address.v1"
SOURCE = "/onesource/geo"


class _AddressEvent(RecordEvent):
    topic: ClassVar[str] = ADDRESS_TOPIC
    source: ClassVar[str] = SOURCE
    key_field: ClassVar[str] = "address_code"


class AddressRegistered(_AddressEvent, RecordRegistered):
    """An address was registered."""

    event_type: ClassVar[str] = "gov.onesource.geo.address.registered.v1"


class AddressUpdated(_AddressEvent, RecordChanged):
    """Fields or the boundary of a address changed (a new point, or new levels with the whole address they spell)."""

    event_type: ClassVar[str] = "gov.onesource.geo.address.updated.v1"


class AddressRetired(_AddressEvent, RecordChanged):
    """An address was retired (注销)."""

    event_type: ClassVar[str] = "gov.onesource.geo.address.retired.v1"
