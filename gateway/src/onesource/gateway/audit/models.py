"""Tables of the audit log: the hash-chained entries, the one chain head row, and the signed checkpoints.

The tables are append-only in the database: triggers (migration 0002) refuse ``UPDATE``, ``DELETE`` and
``TRUNCATE`` of entries and checkpoints, and any move of the head other than forward. The per-record lookup
("who read this record") is a GIN index over the expression ``audit_record_refs(resources, record_keys)`` — every
``resource || U+001F || key`` pair of an entry — so it indexes exactly what the hash covers and needs no side table
that could drift from the chain.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Integer, SmallInteger, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from onesource.gateway.models import Base

#: ``prev_hash`` of the first entry, and the head's hash while the chain is empty.
GENESIS_HASH = "0" * 64


class ChainEntry(Base):
    """One data call in the chain (table ``audit_entry``); see :mod:`onesource.gateway.audit.chain` for the hash."""

    __tablename__ = "audit_entry"
    __table_args__ = (CheckConstraint("seq > 0", name="seq_positive"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time: Mapped[datetime]
    request_id: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(Text)
    method: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    latency_us: Mapped[int] = mapped_column(BigInteger)
    request_hash: Mapped[str] = mapped_column(Text)
    resources: Mapped[list[str]] = mapped_column(ARRAY(Text))
    grant_ids: Mapped[list[str]] = mapped_column(ARRAY(Text))
    record_keys: Mapped[list[str]] = mapped_column(ARRAY(Text))
    fields: Mapped[list[str]] = mapped_column(ARRAY(Text))
    prev_hash: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(Text)


class ChainHead(Base):
    """The chain's one head row: the last ``seq`` and its ``hash``; writers lock it ``FOR UPDATE`` per batch."""

    __tablename__ = "audit_head"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("seq >= 0", name="seq_not_negative"),
    )

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class ChainCheckpoint(Base):
    """A signed statement "the chain's entry ``seq`` has hash ``hash``" (compact JWS, EdDSA, key ``kid``)."""

    __tablename__ = "audit_checkpoint"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime]
    kid: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)
