"""Settings base: the only place a service reads its environment.

Every service subclasses :class:`ServiceSettings` with its own env prefix (``ONESOURCE_POPULATION_`` …).
Shared infrastructure groups (Kafka, auth, telemetry) read their own prefixes, so one variable such as
``ONESOURCE_KAFKA_BOOTSTRAP`` configures every service at once.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Every development default secret starts with this marker; outside the local mesh it is refused.
INSECURE_DEFAULT_PREFIX = "dev-insecure-"

Environment = Literal["local", "test", "production"]


class KafkaSettings(BaseSettings):
    """Where the event log is and how to talk to it (``ONESOURCE_KAFKA_*``)."""

    model_config = SettingsConfigDict(env_prefix="ONESOURCE_KAFKA_", extra="ignore")

    bootstrap: str = "127.0.0.1:19092"
    """Comma-separated ``host:port`` list of brokers."""
    idempotence: bool = True
    """Idempotent producer; on for real Kafka, off for the embedded Tansu broker (it rejects InitProducerId)."""
    session_timeout_ms: int = 10_000
    """Consumer group session timeout; the local mesh and tests use ≈1500 ms so groups join quickly."""
    heartbeat_interval_ms: int = 3_000
    """Consumer heartbeat interval; keep it at most a third of the session timeout."""
    partitions: int = 3
    """Partitions for topics this service provisions."""
    replication_factor: int = 1
    """Replication factor for provisioned topics (3 in production)."""
    request_timeout_ms: int = 10_000
    """How long a produce request may wait for the broker."""


class AuthSettings(BaseSettings):
    """How services verify the gateway's tokens (``ONESOURCE_AUTH_*``)."""

    model_config = SettingsConfigDict(env_prefix="ONESOURCE_AUTH_", extra="ignore")

    jwks_url: str = "http://127.0.0.1:8000/.well-known/jwks.json"
    """The gateway's published key set."""
    issuer: str = "onesource-gateway"
    """Expected ``iss`` claim."""
    audience: str = "onesource"
    """Expected ``aud`` claim."""
    jwks_cache_seconds: int = 300
    """How long a fetched key set is trusted before it is fetched again."""
    revocations_url: str = "http://127.0.0.1:8000/api/identity/v1/revocations"
    """The gateway's published token revocation list (disabled clients, rotated secrets)."""
    revocations_refresh_seconds: float = Field(default=1.0, gt=0, le=60)
    """How often the revocation list is fetched again (a revoked token keeps working at most this long here)."""
    revocations_max_age_seconds: float = Field(default=30.0, gt=0, le=600)
    """How long a list may go unrefreshed (the gateway unreachable) before every token is refused (503)."""


class TelemetrySettings(BaseSettings):
    """Tracing and logging (``ONESOURCE_OTEL_*``)."""

    model_config = SettingsConfigDict(env_prefix="ONESOURCE_OTEL_", extra="ignore")

    exporter: Literal["none", "console", "otlp"] = "none"
    """Where finished spans go."""
    otlp_endpoint: str | None = None
    """OTLP/HTTP collector endpoint, e.g. ``http://otel-collector:4318``."""
    log_level: str = "INFO"
    """Root log level."""
    log_json: bool = True
    """JSON log lines (with trace and request ids); off gives plain text for a terminal."""


class ServiceSettings(BaseSettings):
    """What every service needs; subclasses set ``service_name`` and the env prefix."""

    model_config = SettingsConfigDict(
        env_prefix="ONESOURCE_", extra="ignore", env_nested_delimiter="__", populate_by_name=True
    )

    service_name: ClassVar[str] = "service"

    environment: Environment = Field(default="local", validation_alias="ONESOURCE_ENVIRONMENT")
    """``local`` (the mesh on a laptop), ``test``, or ``production``; only local and test accept default secrets."""
    database_url: SecretStr = SecretStr("postgresql+asyncpg://postgres@127.0.0.1:54320/onesource")
    """SQLAlchemy async DSN of this service's own database."""
    database_pool_size: int = 10
    """Connections kept open per process."""
    migrate_on_startup: bool = False
    """Apply Alembic migrations in the lifespan (the local mesh does; production runs ``onesource migrate``)."""
    relay_enabled: bool = True
    """Run the outbox relay inside this process."""
    relay_poll_seconds: float = 1.0
    """Fallback poll interval of the relay; commits wake it at once through LISTEN/NOTIFY."""
    relay_batch_size: int = 500
    """Rows one relay claims at a time."""
    max_uri_bytes: int = Field(default=8192, ge=256)
    """Longest path with query a request may have (414 ``uri-too-long`` beyond)."""
    max_header_bytes: int = Field(default=16384, ge=1024)
    """Largest total of a request's header fields (431 ``headers-too-large`` beyond)."""
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> ServiceSettings:
        """Refuse to start in production with any development default secret."""
        if self.environment == "production":
            for name, value in _secret_fields(self):
                if value.startswith(INSECURE_DEFAULT_PREFIX):
                    raise ValueError(f"{name} still holds the development default; set a real secret for production")
        return self


def _secret_fields(settings: BaseSettings) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for name in type(settings).model_fields:
        value: Any = getattr(settings, name)
        if isinstance(value, SecretStr):
            found.append((name, value.get_secret_value()))
        elif isinstance(value, BaseSettings):
            found.extend((f"{name}.{inner}", secret) for inner, secret in _secret_fields(value))
    return found
