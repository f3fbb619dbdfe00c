"""Events reach the broker exactly for committed changes (real commits, the relay, a real Kafka-protocol broker)."""

from __future__ import annotations

import zlib

from onesource.geo.demo import GeoFactory
from onesource.geo.parcels.events import PARCEL_TOPIC
from onesource.kit.events import CloudEvent


async def test_parcel_events_reach_the_broker_only_for_committed_changes(
    committing_client, registrar, topic_reader, request
) -> None:
    factory = GeoFactory(zlib.crc32(request.node.nodeid.encode()) % 1000 + 100)
    for _ in range(zlib.crc32(request.node.nodeid.encode()) % 50):
        factory.parcel_and_address("440305")
    parcel, _ = factory.parcel_and_address("440305")
    code = parcel["properties"]["parcel_code"]
    parcel["properties"]["land_use"] = "0701"
    assert (await committing_client.post("/v1/parcels", json=parcel, headers=registrar)).status_code == 201
    url = f"/v1/parcels/{code}"
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[113.9, 22.5], [113.901, 22.501], [113.901, 22.5], [113.9, 22.501], [113.9, 22.5]]],
    }
    refused = await committing_client.patch(url, json={"geometry": bowtie}, headers={**registrar, "If-Match": '"1"'})
    assert refused.status_code == 422  # rolled back: no event
    stale = await committing_client.patch(
        url, json={"properties": {"land_use": "0702"}}, headers={**registrar, "If-Match": '"5"'}
    )
    assert stale.status_code == 412
    changed = await committing_client.patch(
        url, json={"properties": {"land_use": "0702"}}, headers={**registrar, "If-Match": '"1"'}
    )
    assert changed.status_code == 200
    retired = await committing_client.post(
        f"{url}/retirement", json={"retired_on": "2025-01-01", "reason": "拆分"}, headers=registrar
    )
    assert retired.status_code == 200

    def mine(messages: list) -> list:
        return [message for message in messages if message.key == code]

    messages = await topic_reader.read(PARCEL_TOPIC, until=lambda found: len(mine(found)) >= 3, timeout=30, settle=1.0)
    events = [CloudEvent.model_validate(message.value) for message in mine(messages)]
    assert [event.type.split(".")[-2] for event in events] == ["registered", "updated", "retired"]
    assert events[0].data["record"]["geometry"] == parcel["geometry"]
