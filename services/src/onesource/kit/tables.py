"""Tables the kit owns inside every service's database: the outbox and the consumer inbox.

They live in their own ``MetaData`` so each service's first migration creates them through
:func:`onesource.kit.migrations.create_kit_tables` and no service redefines them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    SmallInteger,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSON, JSONB

from onesource.kit.db import new_metadata

kit_metadata = new_metadata()

#: The channel the outbox trigger notifies on commit; the relay listens on it.
NOTIFY_CHANNEL = "onesource_outbox"

outbox_event = Table(
    "outbox_event",
    kit_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("event_id", Text, nullable=False, unique=True),
    Column("topic", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("shard", SmallInteger, nullable=False),
    # json, not jsonb: written once, read once as text (see migrations.outbox_payload_json_v2)
    Column("payload", JSON, nullable=False),
    # NULL for an event; for deferred events, the renderer that writes them at publication (see outbox.add_deferred)
    Column("renderer", Text),
    Column("trace_context", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Index(
        "ix_outbox_event_pending",
        "id",
        postgresql_where=text("published_at IS NULL"),
    ),
)

handled_event = Table(
    "handled_event",
    kit_metadata,
    Column("consumer", Text, primary_key=True),
    Column("event_id", Text, primary_key=True),
    Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
