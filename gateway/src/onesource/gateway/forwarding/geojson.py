"""The ``geojson`` answer shape at the door: GeoJSON Features and FeatureCollections masked to the grants.

The masking is the shared pure code of :mod:`onesource.registry.shapes.geojson` (fields are the members of
``properties`` plus ``geometry``; row scope applies to ``properties``); here, the door's part:

- a feature is returned with the union of the fields of the grants whose row scope covers it (the record rule,
  :class:`~onesource.gateway.forwarding.masking.Mask`), and its ``id`` only when the key field is among them;
- pages: a ``next_cursor`` and the cursor in an OGC API ``next`` link are sealed for the caller's list, as for
  records; the registry's links are relative, so they resolve under ``/api/<service>/`` unchanged;
- spatial query parameters (``bbox``, ``contains``, ``near`` with ``radius``) select records by where they are:
  they are allowed only to a caller whose grants include ``geometry``; ``crs`` and ``datetime`` only choose how
  answers are written or which version of the list;
- anything that is not GeoJSON the shape understands is refused (502), never passed on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from onesource.gateway.forwarding.errors import RecordNotFound, UnmaskableAnswer
from onesource.gateway.forwarding.masking import Mask
from onesource.gateway.forwarding.upstream import Upstream
from onesource.registry.shapes.geojson import GEOMETRY, MaskedGeoJSON, mask_each

ACCEPT = b"application/geo+json, application/json;q=0.9"
MEDIA_TYPE = "application/geo+json"
#: Parameters that choose how an answer is written (coordinates for web maps, a point in time), not records.
PRESENTATION_PARAMETERS = frozenset({"crs", "datetime"})
#: Parameters that select records by their location: they reveal ``geometry`` and need it granted.
SPATIAL_PARAMETERS = frozenset({"bbox", "contains", "near", "radius"})


def allowed_parameters(fields: Collection[str]) -> frozenset[str]:
    """The query parameters beyond paging and granted fields a caller with ``fields`` may use."""
    return PRESENTATION_PARAMETERS | (SPATIAL_PARAMETERS if GEOMETRY in fields else frozenset())


def sealed_link(seal: Callable[[str], str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Rewrite a link so that a ``cursor`` in its query is the caller's sealed cursor, not the registry's."""

    def rewrite(link: dict[str, Any]) -> dict[str, Any]:
        href = link.get("href")
        if not isinstance(href, str) or "cursor=" not in href:
            return link
        parts = urlsplit(href)
        query = [(name, seal(value) if name == "cursor" else value) for name, value in parse_qsl(parts.query)]
        return {**link, "href": urlunsplit(parts._replace(query=urlencode(query)))}

    return rewrite


def masked(
    upstream: Upstream, mask: Mask, key: str | None, seal: Callable[[str], str]
) -> tuple[MaskedGeoJSON, tuple[str, ...]]:
    """The registry's GeoJSON answer as the grants see it, and the ids of the grants that let something through.

    404 when it is one feature no grant covers; 502 when it is not GeoJSON the shape understands.
    """
    media_type = upstream.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (MEDIA_TYPE, "application/json"):
        raise UnmaskableAnswer(f"the registry answered {media_type or 'no media type'}, not GeoJSON")
    try:
        document = json.loads(upstream.body)
    except ValueError:
        raise UnmaskableAnswer("the registry's answer is not valid JSON") from None
    grant_ids: set[str] = set()

    def visible(properties: Mapping[str, Any]) -> Collection[str] | None:
        return mask.fields_for(properties, grant_ids)

    try:
        result = mask_each(document, visible, key=key, row_scoped=mask.row_scoped, link=sealed_link(seal))
    except ValueError as error:
        raise UnmaskableAnswer(f"the registry's GeoJSON cannot be masked: {error}") from None
    if result is None:
        raise RecordNotFound("no feature at this path that your grants let you read")
    cursor = result.document.get("next_cursor")
    if isinstance(cursor, str):
        result.document["next_cursor"] = seal(cursor)
    if result.collection and not result.document["features"]:
        # An empty page never says whether more records exist (it would tell what the row scope hides).
        if "next_cursor" in result.document:
            result.document["next_cursor"] = None
        if "links" in result.document:
            result.document["links"] = [link for link in result.document["links"] if link.get("rel") != "next"]
    return result, tuple(sorted(grant_ids))
