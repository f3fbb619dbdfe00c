"""Bulk registration of a FeatureCollection: all of it in one transaction, or nothing with every problem named."""

from __future__ import annotations

from onesource.geo.demo import GeoFactory
from onesource.geo.directory import REGISTRY


async def test_a_collection_registers_every_feature_or_none(client, registrar, owner_consumer, events) -> None:
    factory = GeoFactory(seed=11)
    pairs = [factory.parcel_and_address() for _ in range(3)]
    parcels = [parcel for parcel, _ in pairs]
    broken = [*parcels, {**parcels[0], "properties": {**parcels[0]["properties"], "land_use": "9999"}}]
    refused = await client.post(
        "/v1/imports?collection=parcels", json={"type": "FeatureCollection", "features": broken}, headers=registrar
    )
    assert refused.status_code == 422, refused.text
    names = {param["name"] for param in refused.json()["invalid_params"]}
    assert names == {"body.features[3].properties.land_use"}
    assert await events(parcels[0]["properties"]["parcel_code"]) == []

    done = await client.post(
        "/v1/imports?collection=parcels", json={"type": "FeatureCollection", "features": parcels}, headers=registrar
    )
    assert done.status_code == 201, done.text
    assert done.json()["features"] == 3
    code = parcels[2]["properties"]["parcel_code"]
    assert (await client.get(f"/v1/parcels/{code}", headers=registrar)).status_code == 200
    assert len(await events(code)) == 1
    again = await client.post(
        "/v1/imports?collection=parcels", json={"type": "FeatureCollection", "features": parcels}, headers=registrar
    )
    assert again.status_code == 422
    assert "already registered" in again.text
    listed = (await client.get("/v1/imports", headers=owner_consumer)).json()["items"]
    assert [item["features"] for item in listed] == [3]


async def test_the_demo_batches_register_as_the_mesh_sends_them(client, registrar) -> None:
    assert REGISTRY.demo is not None
    batches = list(REGISTRY.demo(20261122))
    assert sum(batch.records for batch in batches) == REGISTRY.demo_records
    for batch in batches[:2]:  # a parcel batch and its address batch
        response = await client.post(
            batch.path, content=batch.content, headers={**registrar, "Content-Type": batch.media_type}
        )
        assert response.status_code == 201, response.text[:500]
    probe = await client.get(REGISTRY.seeded_probe or "", params={"limit": 1}, headers=registrar)
    assert probe.json()["items"], "the mesh's probe sees the demo records are there"


async def test_wrong_collections_are_refused(client, registrar, foreign_registrar) -> None:
    body = {"type": "FeatureCollection", "features": [GeoFactory(1).parcel_and_address()[0]]}
    assert (await client.post("/v1/imports?collection=rivers", json=body, headers=registrar)).status_code == 422
    wrong = await client.post("/v1/imports?collection=addresses", json=body, headers=registrar)
    assert wrong.status_code == 422
    assert (
        await client.post("/v1/imports?collection=parcels", json=body, headers=foreign_registrar)
    ).status_code == 403
