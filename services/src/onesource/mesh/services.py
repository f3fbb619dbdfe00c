"""The service table of the local mesh and the pure computations around it: ports, databases, environments."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "HOST",
    "RELAY",
    "SERVICES",
    "InfraPlan",
    "ServiceSpec",
    "database_name",
    "plan_ports",
    "platform_env",
    "relay_env",
    "service_env",
    "service_urls",
]

HOST = "127.0.0.1"
#: Named here rather than imported: the launcher must not import the services' code (``kit.relaying.APPS_ENV``).
APPS_ENV = "ONESOURCE_RELAY_APPS"


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One service of the mesh: its name, import package, env prefix and port offset from the gateway."""

    name: str
    package: str
    env_prefix: str
    port_offset: int
    postgis: bool = False
    """Its database needs PostGIS (on the mesh's PostgreSQL with PostGIS rather than the embedded one)."""
    factory: str | None = None
    """The `module:factory` uvicorn imports, when not the package's `main:create_app`."""
    outbox: bool = True
    """It writes events through an outbox (the relay process publishes them); the portal holds no data at all."""

    @property
    def app_factory(self) -> str:
        """The `module:factory` uvicorn imports."""
        return self.factory or f"onesource.{self.package}.main:create_app"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("gateway", "gateway", "ONESOURCE_GATEWAY_", 0),
    ServiceSpec("catalog", "catalog", "ONESOURCE_CATALOG_", 1),
    ServiceSpec("exchange", "exchange", "ONESOURCE_EXCHANGE_", 2),
    ServiceSpec("population", "population", "ONESOURCE_POPULATION_", 101),
    ServiceSpec("legal-entity", "legal_entity", "ONESOURCE_LEGAL_ENTITY_", 102),
    ServiceSpec("geo", "geo", "ONESOURCE_GEO_", 103, postgis=True),
    ServiceSpec("macroeconomy", "macroeconomy", "ONESOURCE_MACROECONOMY_", 104),
    ServiceSpec("portal", "portal", "ONESOURCE_PORTAL_", 3, outbox=False),
)


#: The outbox relays of every service, as one process of their own (``kit.relaying``): each service's HTTP process
#: then handles requests only, and its events never wait behind them.
RELAY = ServiceSpec("relay", "kit", "ONESOURCE_RELAY_", 200, factory="onesource.kit.relaying:create_app")


@dataclass(frozen=True, slots=True)
class InfraPlan:
    """Where the shared infrastructure of one mesh run is."""

    database_url: str
    """Async SQLAlchemy DSN with the placeholder `{database}` where the per-service database name goes."""
    kafka_bootstrap: str
    embedded_kafka: bool
    """The embedded Tansu broker rejects idempotent producers, so it needs `ONESOURCE_KAFKA_IDEMPOTENCE=false`."""
    admin_secret: str
    postgis_database_url: str | None = None
    """Like ``database_url``, on the server with PostGIS (for the services that need it)."""

    def database_dsn(self, database: str, *, postgis: bool = False) -> str:
        """The async DSN of one database (on the PostGIS server when ``postgis``)."""
        template = self.postgis_database_url if postgis else self.database_url
        if template is None:
            raise ValueError(f"no PostgreSQL with PostGIS for database {database}")
        # str.replace, not str.format: a password may contain braces.
        return template.replace("{database}", database)


def database_name(spec: ServiceSpec) -> str:
    """The database a service owns: `onesource_<package>`."""
    return f"onesource_{spec.package}"


def plan_ports(gateway_port: int) -> dict[str, int]:
    """Every service's port: the gateway's, and the others at fixed offsets from it."""
    return {spec.name: gateway_port + spec.port_offset for spec in SERVICES}


def service_urls(ports: Mapping[str, int], host: str = HOST) -> dict[str, str]:
    """Base URL of every service."""
    return {name: f"http://{host}:{port}" for name, port in ports.items()}


def service_env(spec: ServiceSpec, infra: InfraPlan, urls: Mapping[str, str]) -> dict[str, str]:
    """The environment variables the mesh adds for one service process (on top of `os.environ`)."""
    gateway_url = urls["gateway"]
    env = {
        "ONESOURCE_ENVIRONMENT": "local",
        f"{spec.env_prefix}DATABASE_URL": infra.database_dsn(database_name(spec), postgis=spec.postgis),
        f"{spec.env_prefix}MIGRATE_ON_STARTUP": "true",
        f"{spec.env_prefix}RELAY_ENABLED": "false",  # the mesh's relay process publishes its events
        "ONESOURCE_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        # Consumer groups join slowly against Tansu with the default 10 s session timeout.
        "ONESOURCE_KAFKA_SESSION_TIMEOUT_MS": "1500",
        "ONESOURCE_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        "ONESOURCE_AUTH_JWKS_URL": f"{gateway_url}/.well-known/jwks.json",
        "ONESOURCE_AUTH_REVOCATIONS_URL": f"{gateway_url}/api/identity/v1/revocations",
        "ONESOURCE_OTEL_LOG_JSON": "true",
        # uvicorn's own X-Forwarded-For handling trusts every local caller (127.0.0.1): any of them could claim any
        # address. The gateway reads the header itself, from its configured trusted proxies only.
        "UVICORN_PROXY_HEADERS": "false",
    }
    if infra.embedded_kafka:
        env["ONESOURCE_KAFKA_IDEMPOTENCE"] = "false"
    if spec.name == "gateway":
        env["ONESOURCE_BOOTSTRAP_ADMIN_SECRET"] = infra.admin_secret
        env["ONESOURCE_GATEWAY_SERVICE_URLS"] = json.dumps(
            {name: url for name, url in urls.items() if name not in ("gateway", "portal")}, separators=(",", ":")
        )
        env["ONESOURCE_GATEWAY_PUBLIC_URL"] = gateway_url
        if "portal" in urls:  # the portal signs people in through the gateway (a public client: PKCE)
            env["ONESOURCE_GATEWAY_OIDC_CLIENTS"] = json.dumps({"portal": [f"{urls['portal']}/auth/callback"]})
    if spec.name == "catalog":  # exports name datasets by their addresses at the gateway
        env["ONESOURCE_CATALOG_PUBLIC_BASE_URL"] = gateway_url
    if spec.name == "exchange" and "catalog" in urls:  # asked for resources its read model does not know yet
        env["ONESOURCE_EXCHANGE_CATALOG_URL"] = urls["catalog"]
    if spec.name == "portal":
        env["ONESOURCE_PORTAL_GATEWAY_URL"] = gateway_url
        env["ONESOURCE_PORTAL_PUBLIC_URL"] = urls["portal"]
    return env


def platform_env(spec: ServiceSpec, gateway_url: str, client_id: str, secret_file: Path) -> dict[str, str]:
    """The environment that gives a registry its own platform client (``RegistrySettings.platform``).

    The mesh creates the client only once the gateway runs, after the registry has started, so the registry is told
    where the secret will be rather than the secret itself.
    """
    return {
        f"{spec.env_prefix}PLATFORM__GATEWAY_URL": gateway_url,
        f"{spec.env_prefix}PLATFORM__CLIENT_ID": client_id,
        f"{spec.env_prefix}PLATFORM__CLIENT_SECRET_FILE": str(secret_file),
    }


def relay_env(specs: Sequence[ServiceSpec], infra: InfraPlan, urls: Mapping[str, str]) -> dict[str, str]:
    """The environment of the relay process: every relayed service's own settings, and which they are."""
    relayed = [spec for spec in specs if spec.outbox]
    env: dict[str, str] = {}
    for spec in relayed:
        env.update(service_env(spec, infra, urls))
    env[APPS_ENV] = ",".join(spec.app_factory for spec in relayed)
    return env
