"""The one door: management calls pass through; data calls are checked, forwarded, masked and audited.

A data call (``/api/<registry>/<path>``) is checked in this order, and the first check that fails answers:

0. 400 ``unsafe-path`` — a segment that is ``.`` or ``..``, or holds ``/ ? # %`` or a backslash once decoded
   (:mod:`.paths`);
   422 ``unstorable-input`` — NUL in the path; 404 ``unknown-service`` — no such service behind the gateway;
1. 401 — no valid bearer token (:func:`authenticate_caller`, the one place data calls authenticate);
2. 429 ``rate-limited`` — the client's token bucket is empty (``Retry-After``);
3. 400 ``purpose-required`` — no ``X-OneSource-Purpose``; 431 ``purpose-too-long`` — longer than a grant's may be;
4. 413 ``content-too-large`` — body over ``max_body_bytes`` (a ``POST`` declared larger, or chunked, may be an
   owner's upload: it is read, or streamed, after step 6); 413 ``page-too-large`` — ``limit`` over ``max_page_size``;
5. 503 ``grants-unknown`` — the caches are still catching up and asking the exchange and catalog failed;
6. 404 ``not-covered`` — no published resource covers the path (the registry's owner is still forwarded: its own
   endpoints that no resource describes, such as bulk imports, are its business; a large body there is streamed,
   up to ``max_upload_bytes``);
7. the provider of the covering resources (the owner) is forwarded with its own token, any method, unmasked;
8. 405 — anyone else only reads (GET, HEAD);
9. 403 ``no-grant`` — no grant in force on any covering resource; 403 ``purpose-mismatch`` — none for this purpose;
10. forwarded as a GET with the gateway's own token acting for the caller's department, and the answer masked to
    the grants for that purpose (:mod:`.masking`); a single record outside every grant's row scope is 404
    ``record-not-found``, exactly as an absent record is.

Every data call, refusals included, ends with one audit entry committed before the answer leaves; if it cannot be
committed the caller gets 503 ``audit-unavailable`` and no data.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

import httpx
from fastapi import Request, Response
from starlette.datastructures import Headers

from onesource.gateway.addresses import caller_address
from onesource.gateway.audit.entry import AuditEntry, AuditRecorder
from onesource.gateway.audit.errors import AuditUnavailable
from onesource.gateway.forwarding import fallback, geojson, sdmx
from onesource.gateway.forwarding.cursors import CursorSeal
from onesource.gateway.forwarding.errors import (
    FilterNotGranted,
    GrantsUnknown,
    MethodNotAllowed,
    NoGrant,
    NotCovered,
    PurposeMismatch,
    PurposeRequired,
    PurposeTooLong,
    RecordNotFound,
    UnknownService,
    UnmaskableAnswer,
)
from onesource.gateway.forwarding.limits import (
    BodyDigest,
    TokenBuckets,
    check_page_size,
    declared_length,
    read_body,
    streamed_body,
)
from onesource.gateway.forwarding.masking import Mask, Masked
from onesource.gateway.forwarding.tokens import GatewayTokens
from onesource.gateway.forwarding.upstream import Upstream, Upstreams
from onesource.gateway.grants.index import GrantIndex
from onesource.gateway.grants.schemas import Grant
from onesource.gateway.readmodels.sync import ReadModels
from onesource.gateway.resources.matching import Coverage, ResourceIndex
from onesource.gateway.resources.schemas import Resource
from onesource.gateway.settings import Settings
from onesource.kit.auth import GATEWAY_ROLE, Principal, TokenVerifier
from onesource.kit.errors import ServiceError, Unauthorized, problem_response

logger = logging.getLogger(__name__)

#: Names under ``/api/`` that the gateway answers itself, never forwarded.
RESERVED = frozenset({"identity", "audit"})
#: Request headers passed on to the service (lower case, as ASGI carries them).
FORWARDED_REQUEST_HEADERS = frozenset(
    {
        b"authorization",
        b"content-type",
        b"accept",
        b"if-match",
        b"idempotency-key",
        b"x-onesource-purpose",
    }
)
#: Response headers passed back to the caller (hop-by-hop and internal headers are dropped). ``X-Request-Id`` is
#: not among them: the gateway's middleware answers it already, and it is the id the service was sent.
#: Headers of an error answer passed back to a non-owner: never ``ETag`` or ``Location``, which describe records.
FORWARDED_ERROR_HEADERS = ("content-type", "retry-after")
READ_METHODS = frozenset({"GET", "HEAD"})
JSON_MEDIA_TYPE = "application/json"
JSON = JSON_MEDIA_TYPE.encode()


@dataclass(frozen=True, slots=True)
class Door:
    """What a call through the gateway uses, as the app holds it (looked up per call: tests swap parts of it)."""

    settings: Settings
    http: httpx.AsyncClient
    """The kit's client, for the grants fallback."""
    upstreams: Upstreams
    """The client of the forwarded calls."""
    buckets: TokenBuckets
    cursors: CursorSeal
    tokens: GatewayTokens
    read_models: ReadModels
    audit: AuditRecorder | None
    structures: sdmx.StructureDimensions
    """The dimensions of dataflows' structures (to mask SDMX-CSV answers)."""


def door_of(request: Request) -> Door:
    """The running app's door."""
    state = request.app.state
    return Door(
        settings=state.settings,
        http=state.http,
        upstreams=state.upstreams,
        buckets=state.rate_limits,
        cursors=state.cursor_seal,
        tokens=state.gateway_tokens,
        read_models=state.read_models,
        audit=getattr(state, "audit", None),
        structures=state.sdmx_structures,
    )


@dataclass(frozen=True, slots=True)
class Call:
    """One call to ``/api/<service>/<path>``, as the router parsed it."""

    method: str
    service: str
    path: str
    """The service's path, decoded (as the service routes it), starting with ``/``."""
    raw_path: str
    """The service's path as the caller sent it (still percent-encoded), starting with ``/``."""
    query: str
    """The raw query string."""
    target: str
    """The gateway path with its query string, as sent (``/api/population/v1/persons?limit=5``)."""
    headers: Headers
    request_id: str
    arrived: datetime
    started: float
    """``time.perf_counter()`` at arrival."""
    refusal: ServiceError | None = None
    """Why the path cannot be forwarded at all (unsafe, unstorable): the call's answer, audited as a data call."""


@dataclass(slots=True)
class Trail:
    """What the audit entry of a data call says, filled in as the call proceeds."""

    principal: Principal | None = None
    purpose: str | None = None
    body: bytes = b""
    digest: BodyDigest = field(default_factory=BodyDigest)
    """Of the body as read or streamed, for the request hash."""
    resources: tuple[str, ...] = ()
    grant_ids: tuple[str, ...] = ()
    record_keys: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()


def is_management(call: Call, settings: Settings) -> bool:
    """Whether ``call`` is a management call (catalog, exchange, health probes) rather than a data call.

    Only for a service behind the gateway: a call naming anything else is refused as a data call, and so audited.
    """
    if call.service in RESERVED or call.service not in settings.service_urls:
        return False
    return call.service in settings.management_services or call.path in settings.probe_paths


def target_url(service_urls: dict[str, str], service: str, raw_path: str, query: str) -> str:
    """The service's URL for ``raw_path`` (percent-encoded, as :func:`.paths.parse` made it)."""
    base = service_urls.get(service) if service not in RESERVED else None
    if base is None:
        raise UnknownService(f"no service named {service!r} is behind the gateway", service=service)
    url = f"{base.rstrip('/')}/{raw_path.lstrip('/')}"
    return f"{url}?{query}" if query else url


def check_service(call: Call, settings: Settings) -> None:
    """404 ``unknown-service`` unless a service of that name is behind the gateway."""
    if call.service in RESERVED or call.service not in settings.service_urls:
        raise UnknownService(f"no service named {call.service!r} is behind the gateway", service=call.service)


def passed_headers(
    headers: Headers, request_id: str, *, replace: dict[bytes, bytes] | None = None
) -> list[tuple[bytes, bytes]]:
    """The caller's headers the service gets, and the request id the gateway uses.

    Bytes, as they came: a purpose need not be ASCII. ``replace`` sets headers instead of the caller's.
    """
    replace = replace or {}
    outgoing = [
        (name, value) for name, value in headers.raw if name in FORWARDED_REQUEST_HEADERS and name not in replace
    ]
    outgoing.extend(replace.items())
    outgoing.append((b"x-request-id", request_id.encode()))
    return outgoing


async def authenticate_caller(request: Request) -> Principal:
    """The verified caller; 401 without a valid bearer token. Every call through the door authenticates here."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a bearer token is required")
    # The gateway's verifier: its own keys, and the revocation list of disabled and rotated clients.
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(token)
    if principal.has_role(GATEWAY_ROLE):
        # The gateway's own tokens go to registries for a caller; one coming back in is a replay, not a client.
        raise Unauthorized("the gateway's own tokens are not accepted from callers")
    request.state.principal = principal
    return principal


def purpose_of(headers: Headers) -> str | None:
    """The stated purpose: ``X-OneSource-Purpose``, percent-decoded (UTF-8), as grants name it; ``None`` if blank."""
    sent = headers.get("x-onesource-purpose")
    return None if sent is None else _decoded_purpose(sent)


@functools.lru_cache(maxsize=1024)
def _decoded_purpose(sent: str) -> str | None:
    """A purpose as sent, decoded (a department states the same few purposes on every call: decoded once each)."""
    try:
        text = sent.encode("latin-1").decode("utf-8")  # ASGI headers are bytes; Starlette decodes them as Latin-1
    except UnicodeError:
        text = sent
    return unquote(text).strip() or None


def request_hash(method: str, target: str, purpose: str | None, body: BodyDigest) -> str:
    """SHA-256 hex over method, path with query, purpose and the body's SHA-256 and size, each length-prefixed.

    Length prefixes keep any part from shifting into the next; the body enters by its digest, which a streamed
    upload gives without being held whole.
    """
    digest = hashlib.sha256()
    for part in (
        method.encode(),
        target.encode(),
        (purpose or "").encode(),
        body.digest(),
        body.size.to_bytes(8, "big"),
    ):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def problem(request: Request, error: ServiceError) -> Response:
    """``error`` as RFC 9457 problem JSON (what the kit's handler would answer, but here, before the audit entry)."""
    return problem_response(
        request,
        status=error.status,
        slug=error.type,
        title=error.title,
        detail=error.detail,
        headers=error.headers or None,
        **error.extensions,
    )


async def answer_management_call(request: Request, call: Call, door: Door) -> Response:
    """Forward a management call with the caller's own token (the service checks it), within rate and size limits."""
    if "authorization" in call.headers:
        # A token the gateway refuses (forged, expired, revoked: its client disabled or re-keyed) goes no further,
        # even where the service alone would still accept it.
        bucket = (await authenticate_caller(request)).client_id
    else:
        # Anonymous calls (health probes; the service refuses the rest); their bucket is the caller's address.
        bucket = f"address:{caller_address(request.scope, door.settings.trusted_proxies)}"
    door.buckets.take(bucket)
    url = target_url(door.settings.service_urls, call.service, call.raw_path, call.query)
    body = await read_body(request, door.settings.max_body_bytes)
    upstream = await door.upstreams.send(
        call.method,
        url,
        passed_headers(call.headers, call.request_id),
        body,
        service=call.service,
        timeout=door.settings.upstream_timeout_seconds,
    )
    return Response(upstream.body, status_code=upstream.status, headers=upstream.headers)


async def answer_data_call(request: Request, call: Call, door: Door) -> Response:
    """Check, forward, mask and audit one data call; the audit entry is committed before the answer is returned."""
    trail = Trail()
    try:
        response = await _data_call(request, call, door, trail)
    except ServiceError as error:
        response = problem(request, error)
    except Exception:  # a defect must not leave a data call unaudited: it is answered 500, and recorded so
        logger.exception("data call %s %s failed", call.method, call.target)
        response = problem(request, ServiceError("the gateway failed to process the call; quote the request id"))
    principal = trail.principal
    entry = AuditEntry(
        time=call.arrived,
        request_id=call.request_id,
        client_id=principal.client_id if principal is not None else None,
        department=principal.department if principal is not None else None,
        purpose=trail.purpose,
        method=call.method,
        path=call.target,
        status=response.status_code,
        latency_ms=(time.perf_counter() - call.started) * 1000,
        request_hash=request_hash(call.method, call.target, trail.purpose, trail.digest),
        resources=trail.resources,
        grant_ids=trail.grant_ids,
        record_keys=trail.record_keys,
        fields=trail.fields,
    )
    try:
        if door.audit is None:
            raise AuditUnavailable("the audit log is not running")
        await door.audit.record(entry)
    except Exception as error:  # whatever failed, the entry is not committed: no data leaves (fail closed)
        if not isinstance(error, AuditUnavailable):
            logger.error("audit entry of %s %s not recorded: %r", call.method, call.target, error)
        return problem(request, error if isinstance(error, AuditUnavailable) else AuditUnavailable())
    return response


async def _data_call(request: Request, call: Call, door: Door, trail: Trail) -> Response:
    settings = door.settings
    if call.refusal is not None:
        raise call.refusal
    check_service(call, settings)
    principal = trail.principal = await authenticate_caller(request)
    door.buckets.take(principal.client_id)
    url = target_url(settings.service_urls, call.service, call.raw_path, call.query)
    purpose = purpose_of(call.headers)
    if purpose is None:
        raise PurposeRequired("data calls state their purpose in X-OneSource-Purpose (percent-encoded UTF-8)")
    if len(purpose) > settings.max_purpose_length:
        trail.purpose = purpose[: settings.max_purpose_length] + "…"  # the audit entry keeps its start only
        raise PurposeTooLong(
            f"the purpose has {len(purpose)} characters; a grant's purpose has at most {settings.max_purpose_length}"
        )
    trail.purpose = purpose
    # A POST too large to hold may be an owner's upload (a bulk import): which, the catalog says, below.
    upload = call.method == "POST" and _maybe_upload(request, settings)
    if not upload:
        trail.body = await read_body(request, settings.max_body_bytes, trail.digest)
    if call.query:  # parsed only when there is one: most reads are by key
        check_page_size(request.query_params.getlist("limit"), settings.max_page_size)

    resources, grants = await _knowledge(principal, door)
    coverage = resources.cover(call.service, call.path)
    if coverage is None:
        if resources.owner_of(call.service) == principal.department:
            if upload:
                return await _stream_for_owner(request, call, url, trail, door)
            return await _forward_for_owner(call, url, trail, door, None, trail.body)
        raise NotCovered(f"no published catalog resource covers {call.service} {call.path}")
    if upload:  # a resource's path takes records, not files: the usual limit
        trail.body = await read_body(request, settings.max_body_bytes, trail.digest)
    trail.resources = tuple(resource.id for resource in coverage.resources)
    if coverage.requested_key is not None:
        trail.record_keys = (coverage.requested_key,)
    if all(resource.provider == principal.department for resource in coverage.resources):
        return await _forward_for_owner(call, url, trail, door, coverage, trail.body)

    if call.method not in READ_METHODS:
        raise MethodNotAllowed(f"only the provider writes; department {principal.department!r} may only read")
    in_force = grants.in_force(principal.department, trail.resources, time.time())
    if not in_force:
        raise NoGrant(f"department {principal.department!r} holds no grant on {', '.join(trail.resources)}")
    matching = for_purpose(in_force, purpose)
    if not matching:
        raise PurposeMismatch(
            f"department {principal.department!r} holds grants on {', '.join(trail.resources)}, "
            "but none for this purpose"
        )

    shape = _shape_of(coverage)
    if shape == "sdmx":
        check_filters(request.query_params.keys(), matching, coverage.resources, sdmx.QUERY_PARAMETERS)
        return await _sdmx_answer(call, door, trail, url, matching, principal)
    if shape == "geojson":
        granted = frozenset().union(*(grant.fields for grant in matching))
        check_filters(request.query_params.keys(), matching, coverage.resources, geojson.allowed_parameters(granted))
        return await _geojson_answer(call, door, trail, matching, principal, coverage)
    check_filters(request.query_params.keys(), matching, coverage.resources)

    list_of = {"department": principal.department, "service": call.service, "path": call.path}
    query = door.cursors.open_query(call.query, **list_of)
    if query != call.query:
        url = target_url(settings.service_urls, call.service, call.raw_path, query)
    token = door.tokens.acting_for(principal)
    headers = passed_headers(
        # JSON only: it is the one answer the gateway can mask.
        call.headers,
        call.request_id,
        replace={b"authorization": f"Bearer {token}".encode(), b"accept": JSON},
    )
    mask = Mask(matching, _key_fields(coverage))
    lookahead = settings.row_scope_lookahead_pages
    while True:
        upstream = await door.upstreams.send(
            "GET",  # HEAD is answered from the masked GET: the service's own HEAD would describe the unmasked record
            url,
            headers,
            b"",
            service=call.service,
            timeout=settings.upstream_timeout_seconds,
        )
        masked = _masked(upstream, mask, trail)
        if not isinstance(masked, Masked):
            return masked
        cursor = masked.body["next_cursor"] if masked.page else None
        if not masked.page or masked.body["items"] or not isinstance(cursor, str) or lookahead <= 0:
            break
        # The row scope emptied this page. Its cursor would tell the caller that records it may not see match its
        # filter (issue 20): the gateway reads on (a few pages) for records in scope instead of answering it.
        lookahead -= 1
        url = target_url(settings.service_urls, call.service, call.raw_path, _with_cursor(query, cursor))
    if masked.page and not masked.body["items"]:
        masked.body["next_cursor"] = None  # an empty page never says whether more records exist
    elif isinstance(cursor, str):
        masked.body["next_cursor"] = door.cursors.seal(cursor, **list_of)
    return _json_answer(call, upstream.status, masked.body)


def _with_cursor(query: str, cursor: str) -> str:
    """``query`` asking for the page after ``cursor`` (the registry's own) instead of any cursor it had."""
    pairs = [(name, value) for name, value in parse_qsl(query, keep_blank_values=True) if name != "cursor"]
    return urlencode([*pairs, ("cursor", cursor)])


#: Query parameters that page rather than filter.
PAGING_PARAMETERS = frozenset({"limit", "cursor"})


def check_filters(
    parameters: Iterable[str],
    grants: Sequence[Grant],
    resources: Iterable[Resource] = (),
    allowed: frozenset[str] = frozenset(),
) -> None:
    """403 ``filter-not-granted`` for a query parameter the caller may not use.

    A non-owner may page, use ``allowed``, filter on a granted field, or use a parameter a covering resource declares
    (``filters``) when every field it selects by is granted on that resource.
    """
    parameters = list(parameters)
    if not parameters:
        return
    fields = frozenset().union(*(grant.fields for grant in grants))
    implied: set[str] = set()
    for resource in resources:
        on_resource = frozenset().union(*(grant.fields for grant in grants if grant.resource == resource.id))
        implied.update(name for name, needed in resource.filters if needed <= on_resource)
    granted = PAGING_PARAMETERS | allowed | fields | implied
    refused = sorted({name for name in parameters if name not in granted})
    if refused:
        raise FilterNotGranted(
            f"filtering on {', '.join(refused)} is not granted: a non-owner filters only on its granted fields",
            parameters=refused,
        )


def for_purpose(grants: Sequence[Grant], purpose: str) -> list[Grant]:
    """The grants a call with ``purpose`` may use: the purpose must match the grant's exactly."""
    return [grant for grant in grants if grant.purpose == purpose]


async def _knowledge(principal: Principal, door: Door) -> tuple[ResourceIndex, GrantIndex]:
    """The resource and grant caches, or — while either is catching up — what the exchange and catalog answer."""
    models = door.read_models
    resources = models.resources if models.resources_known else None
    grants = models.grants if models.grants_known else None
    if resources is not None and grants is not None:
        return resources, grants
    settings = door.settings
    timeout = settings.grants_fallback_timeout_seconds
    try:
        token = door.tokens.acting_for(principal)
        if grants is None:
            exchange = settings.service_urls["exchange"]
            grants = GrantIndex(await fallback.grants_of(door.http, exchange, token, principal.department, timeout))
        if resources is None:
            catalog = settings.service_urls["catalog"]
            held = grants.resources_of(principal.department)
            resources = ResourceIndex(
                await fallback.resources_for(door.http, catalog, token, principal.department, held, timeout),
                await fallback.registry_owners(door.http, catalog, token, timeout),
            )
    except (fallback.FallbackFailed, KeyError) as error:
        logger.warning("grants unknown for %s: %s", principal.department, error)
        raise GrantsUnknown(
            "the gateway is still learning which grants exist and could not ask the exchange; retry shortly",
            retry_after=settings.grants_retry_after_seconds,
        ) from None
    return resources, grants


def _shape_of(coverage: Coverage) -> str:
    """The answer shape of the covering resources; resources of different shapes over one path are a defect."""
    shapes = {resource.shape for resource in coverage.resources}
    if len(shapes) != 1:
        raise UnmaskableAnswer(f"the resources covering this path disagree on their answers' shape: {sorted(shapes)}")
    return shapes.pop()


async def _sdmx_answer(
    call: Call, door: Door, trail: Trail, url: str, matching: Sequence[Grant], principal: Principal
) -> Response:
    """A data query of a dataflow: asked of the registry in the caller's format, masked as SDMX (:mod:`.sdmx`)."""
    settings = door.settings
    csv = sdmx.wants_csv(call.headers.get("accept"))
    prerelease = sdmx.prerelease_allowed(matching)
    token = door.tokens.acting_for(principal)
    replace = {b"authorization": f"Bearer {token}".encode(), **sdmx.request_headers(csv, prerelease)}
    headers = passed_headers(call.headers, call.request_id, replace=replace)
    upstream = await door.upstreams.send(
        "GET", url, headers, b"", service=call.service, timeout=settings.upstream_timeout_seconds
    )
    if upstream.status == 404:
        raise RecordNotFound("no data at this path that your grants let you read")
    if upstream.status >= 400:
        passed = {name: upstream.headers[name] for name in FORWARDED_ERROR_HEADERS if name in upstream.headers}
        return Response(upstream.body, status_code=upstream.status, headers=passed)
    dimensions = None
    flow = sdmx.flow_of(call.path)
    if csv and flow is not None:
        dimensions = door.structures.known(call.service, flow)
        if dimensions is None:
            structure = await door.upstreams.send(
                "GET",
                target_url(settings.service_urls, call.service, sdmx.structure_path(flow), ""),
                passed_headers(call.headers, call.request_id, replace={b"authorization": f"Bearer {token}".encode()}),
                b"",
                service=call.service,
                timeout=settings.upstream_timeout_seconds,
            )
            dimensions = door.structures.learn(call.service, flow, structure)
    trail.grant_ids = tuple(sorted(grant.id for grant in matching))
    answer = sdmx.masked(upstream, matching, prerelease=prerelease, dimensions=dimensions)
    if answer is None:  # a structure message: code lists, no observations
        body, media_type = sdmx.passed_structure(upstream)
        return Response(b"" if call.method == "HEAD" else body, status_code=upstream.status, media_type=media_type)
    trail.record_keys = answer.series_keys
    trail.fields = sdmx.audit_fields(answer)
    if call.method == "HEAD":
        return Response(status_code=upstream.status, headers={"content-type": answer.media_type})
    return Response(answer.body, status_code=upstream.status, media_type=answer.media_type)


async def _geojson_answer(
    call: Call, door: Door, trail: Trail, matching: Sequence[Grant], principal: Principal, coverage: Coverage
) -> Response:
    """A read of GeoJSON (addresses, parcels): forwarded as GeoJSON, masked feature by feature (:mod:`.geojson`)."""
    settings = door.settings
    list_of = {"department": principal.department, "service": call.service, "path": call.path}
    query = door.cursors.open_query(call.query, **list_of)
    url = target_url(settings.service_urls, call.service, call.raw_path, query)
    token = door.tokens.acting_for(principal)
    headers = passed_headers(
        call.headers,
        call.request_id,
        replace={b"authorization": f"Bearer {token}".encode(), b"accept": geojson.ACCEPT},
    )
    upstream = await door.upstreams.send(
        "GET", url, headers, b"", service=call.service, timeout=settings.upstream_timeout_seconds
    )
    if upstream.status == 404:
        raise RecordNotFound("no feature at this path that your grants let you read")
    if upstream.status >= 400:
        passed = {name: upstream.headers[name] for name in FORWARDED_ERROR_HEADERS if name in upstream.headers}
        return Response(upstream.body, status_code=upstream.status, headers=passed)
    keys = _key_fields(coverage)
    result, grant_ids = geojson.masked(
        upstream,
        Mask(matching, keys),
        keys[0] if keys else None,
        lambda cursor: door.cursors.seal(cursor, **list_of),
    )
    trail.grant_ids = grant_ids
    trail.record_keys = result.keys
    trail.fields = result.fields
    payload = json.dumps(result.document, ensure_ascii=False, separators=(",", ":")).encode()
    if call.method == "HEAD":
        return Response(status_code=upstream.status, headers={"content-type": geojson.MEDIA_TYPE})
    return Response(payload, status_code=upstream.status, media_type=geojson.MEDIA_TYPE)


def _key_fields(coverage: Coverage | None) -> list[str]:
    if coverage is None:
        return []
    return list(dict.fromkeys(resource.key for resource in coverage.resources if resource.key))


async def _forward_for_owner(
    call: Call, url: str, trail: Trail, door: Door, coverage: Coverage | None, body: bytes
) -> Response:
    """The provider reads and writes its own registry as it is, with its own token (the registry checks it)."""
    upstream = await door.upstreams.send(
        call.method,
        url,
        passed_headers(call.headers, call.request_id),
        body,
        service=call.service,
        timeout=door.settings.upstream_timeout_seconds,
    )
    if call.method == "GET" and 200 <= upstream.status < 300:
        _audit_owner_read(upstream, coverage, trail)
    return Response(upstream.body, status_code=upstream.status, headers=upstream.headers)


def _maybe_upload(request: Request, settings: Settings) -> bool:
    """Whether the body may be an upload: declared larger than a body held whole, or not declared (chunked).

    413 when it is declared larger than even an upload may be.
    """
    declared = declared_length(request, settings.max_upload_bytes)
    return declared is None or declared > settings.max_body_bytes


async def _stream_for_owner(request: Request, call: Call, url: str, trail: Trail, door: Door) -> Response:
    """The owner's upload to its registry (a bulk import), passed on as it arrives, never held whole."""
    settings = door.settings
    body: AsyncIterator[bytes] = streamed_body(request, settings.max_upload_bytes, trail.digest)
    try:
        upstream = await door.upstreams.send(
            call.method,
            url,
            passed_headers(call.headers, call.request_id),
            body,
            service=call.service,
            timeout=settings.upload_timeout_seconds,
        )
    except Exception:
        if trail.digest.interrupted is not None:  # broken off on the caller's side, not by the service
            raise trail.digest.interrupted from None
        raise
    if trail.digest.interrupted is not None:  # the service answered before the upload was broken off
        raise trail.digest.interrupted
    return Response(upstream.body, status_code=upstream.status, headers=upstream.headers)


def _audit_owner_read(upstream: Upstream, coverage: Coverage | None, trail: Trail) -> None:
    """Which records and fields the owner read, for the audit entry (its answer is passed on untouched)."""
    if "json" not in upstream.headers.get("content-type", ""):
        return
    try:
        document = json.loads(upstream.body)
    except ValueError:
        return
    records: Sequence[Any] = (
        document["items"] if isinstance(document, dict) and isinstance(document.get("items"), list) else [document]
    )
    keys = _key_fields(coverage)
    found: list[str] = []
    fields: set[str] = set()
    for record in records:
        if not isinstance(record, dict):
            continue
        fields.update(record)
        key = next((record[name] for name in keys if record.get(name) is not None), None)
        if key is not None:
            found.append(str(key))
    if found:
        trail.record_keys = tuple(found)
    trail.fields = tuple(sorted(fields))


def _masked(upstream: Upstream, mask: Mask, trail: Trail) -> Masked | Response:
    """The service's answer as a non-owner may see it: the masked records, or a response without records."""
    if upstream.status == 404:
        raise RecordNotFound("no record at this path that your grants let you read")
    if upstream.status >= 400:
        # A problem about the request (400, 422, 503 …) carries no record; passed on as the service wrote it.
        headers = {name: upstream.headers[name] for name in FORWARDED_ERROR_HEADERS if name in upstream.headers}
        return Response(upstream.body, status_code=upstream.status, headers=headers)
    if not 200 <= upstream.status < 300:
        raise UnmaskableAnswer(f"the service answered {upstream.status}, which the gateway does not pass on")
    if not upstream.body:
        return Response(status_code=upstream.status)
    if "json" not in upstream.headers.get("content-type", ""):
        raise UnmaskableAnswer("the service answered something other than JSON, which cannot be masked")
    try:
        document = json.loads(upstream.body)
    except ValueError:
        raise UnmaskableAnswer("the service's answer is not valid JSON") from None
    masked = mask.apply(document)
    if masked is None:
        raise RecordNotFound("no record at this path that your grants let you read")
    trail.grant_ids = masked.grant_ids
    trail.record_keys = masked.record_keys
    trail.fields = masked.fields
    return masked


def _json_answer(call: Call, status: int, body: dict[str, Any]) -> Response:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    if call.method == "HEAD":
        return Response(
            status_code=status, headers={"content-type": JSON_MEDIA_TYPE, "content-length": str(len(payload))}
        )
    return Response(payload, status_code=status, media_type=JSON_MEDIA_TYPE)
