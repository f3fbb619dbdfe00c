"""Tables of gateway: its own database, its own metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from onesource.kit.db import TYPE_ANNOTATION_MAP, new_metadata


class Base(DeclarativeBase):
    """Declarative base of this service's tables."""

    metadata = new_metadata()
    type_annotation_map: dict[Any, Any] = TYPE_ANNOTATION_MAP


class Department(Base):
    """A government department: a party that owns or consumes data."""

    __tablename__ = "department"
    __table_args__ = (CheckConstraint(r"code ~ '^[a-z][a-z0-9-]{1,31}$'", name="code_format"),)

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    uscc: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Client(Base):
    """A client system acting for a department, authenticated by a hashed secret."""

    __tablename__ = "client"
    __table_args__ = (
        CheckConstraint(r"client_id ~ '^[a-z0-9][a-z0-9-]{2,63}$'", name="client_id_format"),
        Index("ix_client_department", "department", "client_id"),
    )

    client_id: Mapped[str] = mapped_column(Text, primary_key=True)
    department: Mapped[str] = mapped_column(Text, ForeignKey("department.code"))
    name: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[str]] = mapped_column(ARRAY(Text))
    secret_hash: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    secret_rotated_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class SigningKey(Base):
    """A token signing key; the private half is encrypted at rest (AES-GCM)."""

    __tablename__ = "signing_key"
    __table_args__ = (
        # At most one active key, so two gateways never sign with different keys after a race.
        Index("uq_signing_key_active", "active", unique=True, postgresql_where=text("active")),
    )

    kid: Mapped[str] = mapped_column(Text, primary_key=True)
    algorithm: Mapped[str] = mapped_column(Text, server_default=text("'EdDSA'"))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    retired_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean)


class IdempotencyRecord(Base):
    """The first answer to a creating POST with an ``Idempotency-Key``; encrypted, as it may hold a secret."""

    __tablename__ = "idempotency_record"
    __table_args__ = (PrimaryKeyConstraint("principal", "key", name="pk_idempotency_record"),)

    principal: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    body_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Person(Base):
    """A person acting for a department (steward, coordinator, auditor, admin), signing in with a password."""

    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint(r"username ~ '^[a-z][a-z0-9._-]{2,63}$'", name="username_format"),
        Index("ix_person_department", "department", "username"),
    )

    username: Mapped[str] = mapped_column(Text, primary_key=True)
    department: Mapped[str] = mapped_column(Text, ForeignKey("department.code"))
    name: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[str]] = mapped_column(ARRAY(Text))
    password_hash: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    password_reset_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    signed_out_at: Mapped[datetime | None]
    """Tokens issued before it are refused: the person signed out (every session) at this moment."""


class AuthorizationCode(Base):
    """A one-time OAuth 2 authorization code (RFC 6749 §4.1.2), stored as its SHA-256, bound to a PKCE challenge."""

    __tablename__ = "authorization_code"

    code_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    client_id: Mapped[str] = mapped_column(Text)
    redirect_uri: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(Text)
    username: Mapped[str] = mapped_column(Text, ForeignKey("person.username", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None]
    auth_time: Mapped[datetime]
    expires_at: Mapped[datetime]


class RefreshToken(Base):
    """A person's refresh token, stored as its SHA-256; each use replaces it (RFC 9700 §4.14.2 rotation)."""

    __tablename__ = "refresh_token"
    __table_args__ = (Index("ix_refresh_token_username", "username"),)

    token_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    username: Mapped[str] = mapped_column(Text, ForeignKey("person.username", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    auth_time: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
