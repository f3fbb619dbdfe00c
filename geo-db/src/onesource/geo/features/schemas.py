"""Documents of OGC API – Features – Part 1: Core (OGC 17-069r4): landing page, conformance, collections, items.

Links are relative references (RFC 3986 §4.2): they resolve against the URL the client called, so they lead to the
same place whether the registry is called directly (``/v1/…``) or through the gateway (``/api/geo/v1/…``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from onesource.geo.addresses.schemas import AddressFeature
from onesource.geo.parcels.schemas import ParcelFeature


class Link(BaseModel):
    """A link (RFC 8288 as JSON): where, what relation, which media type."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    href: str
    """The target, relative to the document's own URL."""
    rel: str
    """The relation: ``self``, ``next``, ``items``, ``collection``, ``conformance``, ``data``, ``service-desc`` …"""
    type: str | None = None
    """The target's media type."""
    title: str | None = None
    """What the target is."""


class LandingPage(BaseModel):
    """The API's landing page (/req/core/root-success)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    title: str
    """The API's title."""
    description: str
    """What it serves."""
    links: list[Link]
    """The API definition, the conformance declaration and the collections."""


class Conformance(BaseModel):
    """The conformance classes the API implements (/req/core/conformance-success)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    conformsTo: list[str]
    """Conformance class URIs."""


class Extent(BaseModel):
    """The spatial extent of a collection."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    spatial: dict[str, Any]
    """``{"bbox": [[minlon, minlat, maxlon, maxlat]], "crs": CRS84}``."""


class Collection(BaseModel):
    """One feature collection (/req/core/sfc-md-success)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    id: str
    """``addresses`` or ``parcels``."""
    title: str
    """Its title."""
    description: str
    """What its features are."""
    itemType: Literal["feature"] = "feature"
    """Always ``feature``."""
    crs: list[str]
    """The coordinate reference systems of its answers."""
    extent: Extent
    """Where its features lie."""
    links: list[Link]
    """Itself and its items."""


class Collections(BaseModel):
    """Every feature collection (/req/core/fc-md-success)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    links: list[Link]
    """This document."""
    collections: list[Collection]
    """The collections."""


class ItemsPage(BaseModel):
    """A page of a collection's items: a GeoJSON FeatureCollection with OGC's members."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    type: Literal["FeatureCollection"]
    """Always ``FeatureCollection``."""
    features: list[AddressFeature] | list[ParcelFeature]
    """The items of this page."""
    links: list[Link]
    """``self``, ``next`` (when there are more), ``collection``."""
    timeStamp: str
    """When the answer was made (RFC 3339)."""
    numberReturned: int
    """How many features this page holds."""
