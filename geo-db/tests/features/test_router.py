"""OGC API – Features – Part 1: Core: landing page, conformance, collections, items with bbox and next links."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest

from onesource.geo.demo import GeoFactory

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"


def rel(document: dict, relation: str) -> dict:
    return next(link for link in document["links"] if link["rel"] == relation)


async def seed(client, registrar, count: int = 5) -> tuple[list[dict], list[dict]]:
    factory = GeoFactory(seed=7)
    pairs = [factory.parcel_and_address("330106") for _ in range(count)]
    for parcel, address in pairs:
        assert (await client.post("/v1/parcels", json=parcel, headers=registrar)).status_code == 201
        assert (await client.post("/v1/addresses", json=address, headers=registrar)).status_code == 201
    return [parcel for parcel, _ in pairs], [address for _, address in pairs]


async def test_the_landing_page_leads_to_conformance_and_collections(client, registrar) -> None:
    landing = await client.get("/v1", headers=registrar)
    assert landing.status_code == 200
    base = "http://testserver/v1"
    conformance_url = urljoin(base, rel(landing.json(), "conformance")["href"])
    assert conformance_url == "http://testserver/v1/conformance"
    assert urljoin(base, rel(landing.json(), "data")["href"]) == "http://testserver/v1/collections"
    # the same links lead to the same places through the gateway's prefix
    assert urljoin("http://gw/api/geo/v1", rel(landing.json(), "data")["href"]) == "http://gw/api/geo/v1/collections"
    conformance = (await client.get("/v1/conformance", headers=registrar)).json()
    assert {CORE, GEOJSON} <= set(conformance["conformsTo"])


async def test_collections_describe_addresses_and_parcels(client, registrar) -> None:
    collections = (await client.get("/v1/collections", headers=registrar)).json()
    assert [collection["id"] for collection in collections["collections"]] == ["addresses", "parcels"]
    for collection in collections["collections"]:
        assert collection["itemType"] == "feature"
        items = urljoin("http://testserver/v1/collections", rel(collection, "items")["href"])
        assert items == f"http://testserver/v1/collections/{collection['id']}/items"
    one = await client.get("/v1/collections/parcels", headers=registrar)
    assert one.json()["id"] == "parcels"
    assert urljoin("http://testserver/v1/collections/parcels", rel(one.json(), "items")["href"]).endswith(
        "/v1/collections/parcels/items"
    )
    assert (await client.get("/v1/collections/rivers", headers=registrar)).status_code == 404


@pytest.mark.parametrize("collection", ["parcels", "addresses"])
async def test_items_are_paged_by_next_links_until_the_last(client, registrar, collection) -> None:
    parcels, addresses = await seed(client, registrar)
    expected = sorted(
        (parcel["properties"]["parcel_code"] for parcel in parcels)
        if collection == "parcels"
        else (address["properties"]["address_code"] for address in addresses)
    )
    url = f"http://testserver/v1/collections/{collection}/items?limit=2&bbox=120.0,30.0,120.3,30.5"
    seen: list[str] = []
    while True:
        page = await client.get(url, headers=registrar)
        assert page.status_code == 200, page.text
        assert page.headers["content-type"] == "application/geo+json"
        body = page.json()
        assert body["type"] == "FeatureCollection"
        assert body["numberReturned"] == len(body["features"]) <= 2
        assert body["timeStamp"].endswith("Z")
        assert urljoin(url, rel(body, "collection")["href"]) == f"http://testserver/v1/collections/{collection}"
        seen += [feature["id"] for feature in body["features"]]
        if not any(link["rel"] == "next" for link in body["links"]):
            break
        url = urljoin(url, rel(body, "next")["href"])
        assert "bbox=120.0%2C30.0%2C120.3%2C30.5" in url, "the next link keeps the query"
    assert seen == expected
    empty = await client.get(f"/v1/collections/{collection}/items?bbox=100,20,100.1,20.1", headers=registrar)
    assert empty.json()["features"] == []
    assert empty.json()["numberReturned"] == 0


async def test_one_item_by_id(client, registrar) -> None:
    parcels, _ = await seed(client, registrar, 1)
    code = parcels[0]["properties"]["parcel_code"]
    found = await client.get(f"/v1/collections/parcels/items/{code}", headers=registrar)
    assert found.status_code == 200
    assert found.headers["content-type"] == "application/geo+json"
    assert found.json()["id"] == code
    assert found.json()["geometry"] == parcels[0]["geometry"]
    base = f"http://testserver/v1/collections/parcels/items/{code}"
    assert urljoin(base, rel(found.json(), "self")["href"]) == base
    assert urljoin(base, rel(found.json(), "collection")["href"]) == "http://testserver/v1/collections/parcels"
    missing = await client.get("/v1/collections/parcels/items/330106001002GB99999", headers=registrar)
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/feature-not-found")
    assert (await client.get(f"/v1/collections/addresses/items/{code}", headers=registrar)).status_code == 404


async def test_items_refuse_unknown_parameters_and_clamp_the_limit(client, registrar) -> None:
    unknown = await client.get("/v1/collections/parcels/items?colour=red", headers=registrar)
    assert unknown.status_code == 400
    assert "colour" in unknown.json()["detail"]
    big = await client.get("/v1/collections/parcels/items?limit=100000", headers=registrar)
    assert big.status_code == 200
    assert (await client.get("/v1/collections/parcels/items?bbox=1,2,3", headers=registrar)).status_code == 422
    assert (
        await client.get("/v1/collections/parcels/items?datetime=2020-01-01T00:00:00Z", headers=registrar)
    ).status_code == 200


async def test_items_in_gcj02(client, registrar) -> None:
    _, addresses = await seed(client, registrar, 1)
    code = addresses[0]["properties"]["address_code"]
    shown = (await client.get(f"/v1/collections/addresses/items/{code}?crs=gcj02", headers=registrar)).json()
    assert shown["geometry"]["coordinates"] != addresses[0]["geometry"]["coordinates"]


async def test_other_departments_read_through_the_gateway(client, foreign_consumer, gateway) -> None:
    assert (await client.get("/v1/collections/parcels/items", headers=foreign_consumer)).status_code == 403
    assert (await client.get("/v1/collections/parcels/items", headers=gateway)).status_code == 200
