"""The ``sdmx`` answer shape at the door: SDMX-JSON 2.0 and SDMX-CSV 2.0 data messages, masked to the grants.

A resource whose catalog entry says ``shape: sdmx`` (a macroeconomic dataflow) answers data queries with SDMX
data messages; the masking itself is the shared pure code of :mod:`onesource.registry.shapes.sdmx`. Here, the
door's part:

- the caller chooses the format with ``Accept`` (SDMX-CSV 2.0 when it names CSV, else SDMX-JSON 2.0), and the
  registry is asked for exactly that;
- embargoed observations reach a department only through a grant on the dataflow's pre-release resource (the
  resource id ending in ``-prerelease``): then the registry is asked for them (``X-OneSource-Prerelease:
  granted``), and masking keeps them; otherwise the registry leaves them out and masking drops any it finds;
- fields are components, the union of the grants' fields; a row scope applies to dimension values. Grants whose
  scopes name different dimensions cannot be merged into one scope: such a call is refused, not widened;
- SDMX-CSV does not say which columns are dimensions: they come from the dataflow's structure, asked of the
  registry once and kept;
- structure messages (``/v1/structure/…``) hold no observations and pass as they are; anything else that is not
  an SDMX data message is refused (502), never passed on. An answer the grants empty is 404, like no data.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from onesource.gateway.forwarding.errors import RecordNotFound, UnmaskableAnswer
from onesource.gateway.forwarding.upstream import Upstream
from onesource.gateway.grants.schemas import Grant
from onesource.kit.errors import Forbidden
from onesource.registry.shapes.sdmx import (
    CSV_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    TIME_DIMENSION,
    MaskedSdmx,
    UnmaskableSdmx,
    mask_sdmx_csv,
    mask_sdmx_json,
)

#: Query parameters of SDMX REST data queries: they select periods, vintages and layout, not records by field.
QUERY_PARAMETERS = frozenset(
    {
        "startPeriod",
        "endPeriod",
        "updatedAfter",
        "firstNObservations",
        "lastNObservations",
        "asOf",
        "includeHistory",
        "dimensionAtObservation",
    }
)
PRERELEASE_HEADER = b"x-onesource-prerelease"
PRERELEASE_SUFFIX = "-prerelease"
STRUCTURE_MEDIA_TYPE = "application/vnd.sdmx.structure+json"
#: How long the dimensions of a dataflow's structure are kept (for CSV answers).
STRUCTURE_SECONDS = 300.0


class ScopesNotMergeable(Forbidden):
    """The caller's grants scope rows by different dimensions: one answer cannot honour them together (403)."""

    type = "row-scopes-not-mergeable"
    title = "Row scopes cannot be combined"


def wants_csv(accept: str | None) -> bool:
    """Whether the caller asked for SDMX-CSV rather than SDMX-JSON (the default)."""
    return accept is not None and "csv" in accept.lower()


def prerelease_allowed(grants: Sequence[Grant]) -> bool:
    """Whether one of the grants is on a pre-release resource (embargoed observations may be returned)."""
    return any(grant.resource.endswith(PRERELEASE_SUFFIX) for grant in grants)


def request_headers(csv: bool, prerelease: bool) -> dict[bytes, bytes]:
    """The headers the registry is asked with, beside the door's usual ones."""
    headers = {b"accept": (CSV_MEDIA_TYPE if csv else JSON_MEDIA_TYPE).encode()}
    if prerelease:
        headers[PRERELEASE_HEADER] = b"granted"
    return headers


def merged_scope(grants: Sequence[Grant]) -> Mapping[str, tuple[str, ...]] | None:
    """One row scope honouring every grant: none if a grant has none, else the prefixes of their one dimension.

    Grants that scope different dimensions (or several each) would need an answer per grant; widening them into one
    scope could return rows none of them allows, so the call is refused (:class:`ScopesNotMergeable`).
    """
    scopes = [grant.row_scope for grant in grants]
    if not scopes or any(not scope for scope in scopes):
        return None
    names = {name for scope in scopes if scope for name in scope}
    if len(names) != 1 or any(scope is None or len(scope) != 1 for scope in scopes):
        raise ScopesNotMergeable(
            "your grants for this purpose limit rows by different dimensions; ask with one grant's purpose at a time"
        )
    name = names.pop()
    prefixes = tuple(dict.fromkeys(prefix for scope in scopes if scope for prefix in scope[name]))
    return {name: prefixes}


@dataclass(frozen=True, slots=True)
class SdmxAnswer:
    """A masked SDMX answer and what its audit entry says."""

    body: bytes
    media_type: str
    series_keys: tuple[str, ...]
    components: tuple[str, ...]


class StructureDimensions:
    """The dimension ids of dataflows' structures, in key order, asked of the registry and kept a while."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], tuple[float, tuple[str, ...]]] = {}

    def known(self, service: str, flow: str) -> tuple[str, ...] | None:
        """The dimensions of ``flow`` if learnt recently."""
        entry = self._known.get((service, flow))
        if entry is None or time.monotonic() - entry[0] > STRUCTURE_SECONDS:
            return None
        return entry[1]

    def learn(self, service: str, flow: str, structure: Upstream) -> tuple[str, ...]:
        """Read the dimensions from a structure answer, and keep them."""
        dimensions = dimensions_of(structure)
        self._known[(service, flow)] = (time.monotonic(), dimensions)
        return dimensions


def dimensions_of(structure: Upstream) -> tuple[str, ...]:
    """The dimension ids (the time dimension last) of the data structure in an SDMX-JSON structure message."""
    if structure.status != 200:
        raise UnmaskableAnswer(f"the registry answered {structure.status} for the dataflow's structure")
    try:
        message = json.loads(structure.body)
        components = message["data"]["dataStructures"][0]["dataStructureComponents"]["dimensionList"]
        dimensions = [dimension["id"] for dimension in components.get("dimensions", [])]
        dimensions += [dimension["id"] for dimension in components.get("timeDimensions", [])]
    except (ValueError, KeyError, IndexError, TypeError):
        raise UnmaskableAnswer("the registry's dataflow structure is not an SDMX-JSON structure message") from None
    if not dimensions or not all(isinstance(dimension, str) for dimension in dimensions):
        raise UnmaskableAnswer("the registry's dataflow structure names no dimensions")
    if TIME_DIMENSION not in dimensions:
        dimensions.append(TIME_DIMENSION)
    return tuple(dimensions)


def flow_of(path: str) -> str | None:
    """The dataflow a data query's path names (``/v1/data/{flow}[/{key}]``), else ``None``."""
    parts = path.strip("/").split("/")
    return parts[2] if len(parts) >= 3 and parts[:2] == ["v1", "data"] else None


def masked(
    upstream: Upstream,
    grants: Sequence[Grant],
    *,
    prerelease: bool,
    dimensions: Sequence[str] | None,
) -> SdmxAnswer | None:
    """The registry's SDMX answer as the grants see it; ``None`` for a structure message (passed as it is).

    404 when nothing is left; 502 for anything that is not an SDMX message masking understands.
    """
    media_type = upstream.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == STRUCTURE_MEDIA_TYPE:
        return None
    components = frozenset().union(*(grant.fields for grant in grants))
    scope = merged_scope(grants)
    try:
        result: MaskedSdmx
        if media_type == JSON_MEDIA_TYPE.split(";")[0]:
            result = mask_sdmx_json(json.loads(upstream.body), components, scope, prerelease)
            body = json.dumps(result.message, ensure_ascii=False, separators=(",", ":")).encode()
            answered = JSON_MEDIA_TYPE
        elif media_type in (CSV_MEDIA_TYPE.split(";")[0], "text/csv"):
            if dimensions is None:
                raise UnmaskableAnswer("the dataflow's dimensions are unknown, so its CSV cannot be masked")
            text = upstream.body.decode("utf-8")
            result = mask_sdmx_csv(text, components, scope, prerelease, dimensions=dimensions)
            body = str(result.message).encode()
            answered = CSV_MEDIA_TYPE
        else:
            raise UnmaskableAnswer(f"the registry answered {media_type or 'no media type'}, not an SDMX message")
    except (UnmaskableSdmx, ValueError) as error:
        raise UnmaskableAnswer(f"the registry's SDMX answer cannot be masked: {error}") from None
    if result.observations == 0:
        raise RecordNotFound("no observations at this path that your grants let you read")
    return SdmxAnswer(body, answered, result.series_keys, result.components)


def passed_structure(upstream: Upstream) -> tuple[bytes, str]:
    """A structure message, passed on as the registry wrote it."""
    return upstream.body, upstream.headers.get("content-type", STRUCTURE_MEDIA_TYPE)


def structure_path(flow: str) -> str:
    """The registry's path of a dataflow's structure."""
    return f"/v1/structure/dataflow/{flow}"


def audit_fields(answer: SdmxAnswer) -> tuple[str, ...]:
    """The components returned, as the catalog names fields (lower case)."""
    return tuple(sorted({component.lower() for component in answer.components}))


def header_value(headers: Any, name: str) -> str | None:
    """A request header's value, if sent."""
    value = headers.get(name)
    return str(value) if value is not None else None
