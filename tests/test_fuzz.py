"""Schema-driven fuzzing of the gateway's published OpenAPI on a running mesh: no input gets a 5xx.

Every operation the gateway documents (identity, audit, and the forwarding routes) is called with inputs that
schemathesis generates from the schema, as the admin, as a consumer department with a purpose, and without a
token; half of the calls carry NUL (U+0000) in one of their texts (a path or query parameter, a string of the
body). Bad input must get a 4xx problem; nothing may crash.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis

# Loaded here, not lazily deep in a fixture: CPython 3.11.7 can fail compiling this large module at a deep stack
# ("AST constructor recursion depth mismatch").
import schemathesis.specs.openapi.schemas
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Mesh, eventually
from tests.test_flow import Department
from tests.test_flow_ownership import mirror

EXAMPLES_PER_OPERATION = 25
#: Operations that change who can log in: fuzzing them would disable or re-key the clients the test calls with.
SPARED = {
    ("POST", "/api/identity/v1/clients/{client_id}/disable"),
    ("POST", "/api/identity/v1/clients/{client_id}/secret"),
}


@pytest.fixture
def gateway_schema(mesh: Mesh) -> Any:
    document = httpx.get(f"{mesh.gateway}/openapi.json").json()
    return schemathesis.openapi.from_dict(document)


def test_no_generated_call_gets_a_server_error(mesh: Mesh, gateway_schema: Any) -> None:
    callers = st.sampled_from(
        [
            mesh.bearer("admin"),
            mesh.bearer("mca-app", "%E6%9C%80%E4%BD%8E%E7%94%9F%E6%B4%BB%E4%BF%9D%E9%9A%9C"),
            mesh.bearer("psb-steward"),
            {},
        ]
    )
    failures: list[str] = []
    operations = 0
    for result in gateway_schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SPARED:
            continue
        operations += 1

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), headers=callers, data=st.data())
        def call(case: Any, headers: dict[str, str], data: st.DataObject) -> None:
            if data.draw(st.booleans(), label="with NUL"):
                with_nul(case, data)
            response = case.call(base_url=mesh.gateway, headers=headers, timeout=30)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query or ''} -> {response.status_code} "
                    f"{response.text[:300]}"
                )

        call()
    assert operations >= 10, "the gateway's schema lists its operations"
    assert failures == [], "\n".join(failures[:20])


def with_nul(case: Any, data: st.DataObject) -> None:
    """Put NUL into one text the case sends: a path or query parameter, or a string anywhere in its JSON body."""
    slots: list[tuple[Any, Any]] = [
        (parameters, name)
        for parameters in (case.path_parameters, case.query)
        if isinstance(parameters, dict)
        for name, value in parameters.items()
        if isinstance(value, str)
    ]
    pending = [case.body] if isinstance(case.body, dict | list) else []
    while pending:
        container = pending.pop()
        for key, value in container.items() if isinstance(container, dict) else enumerate(container):
            if isinstance(value, str):
                slots.append((container, key))
            elif isinstance(value, dict | list):
                pending.append(value)
    if not slots:
        return
    container, key = data.draw(st.sampled_from(slots), label="NUL goes into")
    text = container[key]
    at = data.draw(st.integers(0, len(text)), label="at")
    container[key] = text[:at] + "\x00" + text[at:]


def known_provider(call: Callable[[], Any]) -> list[Any]:
    """``[call()]``, or ``[]`` if it answered the catalog's 409 for a department it has not heard of yet."""
    response = call()
    if response.status_code == 409 and response.json().get("type", "").endswith("/unknown-provider"):
        return []
    return [response]


def test_nul_is_unstorable_input_wherever_it_is_sent(mesh: Mesh, gateway_schema: Any) -> None:
    """Issue 20 §5: each of these answered 500; now every one is 422 ``unstorable-input``."""
    registrar = mesh.bearer("psb-registrar", "registry-maintenance")
    consumer = mesh.bearer("mca-app", quote("最低生活保障资格审核"))
    rogue = Department(mesh)
    persons = gateway_schema["/api/{service}/{path}"]["GET"]
    cases = [
        (persons.Case(path_parameters={"service": "population", "path": "v1/persons/a\x00b"}), registrar),
        (persons.Case(path_parameters={"service": "population", "path": "v1/persons/a\x00b"}), consumer),
        (
            persons.Case(path_parameters={"service": "population", "path": "v1/persons"}, query={"name": "a\x00b"}),
            registrar,
        ),
        (
            persons.Case(path_parameters={"service": "population", "path": "v1/persons"}, query={"name": "a\x00b"}),
            consumer,
        ),
        (
            gateway_schema["/api/{service}/{path}"]["POST"].Case(
                path_parameters={"service": "catalog", "path": "v1/resources"},
                body={**mirror(rogue, f"{rogue.code}.nul", [], service=None), "name": "人口\x00信息"},
                media_type="application/json",
            ),
            rogue.headers("steward", None),
        ),
        (
            gateway_schema["/api/identity/v1/departments"]["POST"].Case(
                body={"code": "nul-probe", "name": "民政\x00局", "uscc": "11110000000011068L"}
            ),
            mesh.bearer("admin"),
        ),
        (
            gateway_schema["/api/identity/v1/clients"]["POST"].Case(
                body={"department": "mca", "name": "a\x00b", "roles": ["consumer"]}
            ),
            mesh.bearer("admin"),
        ),
    ]
    for case, headers in cases:
        # The catalog learns of the department just registered within seconds (from identity's events); until then
        # it answers 409 unknown-provider before the body reaches the database.
        call = partial(case.call, base_url=mesh.gateway, headers=headers, timeout=30)
        response = eventually(partial(known_provider, call))[0]
        assert response.status_code == 422, f"{case.method} {case.formatted_path} {case.query}: {response.text}"
        assert response.json()["type"].endswith("/unstorable-input"), response.text
