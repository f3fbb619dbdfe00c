"""Client endpoints: ``/api/identity/v1/clients``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from onesource.gateway.clients import service
from onesource.gateway.clients.revocation import RevocationList
from onesource.gateway.clients.schemas import CLIENT_ID_PATTERN, Client, ClientCreate, ClientWithSecret
from onesource.gateway.departments.schemas import DEPARTMENT_CODE_PATTERN
from onesource.gateway.dependencies import AdminDep
from onesource.gateway.idempotency import IdempotencyDep
from onesource.kit.auth import CurrentPrincipal, RevocationDocument
from onesource.kit.db import SessionDep
from onesource.kit.errors import Forbidden, problem_responses
from onesource.kit.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/api/identity/v1/clients", tags=["clients"])
revocations_router = APIRouter(prefix="/api/identity/v1", tags=["clients"])


def revocations(request: Request) -> RevocationList:
    """The revocation list of this process (the others reload theirs from the ``client`` table within a second)."""
    revocation_list: RevocationList = request.app.state.revocations
    return revocation_list


ClientIdPath = Annotated[str, Path(pattern=CLIENT_ID_PATTERN, description="The client's id.")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ClientWithSecret,
    responses=problem_responses(401, 403, 409, 422),
)
async def register_client(
    body: ClientCreate, session: SessionDep, admin: AdminDep, idempotency: IdempotencyDep
) -> ClientWithSecret | Response:
    """Register a client for a department (admin); the answer carries its secret, shown only this once."""
    replayed = await idempotency.replay(session)
    if replayed is not None:
        return replayed
    client, secret = await service.register(session, body)
    answer = ClientWithSecret.model_validate({**Client.model_validate(client).model_dump(), "client_secret": secret})
    await idempotency.remember(session, status.HTTP_201_CREATED, answer)
    return answer


@router.get("", responses=problem_responses(401, 403, 422))
async def list_clients(
    session: SessionDep,
    admin: AdminDep,
    limit: Limit = 50,
    cursor: Cursor = None,
    department: Annotated[
        str | None, Query(pattern=DEPARTMENT_CODE_PATTERN, description="Only this department's clients.")
    ] = None,
) -> Page[Client]:
    """List clients in id order (admin)."""
    found = await service.page(session, department=department, limit=limit, cursor=cursor)
    return Page[Client].model_validate(found, from_attributes=True)


@router.get("/{client_id}", responses=problem_responses(401, 403, 404, 422))
async def get_client(client_id: ClientIdPath, session: SessionDep, principal: CurrentPrincipal) -> Client:
    """One client (admin, or the client itself)."""
    if not principal.has_role("admin") and principal.client_id != client_id:
        raise Forbidden("only an admin or the client itself may read a client")
    return Client.model_validate(await service.get(session, client_id))


@router.post("/{client_id}/secret", responses=problem_responses(401, 403, 404, 422))
async def rotate_client_secret(
    client_id: ClientIdPath, request: Request, session: SessionDep, admin: AdminDep
) -> ClientWithSecret:
    """Give the client a new secret (admin); the old secret and tokens issued with it stop working at once.

    The answer shows the new secret, only this once.
    """
    client, secret = await service.rotate_secret(session, client_id)
    if client.secret_rotated_at is not None:
        revocations(request).rotated(client_id, client.secret_rotated_at)
    return ClientWithSecret.model_validate({**Client.model_validate(client).model_dump(), "client_secret": secret})


@router.post("/{client_id}/disable", responses=problem_responses(401, 403, 404, 422))
async def disable_client(client_id: ClientIdPath, request: Request, session: SessionDep, admin: AdminDep) -> Client:
    """Disable a client (admin): it gets no new tokens, and the gateway refuses the ones it holds at once."""
    client = await service.set_disabled(session, client_id, True)
    revocations(request).disabled(client_id)
    return Client.model_validate(client)


@router.post("/{client_id}/enable", responses=problem_responses(401, 403, 404, 422))
async def enable_client(client_id: ClientIdPath, request: Request, session: SessionDep, admin: AdminDep) -> Client:
    """Enable a disabled client again (admin); it must get new tokens (those from before stay refused)."""
    client = await service.set_disabled(session, client_id, False)
    revocations(request).enabled(client_id, client.disabled_at)
    return Client.model_validate(client)


@revocations_router.get("/revocations")
async def list_revoked_clients(request: Request) -> RevocationDocument:
    """The token revocation list every service honours: disabled clients, and clients whose older tokens are refused.

    Fetched by each service's token verifier (``ONESOURCE_AUTH_REVOCATIONS_URL``), so a token the gateway refuses is
    refused everywhere. Not secret (client ids and moments only) but meant for the services: publish it inside the
    platform's network only.
    """
    return revocations(request).document()
