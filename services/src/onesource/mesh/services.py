"""The service table of the local mesh and the pure computations around it: ports, databases, environments."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "HOST",
    "SERVICES",
    "InfraPlan",
    "ServiceSpec",
    "database_name",
    "plan_ports",
    "platform_env",
    "service_env",
    "service_urls",
]

HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One service of the mesh: its name, import package, env prefix and port offset from the gateway."""

    name: str
    package: str
    env_prefix: str
    port_offset: int

    @property
    def app_factory(self) -> str:
        """The `module:factory` uvicorn imports."""
        return f"onesource.{self.package}.main:create_app"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("gateway", "gateway", "ONESOURCE_GATEWAY_", 0),
    ServiceSpec("catalog", "catalog", "ONESOURCE_CATALOG_", 1),
    ServiceSpec("exchange", "exchange", "ONESOURCE_EXCHANGE_", 2),
    ServiceSpec("population", "population", "ONESOURCE_POPULATION_", 101),
    ServiceSpec("legal-entity", "legal_entity", "ONESOURCE_LEGAL_ENTITY_", 102),
    ServiceSpec("geo", "geo", "ONESOURCE_GEO_", 103),
    ServiceSpec("macroeconomy", "macroeconomy", "ONESOURCE_MACROECONOMY_", 104),
)


@dataclass(frozen=True, slots=True)
class InfraPlan:
    """Where the shared infrastructure of one mesh run is."""

    database_url: str
    """Async SQLAlchemy DSN with the placeholder `{database}` where the per-service database name goes."""
    kafka_bootstrap: str
    embedded_kafka: bool
    """The embedded Tansu broker rejects idempotent producers, so it needs `ONESOURCE_KAFKA_IDEMPOTENCE=false`."""
    admin_secret: str

    def database_dsn(self, database: str) -> str:
        """The async DSN of one database."""
        # str.replace, not str.format: a password may contain braces.
        return self.database_url.replace("{database}", database)


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
        f"{spec.env_prefix}DATABASE_URL": infra.database_dsn(database_name(spec)),
        f"{spec.env_prefix}MIGRATE_ON_STARTUP": "true",
        "ONESOURCE_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        # Consumer groups join slowly against Tansu with the default 10 s session timeout.
        "ONESOURCE_KAFKA_SESSION_TIMEOUT_MS": "1500",
        "ONESOURCE_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        "ONESOURCE_AUTH_JWKS_URL": f"{gateway_url}/.well-known/jwks.json",
        "ONESOURCE_OTEL_LOG_JSON": "true",
    }
    if infra.embedded_kafka:
        env["ONESOURCE_KAFKA_IDEMPOTENCE"] = "false"
    if spec.name == "gateway":
        env["ONESOURCE_BOOTSTRAP_ADMIN_SECRET"] = infra.admin_secret
        env["ONESOURCE_GATEWAY_SERVICE_URLS"] = json.dumps(
            {name: url for name, url in urls.items() if name != "gateway"}, separators=(",", ":")
        )
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
