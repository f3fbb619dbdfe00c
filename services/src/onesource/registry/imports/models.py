"""The columns of a registry's bulk-import tables, as mixins for its own tables (as ``RecordVersionColumns``).

A registry declares, on its own ``Base``::

    class EntityImport(RecordImportColumns, Base):
        __tablename__ = "entity_import"

    class EntityImportError(RecordImportErrorColumns, Base):
        __tablename__ = "entity_import_error"
        __table_args__ = (Index("ix_entity_import_error_import_id_line", "import_id", "line"),)
        import_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entity_import.id", ondelete="CASCADE"))
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Identity, String, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column


class RecordImportColumns:
    """One bulk import: who sent which file, how far it got, what it accepted and refused, and how it ended."""

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    format: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[str] = mapped_column(String(128))
    department: Mapped[str] = mapped_column(String(32))
    rows_read: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    accepted: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    rejected: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    failure: Mapped[str | None]
    request_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]


class RecordImportErrorColumns:
    """One refused row of an import: its line, its record key if it has one, the field at fault and why.

    The table declares ``import_id`` itself (a foreign key to its import table) and an index on (import_id, line).
    """

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    line: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str | None] = mapped_column(String(64))
    field: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str]
