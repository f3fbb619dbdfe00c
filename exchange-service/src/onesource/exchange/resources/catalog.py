"""Asking the catalog over HTTP for a resource the read model does not know yet (``GET /v1/resources/{id}``)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from onesource.exchange.resources.errors import CatalogUnavailable
from onesource.exchange.resources.schemas import ResourceDocument


@dataclass(frozen=True)
class CatalogClient:
    """The catalog's published resource API, called with the caller's own token."""

    http: httpx.AsyncClient
    base_url: str
    token: str | None

    async def resource(self, resource_id: str) -> ResourceDocument | None:
        """The resource document, or ``None`` when the catalog has no such resource."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        url = f"{self.base_url.rstrip('/')}/v1/resources/{quote(resource_id, safe='')}"
        try:
            response = await self.http.get(url, headers=headers, timeout=5.0)
        except httpx.HTTPError as error:
            raise CatalogUnavailable(f"cannot reach the catalog: {type(error).__name__}") from error
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise CatalogUnavailable(f"the catalog answered {response.status_code} for resource {resource_id!r}")
        try:
            return ResourceDocument.model_validate_json(response.content)
        except ValidationError as error:
            raise CatalogUnavailable(f"the catalog's answer for {resource_id!r} is not a resource") from error
