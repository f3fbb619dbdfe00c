"""Settings refuse development secrets outside the local mesh and tests."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from onesource.kit.settings import ServiceSettings


class SecretiveSettings(ServiceSettings):
    signing_secret: SecretStr = SecretStr("dev-insecure-signing")


def test_local_accepts_the_development_default() -> None:
    assert SecretiveSettings(environment="local").signing_secret.get_secret_value().startswith("dev-insecure-")


def test_production_refuses_the_development_default() -> None:
    with pytest.raises(ValidationError, match="signing_secret still holds the development default"):
        SecretiveSettings(environment="production")


def test_production_accepts_a_real_secret() -> None:
    settings = SecretiveSettings(environment="production", signing_secret=SecretStr("s3cr3t-from-vault"))
    assert settings.environment == "production"


def test_shared_groups_read_their_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESOURCE_KAFKA_BOOTSTRAP", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("ONESOURCE_ENVIRONMENT", "production")
    settings = ServiceSettings()
    assert settings.kafka.bootstrap == "kafka-1:9092,kafka-2:9092"
    assert settings.environment == "production"
