"""Schema-driven fuzzing of the gateway's published OpenAPI on a running mesh: no input gets a 5xx.

Every operation the gateway documents (identity, audit, and the forwarding routes) is called with inputs that
schemathesis generates from the schema, as the admin, as a consumer department with a purpose, and without a
token. Bad input must get a 4xx problem; nothing may crash.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis

# Loaded here, not lazily deep in a fixture: CPython 3.11.7 can fail compiling this large module at a deep stack
# ("AST constructor recursion depth mismatch").
import schemathesis.specs.openapi.schemas
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Mesh

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
        @given(case=operation.as_strategy(), headers=callers)
        def call(case: Any, headers: dict[str, str]) -> None:
            response = case.call(base_url=mesh.gateway, headers=headers, timeout=30)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query or ''} -> {response.status_code} "
                    f"{response.text[:300]}"
                )

        call()
    assert operations >= 10, "the gateway's schema lists its operations"
    assert failures == [], "\n".join(failures[:20])
