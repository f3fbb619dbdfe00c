"""Asking the exchange and the catalog directly, while this process's caches are still catching up.

Used only until the read models have caught up (see :mod:`onesource.gateway.readmodels.sync`): a data call then
asks the exchange for the caller's department's active grants (``GET /v1/grants``) and, when the resource cache is
not caught up either, the catalog for the resources that department provides or holds grants on, and for the
registries' owners (a resource covers only when its provider owns its registry). Both are asked
with the gateway's own token acting for the caller's department, so each answers only what that department may
see. Any failure is :class:`FallbackFailed`, and the data call is refused (503 ``grants-unknown``): fail closed.

A path covered only by resources the department neither provides nor holds grants on looks uncovered here
(404 rather than 403): the refusal differs, the outcome — no data — does not.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from onesource.gateway.grants import service as grants
from onesource.gateway.grants.schemas import Grant, GrantDocument
from onesource.gateway.resources import service as resources
from onesource.gateway.resources.schemas import Resource, ResourceDocument

logger = logging.getLogger(__name__)

#: Pages of 200 asked at most; a department with more active grants than this is not served by the fallback.
MAX_PAGES = 10
PAGE_SIZE = 200


class FallbackFailed(Exception):
    """The exchange or the catalog could not say (unreachable, slow, refusing, or answering nonsense)."""


async def _get(
    http: httpx.AsyncClient, url: str, token: str, params: dict[str, Any], deadline: float, *, missing_ok: bool = False
) -> Any:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FallbackFailed(f"no time left to ask {url}")
    try:
        async with asyncio.timeout(remaining):
            response = await http.get(
                url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=remaining
            )
    except (httpx.HTTPError, TimeoutError) as error:
        raise FallbackFailed(f"{url}: {error!r}") from None
    if response.status_code == 404 and missing_ok:
        return None
    if response.status_code != 200:
        raise FallbackFailed(f"{url} answered {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise FallbackFailed(f"{url} answered no JSON") from None


async def _pages(http: httpx.AsyncClient, url: str, token: str, params: dict[str, Any], deadline: float) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        paging: dict[str, Any] = {"limit": PAGE_SIZE, "cursor": cursor} if cursor else {"limit": PAGE_SIZE}
        page = await _get(http, url, token, {**params, **paging}, deadline)
        if not isinstance(page, dict) or not isinstance(page.get("items"), list):
            raise FallbackFailed(f"{url} answered no page")
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items
    raise FallbackFailed(f"{url} has more than {MAX_PAGES} pages")


async def grants_of(
    http: httpx.AsyncClient, exchange_url: str, token: str, department: str, timeout: float
) -> list[Grant]:
    """The department's active grants, as the exchange lists them."""
    deadline = time.monotonic() + timeout
    url = f"{exchange_url.rstrip('/')}/v1/grants"
    items = await _pages(http, url, token, {"department": department, "status": "active"}, deadline)
    found: list[Grant] = []
    for item in items:
        try:
            grant = grants.entry(GrantDocument.model_validate(item))
        except ValidationError as error:
            raise FallbackFailed(f"the exchange listed a grant the gateway cannot read: {error}") from None
        # The exchange filters by department already; this keeps a misbehaving answer from widening access.
        if grant is not None and grant.department == department:
            found.append(grant)
    return found


async def resources_for(
    http: httpx.AsyncClient,
    catalog_url: str,
    token: str,
    department: str,
    granted: Collection[str],
    timeout: float,
) -> list[Resource]:
    """The published resources ``department`` provides or holds grants on (``granted``), as the catalog has them."""
    deadline = time.monotonic() + timeout
    base = catalog_url.rstrip("/")
    provided = await _pages(http, f"{base}/v1/resources", token, {"provider": department}, deadline)
    ids = sorted({*granted, *(str(item["id"]) for item in provided if isinstance(item, dict) and "id" in item)})
    # A granted resource the catalog no longer shows (retired) is simply not covering anything.
    documents = await asyncio.gather(
        *(
            _get(http, f"{base}/v1/resources/{quote(resource_id, safe='')}", token, {}, deadline, missing_ok=True)
            for resource_id in ids
        )
    )
    found: list[Resource] = []
    for document in documents:
        if document is None:
            continue
        try:
            resource = resources.entry(ResourceDocument.model_validate(document))
        except ValidationError as error:
            raise FallbackFailed(f"the catalog answered a resource the gateway cannot read: {error}") from None
        if resource is not None:
            found.append(resource)
    return found


async def registry_owners(http: httpx.AsyncClient, catalog_url: str, token: str, timeout: float) -> dict[str, str]:
    """Every registry's owning department (service → department), as the catalog lists them."""
    deadline = time.monotonic() + timeout
    items = await _pages(http, f"{catalog_url.rstrip('/')}/v1/registries", token, {}, deadline)
    owners: dict[str, str] = {}
    for item in items:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("service"), str)
            or not isinstance(item.get("owner"), str)
        ):
            raise FallbackFailed("the catalog listed a registry the gateway cannot read")
        owners[item["service"]] = item["owner"]
    return owners
