"""Settings of gateway (``ONESOURCE_GATEWAY_*``); the only place it reads the environment."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, SecretStr
from pydantic_settings import SettingsConfigDict

from onesource.kit.settings import ServiceSettings

#: Where the registries and platform services listen in the local mesh.
DEFAULT_SERVICE_URLS: dict[str, str] = {
    "catalog": "http://127.0.0.1:8001",
    "exchange": "http://127.0.0.1:8002",
    "population": "http://127.0.0.1:8101",
    "legal-entity": "http://127.0.0.1:8102",
    "geo": "http://127.0.0.1:8103",
    "macroeconomy": "http://127.0.0.1:8104",
}


class AuditSettings(BaseModel):
    """The audit log's writer and checkpoints (``ONESOURCE_GATEWAY_AUDIT__*``, e.g. ``…AUDIT__BATCH_SIZE``)."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

    batch_size: int = Field(default=200, ge=1, le=1000)
    """Most entries one transaction commits (group commit); waiting entries beyond it go in the next one."""
    queue_size: int = Field(default=10_000, ge=1)
    """Most entries waiting for their commit in one process; beyond it ``record`` fails at once (503)."""
    checkpoint_interval_seconds: float = Field(default=30.0, gt=0, le=60)
    """How often the head is signed when it moved (the design asks for at least once a minute)."""
    commit_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    """How long one batch may take (lock, insert, commit) before its calls get 503 instead of hanging."""
    stop_timeout_seconds: float = Field(default=10.0, ge=0)
    """At shutdown, how long waiting entries may still be committed before they are failed."""


class Settings(ServiceSettings):
    """Settings of gateway."""

    model_config = SettingsConfigDict(
        env_prefix="ONESOURCE_GATEWAY_", extra="ignore", env_nested_delimiter="__", populate_by_name=True
    )

    service_name: ClassVar[str] = "gateway"

    database_url: SecretStr = SecretStr("postgresql+asyncpg://postgres@127.0.0.1:54320/onesource_gateway")
    """SQLAlchemy async DSN of this service's own database."""
    service_urls: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_SERVICE_URLS))
    """Base URL of every service behind the gateway, by the name used in ``/api/<name>/…`` (a JSON object)."""
    token_lifetime_seconds: int = Field(default=900, ge=60, le=86_400)
    """How long an issued access token is valid."""
    key_encryption_secret: SecretStr = SecretStr("dev-insecure-gateway-key-encryption")
    """Secret from which the key that encrypts the signing keys at rest is derived (HKDF-SHA256)."""
    bootstrap_admin_secret: SecretStr | None = Field(default=None, validation_alias="ONESOURCE_BOOTSTRAP_ADMIN_SECRET")
    """When set, the client ``admin`` exists with this secret after start-up (the variable is the source of truth)."""
    audit: AuditSettings = Field(default_factory=AuditSettings)
    """The tamper-evident audit log."""
    revocation_refresh_seconds: float = Field(default=1.0, gt=0, le=60)
    """How often each gateway process reloads which clients are disabled or rotated (their tokens are refused)."""
    login_failure_threshold: int = Field(default=5, ge=1, le=100)
    """Failed authentications of one client id from one address before that pair must wait (others are not held up)."""
    login_address_failure_threshold: int = Field(default=50, ge=1, le=10_000)
    """Failed authentications from one address, whatever the client ids, before that address must wait."""
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list)
    """Reverse proxies (addresses or networks, a JSON list) whose ``X-Forwarded-For`` names the caller's address;
    from any other peer the header is ignored. Empty: the peer is the caller."""
    public_url: str = "http://127.0.0.1:8000"
    """The gateway's address as browsers and OpenID Connect clients reach it (the discovery document's endpoints)."""
    oidc_clients: dict[str, list[str]] = Field(default_factory=dict)
    """Public OAuth clients that sign people in (authorization code + PKCE), each with its exact redirect URIs
    (a JSON object, e.g. ``{"portal": ["https://portal.example/auth/callback"]}``)."""
    authorization_code_lifetime_seconds: int = Field(default=60, ge=10, le=600)
    """How long an authorization code may wait to be exchanged (RFC 6749 §4.1.2: ten minutes at most)."""
    refresh_token_lifetime_seconds: int = Field(default=8 * 3600, ge=300, le=30 * 86_400)
    """How long a person's refresh token lasts (a working day): after it the person signs in again."""
    login_lock_seconds: float = Field(default=1.0, gt=0, le=60)
    """The first wait after the threshold; it doubles with every further failure."""
    login_max_lock_seconds: float = Field(default=300.0, gt=0, le=86_400)
    """The longest wait a run of failures can cause."""
    management_services: list[str] = Field(default_factory=lambda: ["catalog", "exchange"])
    """Services whose calls are management calls: forwarded with the caller's own token, never masked."""
    probe_paths: list[str] = Field(default_factory=lambda: ["/healthz", "/readyz"])
    """Paths of any service that are forwarded like management calls: health probes carry no records."""
    rate_limit_per_second: float = Field(default=1000.0, gt=0)
    """Calls per second each client may make, sustained: the refill rate of its token bucket (in each process)."""
    rate_limit_burst: int = Field(default=2000, ge=1)
    """Calls a client may make at once after being idle: the size of its token bucket."""
    max_body_bytes: int = Field(default=1_048_576, ge=0)
    """Largest request body passed on (413 ``content-too-large`` above it), but for an owner's uploads."""
    max_upload_bytes: int = Field(default=1 << 30, ge=0)
    """Largest body an owner streams to its own registry's endpoints that no resource covers (bulk imports): passed
    on as it arrives, never held whole (413 ``content-too-large`` above it)."""
    upload_timeout_seconds: float = Field(default=1800.0, gt=0)
    """How long such an upload and the registry's answer to it may take (504 ``upstream-timeout`` after it)."""
    row_scope_lookahead_pages: int = Field(default=5, ge=0, le=100)
    """When a grant's row scope empties a non-owner's page, how many further pages the gateway reads for records in
    scope before it answers an empty page (which never carries a cursor: it would say that hidden records match)."""
    max_purpose_length: int = Field(default=500, ge=1)
    """Longest ``X-OneSource-Purpose`` of a data call, in characters once decoded (431 ``purpose-too-long`` beyond):
    as long as a share request's purpose may be."""
    max_page_size: int = Field(default=200, ge=1)
    """Largest ``limit`` a data call may ask for (413 ``page-too-large`` above it)."""
    upstream_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long a service behind the gateway may take to answer in full (504 ``upstream-timeout`` after it)."""
    service_token_lifetime_seconds: int = Field(default=60, ge=45, le=900)
    """Lifetime of the token the gateway sends a registry for a caller; reused until 30 s before it expires."""
    signer_refresh_seconds: float = Field(default=30.0, gt=0, le=300)
    """How often each process re-reads the active signing key (a rotation reaches the data path within this)."""
    grants_fallback_timeout_seconds: float = Field(default=2.0, gt=0)
    """How long asking the exchange and the catalog may take while the grant cache is catching up."""
    grants_retry_after_seconds: int = Field(default=2, ge=1)
    """``Retry-After`` of 503 ``grants-unknown``."""
    read_model_reload_seconds: float = Field(default=60.0, gt=0)
    """How often each process reloads its resource and grant caches from the tables in full (a safety net)."""
    read_model_group: str = Field(default="gateway-read-models", min_length=1)
    """Kafka consumer group of the read models: every process on this database shares it, and another gateway
    database on the same broker needs a group of its own (members of one group split the partitions between them,
    and each writes only what it consumed to its own database)."""

    @property
    def issuer(self) -> str:
        """The ``iss`` claim of issued tokens; the one every service's :class:`AuthSettings` expects."""
        return self.auth.issuer

    @property
    def audience(self) -> str:
        """The ``aud`` claim of issued tokens."""
        return self.auth.audience
