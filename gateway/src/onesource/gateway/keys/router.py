"""Signing key endpoints: the public key set, and rotation for admins."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from onesource.gateway.dependencies import AdminDep, SettingsDep
from onesource.gateway.keys import service
from onesource.gateway.keys.schemas import Jwks, SigningKey
from onesource.gateway.models import SigningKey as SigningKeyRow
from onesource.gateway.settings import Settings
from onesource.kit.db import SessionDep
from onesource.kit.errors import problem_responses
from onesource.kit.pagination import Cursor, Limit, Page

jwks_router = APIRouter(tags=["keys"])
router = APIRouter(prefix="/api/identity/v1/keys", tags=["keys"])


def _view(key: SigningKeyRow, settings: Settings) -> SigningKey:
    return SigningKey(
        kid=key.kid,
        algorithm=key.algorithm,
        state=service.state_of(key, settings),
        created_at=key.created_at,
        retired_at=key.retired_at,
        public_jwk=key.public_jwk,
    )


@jwks_router.get("/.well-known/jwks.json", response_model=Jwks)
async def get_jwks(session: SessionDep, settings: SettingsDep) -> JSONResponse:
    """The public keys that verify the gateway's tokens (RFC 7517 key set): the active key and recently retired ones."""
    document: dict[str, Any] = await service.jwks(session, settings)
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=60"})


@router.post("/rotate", responses=problem_responses(401, 403))
async def rotate_signing_key(session: SessionDep, settings: SettingsDep, admin: AdminDep) -> SigningKey:
    """Create a new active signing key (admin); the previous one stays published until its tokens have expired."""
    return _view(await service.rotate(session, settings), settings)


@router.get("", responses=problem_responses(401, 403, 422))
async def list_signing_keys(
    session: SessionDep, settings: SettingsDep, admin: AdminDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[SigningKey]:
    """List signing keys oldest first, with their state (admin)."""
    found = await service.page(session, limit=limit, cursor=cursor)
    return Page[SigningKey](items=[_view(key, settings) for key in found.items], next_cursor=found.next_cursor)
