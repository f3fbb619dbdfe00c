"""Test support for every service: real PostgreSQL and Kafka, per-test rollback, tokens, topic reading.

Loaded as a pytest plugin (``-p onesource.kit.testing.plugin``). By default it starts an embedded
PostgreSQL and an embedded Tansu broker per test worker; ``ONESOURCE_TEST_DATABASE_URL`` (an admin DSN of a
server where it may create databases) and ``ONESOURCE_KAFKA_BOOTSTRAP`` point it at real servers instead.
"""
