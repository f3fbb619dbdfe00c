"""Settings of the legal-entity registry (``ONESOURCE_LEGAL_ENTITY_*``); the only place it reads the environment."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from onesource.registry.settings import RegistrySettings

#: The purpose the registry states when it asks population-db, through the gateway, about a legal representative;
#: its department's grant on ``population.person`` is for this purpose (the mesh asks for it: ``directory.py``).
REPRESENTATIVE_CHECK_PURPOSE = "法人登记法定代表人身份核验"
#: The population registry's resource whose base items say whether a person is registered and alive.
PERSON_RESOURCE = "population.person"
#: Where the gateway serves population-db's persons.
PERSONS_PATH = "/api/population/v1/persons"


class Settings(RegistrySettings):
    """Settings of the legal-entity registry."""

    model_config = SettingsConfigDict(env_prefix="ONESOURCE_LEGAL_ENTITY_", extra="ignore", env_nested_delimiter="__")

    service_name: ClassVar[str] = "legal-entity"

    database_url: SecretStr = SecretStr("postgresql+asyncpg://postgres@127.0.0.1:54320/onesource_legal_entity")
    """SQLAlchemy async DSN of this service's own database."""

    owner_department: str = "amr"
    import_batch_rows: int = Field(default=500, ge=1)
    """Lines of an import file checked and loaded per block: the database waits for the workers' first block only,
    so smaller blocks than the core's default start the load sooner (an entity takes more checking than it loads)."""
    persons_path: str = PERSONS_PATH
    """Where persons are read through the gateway (``{platform.gateway_url}{persons_path}/{id_number}``)."""
    representative_check_purpose: str = REPRESENTATIVE_CHECK_PURPOSE
    """The purpose of the grant under which legal representatives are checked (``X-OneSource-Purpose``)."""
    findings_enabled: bool = True
    """Take population's change events, delivered under the owner's grant, into the findings report."""

    @property
    def person_deliveries_topic(self) -> str:
        """The owner's delivery topic for ``population.person`` (the exchange's ``onesource.delivery.<dept>.<id>``)."""
        return f"onesource.delivery.{self.owner_department}.{PERSON_RESOURCE}"
