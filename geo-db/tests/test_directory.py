"""The registry's catalog resources name every field its records carry, and its demo data is valid and real."""

from __future__ import annotations

from onesource.geo.addresses.schemas import RECORD_FIELDS as ADDRESS_FIELDS
from onesource.geo.demo import COUNTIES, GeoFactory
from onesource.geo.directory import REGISTRY, resources
from onesource.geo.divisions.loading import latest_record
from onesource.geo.parcels.schemas import RECORD_FIELDS as PARCEL_FIELDS
from onesource.registry.directory import registries
from onesource.standards.divisions import LAST_EDITION, Level, division


def test_the_registry_is_found_by_its_entry_point() -> None:
    assert REGISTRY in registries()
    assert REGISTRY.owner == "nrb"


def test_each_resource_names_its_records_fields() -> None:
    by_id = {resource["id"]: resource for resource in resources("nrb")}
    assert by_id["geo.division"]["share_type"] == "unconditional"
    assert {field["name"] for field in by_id["geo.division"]["fields"]} == set(
        latest_record("110105", (("朝阳区", None, None),))
    )
    assert set(ADDRESS_FIELDS) <= {field["name"] for field in by_id["geo.address"]["fields"]}
    assert set(PARCEL_FIELDS) <= {field["name"] for field in by_id["geo.parcel"]["fields"]}
    for resource in by_id.values():
        assert resource["provider"] == "nrb"
        assert resource["key"] in {field["name"] for field in resource["fields"]}
        for field in resource["fields"]:
            assert field["element"]
            assert field["authoritative"] or field.get("source_element")


def test_demo_counties_are_real_counties_and_their_features_do_not_overlap() -> None:
    for code in COUNTIES:
        found = division(code, LAST_EDITION)
        assert found is not None, code
        assert found.level is Level.COUNTY, code
    factory = GeoFactory(3)
    cells = set()
    for _ in range(200):
        parcel, address = factory.parcel_and_address("330106")
        corner = tuple(parcel["geometry"]["coordinates"][0][0])
        assert corner not in cells
        cells.add(corner)
        assert address["properties"]["address_code"][:6] == parcel["properties"]["parcel_code"][:6] == "330106"
