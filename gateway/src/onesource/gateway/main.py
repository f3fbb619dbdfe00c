"""OneSource gateway: the app factory (``uvicorn --factory onesource.gateway.main:create_app``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.middleware import Middleware

import onesource.gateway
from onesource.gateway.audit.log import audit_log
from onesource.gateway.audit.router import router as audit_router
from onesource.gateway.bootstrap import bootstrap
from onesource.gateway.clients.events import CLIENT_TOPIC
from onesource.gateway.clients.revocation import revocation_list
from onesource.gateway.clients.router import revocations_router
from onesource.gateway.clients.router import router as clients_router
from onesource.gateway.departments.events import DEPARTMENT_TOPIC
from onesource.gateway.departments.router import router as departments_router
from onesource.gateway.forwarding.door import door
from onesource.gateway.forwarding.router import ForwardingShortcut
from onesource.gateway.forwarding.router import router as forwarding_router
from onesource.gateway.idempotency import sealed_store
from onesource.gateway.keys import service as keys
from onesource.gateway.keys.router import jwks_router
from onesource.gateway.keys.router import router as keys_router
from onesource.gateway.models import Base
from onesource.gateway.oauth.router import router as oauth_router
from onesource.gateway.oauth.throttle import login_throttle
from onesource.gateway.people.events import PERSON_TOPIC
from onesource.gateway.people.router import router as people_router
from onesource.gateway.readmodels.sync import read_models
from onesource.gateway.settings import Settings
from onesource.kit.app import ServiceSpec, create_service_app
from onesource.kit.auth import RevocationList as KitRevocationList
from onesource.kit.auth import TokenVerifier
from onesource.kit.migrations import service_migrations_dir


class OwnKeysVerifier(TokenVerifier):
    """Verifies tokens against the gateway's own keys and revocation list (no HTTP round trip).

    The keys are read from its database; the revocation list is the one it keeps and publishes for every service.
    """

    #: Reading the key set is one local query, so a token naming a just-rotated key may refetch at once.
    REFETCH_INTERVAL = 0.0


def own_keys_verifier(app: FastAPI) -> TokenVerifier:
    """The token verifier of the gateway's own management API."""
    settings: Settings = app.state.settings

    async def source() -> dict[str, Any]:
        # Looked up on each call: tests swap the sessionmaker for one bound to a rolled-back transaction.
        sessionmaker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
        async with sessionmaker() as session:
            return await keys.jwks(session, settings)

    async def revocations() -> KitRevocationList:
        revoked: KitRevocationList = app.state.revocations
        return revoked

    return OwnKeysVerifier(settings.auth, source, revocations)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the gateway app."""
    app = create_service_app(
        ServiceSpec(
            name="gateway",
            title="OneSource gateway",
            description=(
                "The one door: identity provider (departments, clients, OAuth 2 client-credentials tokens, "
                "signing keys) and forwarding to the registries and platform services."
            ),
            settings=settings or Settings(),
            metadata=Base.metadata,
            migrations_dir=service_migrations_dir(onesource.gateway.__file__),
            # Identity routes first: the forwarding catch-all ``/api/{service}/{path}`` must not shadow them.
            routers=[
                oauth_router,
                jwks_router,
                departments_router,
                clients_router,
                people_router,
                revocations_router,
                keys_router,
                audit_router,
                forwarding_router,
            ],
            topics=[DEPARTMENT_TOPIC, CLIENT_TOPIC, PERSON_TOPIC],
            extensions=[bootstrap, revocation_list, login_throttle, audit_log, read_models, door],
            token_verifier=own_keys_verifier,
            idempotency=sealed_store,
            tags=[
                {
                    "name": "oauth",
                    "description": (
                        "OAuth 2.0 tokens: client credentials for systems (RFC 6749 §4.4); for people, sign-in "
                        "with authorization code + PKCE, refresh and revocation, and OpenID Connect discovery."
                    ),
                },
                {"name": "keys", "description": "Token signing keys and their public key set."},
                {"name": "departments", "description": "Departments: the parties that own and use data."},
                {"name": "clients", "description": "Client systems acting for departments, and their secrets."},
                {"name": "people", "description": "People acting for departments: accounts, passwords, roles."},
                {
                    "name": "audit",
                    "description": "The tamper-evident audit log: verification and record access history.",
                },
                {
                    "name": "forwarding",
                    "description": (
                        "The one door to the services behind the gateway: management calls passed on; data calls "
                        "checked against grants and purpose, masked to the granted fields and rows, and audited."
                    ),
                },
            ],
        )
    )
    # Innermost: inside the kit's request-context middleware, ahead of FastAPI's exception handling and routing.
    app.user_middleware.append(Middleware(ForwardingShortcut))
    return app
