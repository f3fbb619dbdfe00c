"""Every service honours the gateway's token revocation (issue 20 §2), not only the gateway.

Before, a disabled client's token, refused by the gateway, still read whole records straight from a registry's port
(with no audit entry), and a rotated or re-enabled client's old tokens still worked at the exchange. Each service's
verifier now fetches the gateway's revocation list; a revoked token is refused within about a second. (In
production the registries are also out of reach of everything but the gateway: deploy/k8s/networkpolicy.yaml.)
"""

from __future__ import annotations

import time

import httpx

from tests.conftest import Mesh, eventually
from tests.test_flow import Department, some_person


def registered_client(mesh: Mesh, department: str, roles: list[str]) -> tuple[str, str]:
    created = httpx.post(
        f"{mesh.gateway}/api/identity/v1/clients",
        headers=mesh.bearer("admin"),
        json={"department": department, "name": "revocation probe", "roles": roles},
    )
    assert created.status_code == 201, created.text
    return created.json()["client_id"], created.json()["client_secret"]


def admin_action(mesh: Mesh, client_id: str, action: str) -> httpx.Response:
    response = httpx.post(f"{mesh.gateway}/api/identity/v1/clients/{client_id}/{action}", headers=mesh.bearer("admin"))
    assert response.status_code == 200, response.text
    return response


def next_second() -> None:
    """``iat`` has whole seconds, and a token from a revocation's own second is accepted: act in a later one."""
    time.sleep(1.05 - time.time() % 1)


def test_a_disabled_clients_token_reads_nothing_straight_from_a_registry(mesh: Mesh) -> None:
    client_id, secret = registered_client(mesh, "psb", ["consumer"])
    headers = {"Authorization": f"Bearer {mesh.token(client_id, secret)}"}
    population = mesh.document["services"]["population"]
    person = some_person(mesh, 6)
    direct = f"{population}/v1/persons/{person['id_number']}"
    assert httpx.get(direct, headers=headers).status_code == 200  # psb's own client, straight at its registry
    next_second()
    admin_action(mesh, client_id, "disable")
    assert httpx.get(f"{mesh.gateway}/api/catalog/v1/registries", headers=headers).status_code == 401
    refused = eventually(lambda: (response := httpx.get(direct, headers=headers)).status_code == 401 and response)
    assert refused.headers["content-type"] == "application/problem+json"
    assert person["name"] not in refused.text


def test_rotated_and_re_enabled_clients_old_tokens_are_refused_by_the_exchange(mesh: Mesh) -> None:
    department = Department(mesh)
    exchange = mesh.document["services"]["exchange"]
    client_id, secret = registered_client(mesh, department.code, ["consumer"])
    before_rotation = {"Authorization": f"Bearer {mesh.token(client_id, secret)}"}
    assert httpx.get(f"{exchange}/v1/grants", headers=before_rotation).status_code == 200
    next_second()
    secret = admin_action(mesh, client_id, "secret").json()["client_secret"]
    eventually(lambda: httpx.get(f"{exchange}/v1/grants", headers=before_rotation).status_code == 401)

    before_disabling = {"Authorization": f"Bearer {mesh.token(client_id, secret)}"}
    assert httpx.get(f"{exchange}/v1/grants", headers=before_disabling).status_code == 200
    next_second()
    admin_action(mesh, client_id, "disable")
    admin_action(mesh, client_id, "enable")
    eventually(lambda: httpx.get(f"{exchange}/v1/grants", headers=before_disabling).status_code == 401)
    fresh = {"Authorization": f"Bearer {mesh.token(client_id, secret)}"}
    assert httpx.get(f"{exchange}/v1/grants", headers=fresh).status_code == 200
    assert httpx.get(f"{exchange}/v1/grants", headers=before_rotation).status_code == 401
