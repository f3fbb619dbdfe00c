"""Alembic, per service: the shared ``env.py`` body, programmatic upgrades, and the kit's own tables.

Each service keeps its revisions in ``<service folder>/migrations``. The local mesh applies them at
start-up (``migrate_on_startup``); production runs ``onesource migrate <service>`` as a one-shot job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, pool
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from onesource.kit.settings import ServiceSettings
from onesource.kit.tables import NOTIFY_CHANNEL, kit_metadata


def service_migrations_dir(package_file: str) -> Path:
    """``<service folder>/migrations`` for a service package's ``__init__.py`` (``src/onesource/<pkg>``)."""
    return Path(package_file).resolve().parents[3] / "migrations"


def alembic_config(migrations_dir: Path, dsn: str) -> Config:
    """An Alembic config for one service's revisions and database."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.attributes["dsn"] = dsn
    return config


def upgrade(migrations_dir: Path, dsn: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (blocking; call via ``asyncio.to_thread`` from async code)."""
    command.upgrade(alembic_config(migrations_dir, dsn), revision)


def run_env(metadata: MetaData, settings_factory: Callable[[], ServiceSettings]) -> None:
    """The body of every service's ``migrations/env.py``."""
    config = context.config
    dsn = config.attributes.get("dsn") or settings_factory().database_url.get_secret_value()
    target = [metadata, kit_metadata]

    if context.is_offline_mode():
        context.configure(url=dsn, target_metadata=target, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(dsn, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(run)
        await engine.dispose()

    asyncio.run(run_async())


def create_kit_tables_v1() -> None:
    """Create the outbox and inbox tables (version 1); called from each service's first revision."""
    op.create_table(
        "outbox_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("trace_context", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_event"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_event_id"),
    )
    op.create_index(
        "ix_outbox_event_pending",
        "outbox_event",
        ["id"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
    # Wakes the relay once per inserting statement; delivered on commit only, never for a rollback.
    op.execute(
        f"""
        CREATE FUNCTION outbox_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{NOTIFY_CHANNEL}', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER outbox_event_notify AFTER INSERT ON outbox_event"
        " FOR EACH STATEMENT EXECUTE FUNCTION outbox_event_notify()"
    )
    op.create_table(
        "handled_event",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_handled_event"),
    )


def create_kit_tables_on(connection: Connection) -> None:
    """Create the kit's tables on a plain connection, outside Alembic (benchmarks and tools)."""
    with Operations.context(MigrationContext.configure(connection)):
        create_kit_tables_v1()
        outbox_payload_json_v2()
        outbox_renderer_v3()


def drop_kit_tables_v1() -> None:
    """Undo :func:`create_kit_tables_v1`."""
    op.drop_table("handled_event")
    op.drop_index("ix_outbox_event_pending", table_name="outbox_event")
    op.drop_table("outbox_event")
    op.execute("DROP FUNCTION outbox_event_notify()")


def outbox_payload_json_v2() -> None:
    """Store outbox payloads as ``json`` rather than ``jsonb`` (version 2); called from a revision in each service.

    A payload is written once and read once, as text, by the relay (``payload::text``): ``jsonb``'s conversion to
    its binary form, which nothing reads, is a large share of a bulk ``COPY`` into the outbox.
    ``json`` still validates on write, keeps the text exactly as written (the relay publishes those bytes without
    rendering them), and still has ``->`` and ``->>``.
    """
    op.alter_column(
        "outbox_event",
        "payload",
        type_=postgresql.JSON(),
        existing_type=postgresql.JSONB(),
        existing_nullable=False,
        postgresql_using="payload::json",
    )


def outbox_payload_jsonb_v2_down() -> None:
    """Undo :func:`outbox_payload_json_v2`."""
    op.alter_column(
        "outbox_event",
        "payload",
        type_=postgresql.JSONB(),
        existing_type=postgresql.JSON(),
        existing_nullable=False,
        postgresql_using="payload::jsonb",
    )


def outbox_renderer_v3() -> None:
    """Outbox rows that stand for events written at publication (version 3); called from a revision in each service.

    A row whose ``renderer`` is set holds no event but the keys of many (see ``outbox.add_deferred``): a bulk load
    writes one such row per shard and block instead of one row per record, and the relay has the named renderer
    write the events from the committed rows when it publishes them. Nullable, so adding it rewrites nothing.

    Payloads are stored out of line without compression when they are large (``STORAGE EXTERNAL``): such a row
    names a few hundred keys (5–10 kB), and pglz compressing them took a bulk import's load more time than writing
    them (the events, below the 2 kB TOAST threshold, stay inline as before). Changing it rewrites nothing either.
    """
    op.add_column("outbox_event", sa.Column("renderer", sa.Text(), nullable=True))
    op.execute("ALTER TABLE outbox_event ALTER COLUMN payload SET STORAGE EXTERNAL")


def outbox_renderer_v3_down() -> None:
    """Undo :func:`outbox_renderer_v3` (refused while deferred rows wait: their events would be lost)."""
    # Locked first, so that no bulk load commits a deferred row between the check and the drop.
    op.execute("LOCK TABLE outbox_event IN ACCESS EXCLUSIVE MODE")
    op.execute(
        """
        DO $$ BEGIN
            IF EXISTS (SELECT FROM outbox_event WHERE renderer IS NOT NULL AND published_at IS NULL) THEN
                RAISE EXCEPTION 'outbox rows of deferred events are not yet published; run the relay first';
            END IF;
        END $$
        """
    )
    op.execute("DELETE FROM outbox_event WHERE renderer IS NOT NULL")
    op.drop_column("outbox_event", "renderer")
    op.execute("ALTER TABLE outbox_event ALTER COLUMN payload SET STORAGE EXTENDED")


def create_idempotency_record_table() -> None:
    """The table of :class:`onesource.kit.idempotency.IdempotencyRecordColumns`, for a service's revision."""
    op.create_table(
        "idempotency_record",
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key", name="pk_idempotency_record"),
    )
