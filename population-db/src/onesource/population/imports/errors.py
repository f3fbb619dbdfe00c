"""Errors of bulk imports."""

from __future__ import annotations

from onesource.kit.errors import NotFound, ServiceError


class InvalidImportFile(ServiceError):
    """The file as a whole cannot be read (header, encoding); nothing was imported (422)."""

    status = 422
    type = "invalid-import-file"
    title = "Invalid import file"


class ImportNotFound(NotFound):
    """No import has this id (404)."""

    type = "import-not-found"
    title = "Import not found"
