"""The geospatial registry on a running mesh, through the gateway only: nrb's registrar registers and reads a parcel,
a department reads divisions by date under its grant, a parcel masked to its grant, and its subscription's events
masked the same way."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from onesource.standards.uscc import check_character, organisation_code_check_character
from tests.conftest import Mesh, eventually

OWNER_PURPOSE = "registry-maintenance"
PURPOSE = "不动产登记信息核验"
SQUARE = [[116.300, 39.800], [116.3008, 39.800], [116.3008, 39.8008], [116.300, 39.8008], [116.300, 39.800]]


class Department:
    """A consumer department registered for one test (with a valid USCC, GB 32100 with GB 11714)."""

    def __init__(self, mesh: Mesh) -> None:
        self.mesh = mesh
        self.code = "g" + secrets.token_hex(4)
        admin = mesh.bearer("admin")
        body8 = "".join(secrets.choice("0123456789") for _ in range(8))
        body17 = "11110000" + body8 + organisation_code_check_character(body8)
        created = httpx.post(
            f"{mesh.gateway}/api/identity/v1/departments",
            headers=admin,
            json={"code": self.code, "name": f"测试局 {self.code}", "uscc": body17 + check_character(body17)},
        )
        assert created.status_code == 201, created.text
        client = httpx.post(
            f"{mesh.gateway}/api/identity/v1/clients",
            headers=admin,
            json={"department": self.code, "name": "consumer system", "roles": ["consumer"]},
        )
        assert client.status_code == 201, client.text
        self.client_id, self.secret = client.json()["client_id"], client.json()["client_secret"]

    def headers(self, purpose_text: str | None = PURPOSE) -> dict[str, str]:
        purpose = quote(purpose_text, safe="") if purpose_text else None
        return self.mesh.bearer(self.client_id, purpose, secret=self.secret)


def owner(mesh: Mesh) -> dict[str, str]:
    return mesh.bearer("nrb-registrar", OWNER_PURPOSE)


def new_parcel(mesh: Mesh) -> dict[str, Any]:
    """A parcel registered through the gateway by nrb's registrar, in 北京市丰台区 (110106)."""
    shift = secrets.randbelow(10_000) * 0.001
    ring = [[round(x + shift, 7), y] for x, y in SQUARE]
    code = f"110106001001GB{secrets.randbelow(100_000):05d}"
    body = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"parcel_code": code, "land_use": "0701", "location_description": "丰台区测试路1号"},
    }
    created = httpx.post(f"{mesh.gateway}/api/geo/v1/parcels", headers=owner(mesh), json=body)
    assert created.status_code == 201, created.text
    feature: dict[str, Any] = created.json()
    assert feature["id"] == code
    return feature


def test_nrb_registers_a_parcel_through_the_gateway_and_reads_it_back(mesh: Mesh) -> None:
    feature = new_parcel(mesh)
    code = feature["id"]
    assert feature["properties"]["area_m2"] > 5000
    read = httpx.get(f"{mesh.gateway}/api/geo/v1/parcels/{code}", headers=owner(mesh))
    assert read.status_code == 200, read.text
    assert read.json()["geometry"] == feature["geometry"]
    inside = f"{feature['geometry']['coordinates'][0][0][0] + 0.0004},{39.8004}"
    found = httpx.get(f"{mesh.gateway}/api/geo/v1/parcels", params={"contains": inside}, headers=owner(mesh))
    assert found.status_code == 200, found.text
    assert [item["id"] for item in found.json()["features"]] == [code]
    seeded = httpx.get(f"{mesh.gateway}/api/geo/v1/collections/parcels/items", params={"limit": 5}, headers=owner(mesh))
    assert seeded.status_code == 200, seeded.text
    assert seeded.json()["features"], "the mesh seeds synthetic parcels"


def _division_reader(mesh: Mesh, fields: tuple[str, ...] = ("code", "name", "valid_to")) -> dict[str, str]:
    """A new department holding a grant on geo.division (unconditional: granted at once)."""
    department = Department(mesh)
    asked = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests",
        headers=department.headers(purpose_text=None),
        json={"resource": "geo.division", "fields": list(fields), "purpose": PURPOSE},
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "granted"
    return department.headers(purpose_text=PURPOSE)


def _read_when_granted(mesh: Mesh, path: str, headers: dict[str, str], **params: str) -> httpx.Response:
    """``GET path`` once the grant's event has reached the gateway (until then: 403 ``no-grant``)."""
    answers: list[httpx.Response] = []

    def read() -> bool:
        answers.append(httpx.get(f"{mesh.gateway}{path}", params=params, headers=headers))
        return not answers[-1].text.endswith("no-grant") and "/no-grant" not in answers[-1].text

    eventually(read)
    return answers[-1]


def test_a_department_reads_a_division_under_its_grant(mesh: Mesh) -> None:
    headers = _division_reader(mesh)
    answer = _read_when_granted(mesh, "/api/geo/v1/divisions/110105", headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"code": "110105", "name": "朝阳区", "valid_to": None}
    gone = _read_when_granted(mesh, "/api/geo/v1/divisions/330103", headers)
    assert gone.status_code == 404, "下城区 was abolished in 2021"


def test_a_department_reads_a_division_by_date_under_its_grant(mesh: Mesh) -> None:
    # Asking by date tells which version was valid when: it needs the validity dates granted.
    undated = _division_reader(mesh)
    refused = _read_when_granted(mesh, "/api/geo/v1/divisions/330103", undated, date="2020-01-01")
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("/filter-not-granted")
    headers = _division_reader(mesh, ("code", "name", "valid_from", "valid_to"))
    answer = _read_when_granted(mesh, "/api/geo/v1/divisions/330103", headers, date="2020-01-01")
    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == "下城区"
    assert answer.json()["valid_to"] == "2021-03-11"


def _grant_parcels(mesh: Mesh, department: Department, fields: list[str]) -> None:
    """geo.parcel is conditional: nrb's steward approves, the coordinator confirms."""
    asked = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests",
        headers=department.headers(purpose_text=None),
        json={"resource": "geo.parcel", "fields": fields, "purpose": PURPOSE, "legal_basis": "《不动产登记暂行条例》"},
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    decided = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests/{request_id}/decision",
        headers=mesh.bearer("nrb-steward"),
        json={"approve": True, "fields": fields},
    )
    assert decided.status_code == 200, decided.text
    confirmed = httpx.post(
        f"{mesh.gateway}/api/exchange/v1/share-requests/{request_id}/confirm", headers=mesh.bearer("bdb-coordinator")
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "granted"


def test_a_department_reads_a_masked_parcel_feature_through_the_gateway(mesh: Mesh) -> None:
    feature = new_parcel(mesh)
    department = Department(mesh)
    _grant_parcels(mesh, department, ["parcel_code", "land_use", "geometry"])
    headers = department.headers(purpose_text=PURPOSE)

    def read() -> httpx.Response | None:
        response = httpx.get(f"{mesh.gateway}/api/geo/v1/parcels/{feature['id']}", headers=headers)
        return response if response.status_code != 403 else None

    answer = eventually(read)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "type": "Feature",
        "id": feature["id"],
        "geometry": feature["geometry"],
        "properties": {"parcel_code": feature["id"], "land_use": "0701"},
    }
    assert answer.headers["content-type"].startswith("application/geo+json")
    listed = httpx.get(f"{mesh.gateway}/api/geo/v1/collections/parcels/items", params={"limit": 5}, headers=headers)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["features"]
    for item in page["features"]:
        assert set(item["properties"]) <= {"parcel_code", "land_use"}
    following = next(link for link in page["links"] if link["rel"] == "next")
    sealed = parse_qs(urlsplit(following["href"]).query)["cursor"][0]
    next_page = httpx.get(
        f"{mesh.gateway}/api/geo/v1/collections/parcels/items", params={"limit": 5, "cursor": sealed}, headers=headers
    )
    assert next_page.status_code == 200, next_page.text
    assert {item["id"] for item in next_page.json()["features"]}.isdisjoint({item["id"] for item in page["features"]})

    # Without geometry granted, a feature has none, and a query by location is refused.
    blind = Department(mesh)
    _grant_parcels(mesh, blind, ["parcel_code", "land_use"])
    blind_headers = blind.headers(purpose_text=PURPOSE)

    def read_blind() -> httpx.Response | None:
        response = httpx.get(f"{mesh.gateway}/api/geo/v1/parcels/{feature['id']}", headers=blind_headers)
        return response if response.status_code != 403 else None

    without = eventually(read_blind)
    assert without.json()["geometry"] is None
    located = httpx.get(f"{mesh.gateway}/api/geo/v1/parcels", params={"contains": "116.4,39.9"}, headers=blind_headers)
    assert located.status_code == 403
    assert located.json()["type"].endswith("/filter-not-granted")


def test_a_parcel_subscription_delivers_events_masked_to_the_grant(mesh: Mesh) -> None:
    department = Department(mesh)
    _grant_parcels(mesh, department, ["parcel_code", "land_use"])  # no geometry
    headers = department.headers(purpose_text=None)

    def subscribe() -> httpx.Response | None:
        response = httpx.post(
            f"{mesh.gateway}/api/exchange/v1/subscriptions",
            headers=headers,
            json={"resource": "geo.parcel", "delivery": "feed"},
        )
        return response if response.status_code == 201 else None

    subscription = eventually(subscribe).json()["id"]
    feature = new_parcel(mesh)

    def delivered() -> list[dict[str, Any]]:
        response = httpx.get(
            f"{mesh.gateway}/api/exchange/v1/subscriptions/{subscription}/events",
            params={"limit": 200, "wait": 2},
            headers=headers,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return [event for event in response.json()["items"] if event["subject"] == feature["id"]]

    (event,) = eventually(delivered, timeout=180)  # behind the demo records, on a busy machine
    assert event["type"] == "gov.onesource.geo.parcel.registered.v1"
    # The granted properties only: neither the geometry nor the ungranted description nor the computed area.
    assert event["data"]["record"] == {"parcel_code": feature["id"], "land_use": "0701"}
