"""The door's part of the sdmx answer shape: format, pre-release access, merged row scopes, structures."""

from __future__ import annotations

import json

import pytest

from onesource.gateway.forwarding import sdmx
from onesource.gateway.forwarding.errors import UnmaskableAnswer
from onesource.gateway.forwarding.upstream import Upstream
from onesource.gateway.grants.schemas import Grant


def grant(resource: str = "macroeconomy.gdp-q", scope: dict[str, tuple[str, ...]] | None = None) -> Grant:
    return Grant(
        id=f"g-{resource}-{scope}",
        department="mca",
        resource=resource,
        fields=frozenset({"ref_area", "obs_value"}),
        purpose="p",
        row_scope=scope,
        valid_from=0,
        valid_until=2e9,
    )


def test_the_caller_chooses_csv_by_naming_it_and_gets_json_otherwise() -> None:
    assert sdmx.wants_csv("application/vnd.sdmx.data+csv;version=2.0.0")
    assert sdmx.wants_csv("text/csv")
    assert not sdmx.wants_csv("application/vnd.sdmx.data+json;version=2.0.0")
    assert not sdmx.wants_csv(None)
    assert sdmx.request_headers(csv=True, prerelease=False) == {b"accept": sdmx.CSV_MEDIA_TYPE.encode()}


def test_embargoed_data_is_asked_for_only_under_a_grant_on_the_prerelease_resource() -> None:
    assert not sdmx.prerelease_allowed([grant()])
    assert sdmx.prerelease_allowed([grant(), grant("macroeconomy.gdp-q-prerelease")])
    assert sdmx.request_headers(csv=False, prerelease=True)[b"x-onesource-prerelease"] == b"granted"
    assert b"x-onesource-prerelease" not in sdmx.request_headers(csv=False, prerelease=False)


def test_row_scopes_merge_only_when_they_scope_one_and_the_same_dimension() -> None:
    assert sdmx.merged_scope([grant(scope={"ref_area": ("33",)}), grant()]) is None, "an unscoped grant sees all"
    merged = sdmx.merged_scope([grant(scope={"ref_area": ("33",)}), grant(scope={"ref_area": ("11", "33")})])
    assert merged == {"ref_area": ("33", "11")}
    with pytest.raises(sdmx.ScopesNotMergeable):
        sdmx.merged_scope([grant(scope={"ref_area": ("33",)}), grant(scope={"freq": ("Q",)})])
    with pytest.raises(sdmx.ScopesNotMergeable):  # one scope on two dimensions is an AND: a union would widen it
        sdmx.merged_scope([grant(scope={"ref_area": ("33",), "freq": ("Q",)}), grant(scope={"ref_area": ("11",)})])


def test_the_dimensions_of_a_structure_come_in_key_order_with_the_time_dimension_last() -> None:
    message = {
        "data": {
            "dataStructures": [
                {
                    "dataStructureComponents": {
                        "dimensionList": {
                            "dimensions": [{"id": "FREQ"}, {"id": "REF_AREA"}, {"id": "INDICATOR"}],
                            "timeDimensions": [{"id": "TIME_PERIOD"}],
                        }
                    }
                }
            ]
        }
    }
    answer = Upstream(200, json.dumps(message).encode(), {"content-type": sdmx.STRUCTURE_MEDIA_TYPE})
    assert sdmx.dimensions_of(answer) == ("FREQ", "REF_AREA", "INDICATOR", "TIME_PERIOD")
    with pytest.raises(UnmaskableAnswer):
        sdmx.dimensions_of(Upstream(200, b'{"data": {}}', {}))
    with pytest.raises(UnmaskableAnswer):
        sdmx.dimensions_of(Upstream(404, b"{}", {}))


def test_an_answer_that_is_not_an_sdmx_message_is_refused() -> None:
    with pytest.raises(UnmaskableAnswer):
        sdmx.masked(
            Upstream(200, b"{}", {"content-type": "application/json"}), [grant()], prerelease=False, dimensions=None
        )
    with pytest.raises(UnmaskableAnswer):
        sdmx.masked(
            Upstream(200, b"STRUCTURE,X\r\n", {"content-type": sdmx.CSV_MEDIA_TYPE}),
            [grant()],
            prerelease=False,
            dimensions=None,
        )


def test_a_data_query_names_its_dataflow() -> None:
    assert sdmx.flow_of("/v1/data/GDP_Q/Q.330000.GDP.CUR") == "GDP_Q"
    assert sdmx.flow_of("/v1/data/GDP_Q") == "GDP_Q"
    assert sdmx.flow_of("/v1/structure/dataflow/GDP_Q") is None
