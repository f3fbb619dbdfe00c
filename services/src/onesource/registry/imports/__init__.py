"""Bulk imports, as every registry has them: a streamed CSV or NDJSON file, each row checked by the registry's rules.

- :mod:`.parsing`: the file cut into blocks of whole records as it streams in, and each block read into rows with
  their line numbers (header and UTF-8 checks);
- :mod:`.models`: the columns of a registry's import and import-error tables (mixins, as ``RecordVersionColumns``);
- :mod:`.service`: an import as one transaction — every row checked by the registry's rules and registered as
  ``records.register`` registers, a block at a time, refused rows reported with line, field and reason, progress
  committed on the side;
- :mod:`.loading`: a block of checked records written by ``COPY`` and one set-based insert, their first versions
  copied, their ``registered`` events deferred to the relay (a registry lists
  ``loading.registrations_renderer(kind)`` in its ``ServiceSpec.renderers``);
- :mod:`.router`: the endpoints ``POST /v1/imports``, ``GET /v1/imports``, ``GET /v1/imports/{id}`` and
  ``GET /v1/imports/{id}/errors`` for a registry's :class:`~.service.ImportJob`.

A registry whose imports must be faster than one registration per row (population: ``COPY``, deferred events,
worker processes) keeps its own loader and uses only :mod:`.parsing`.
"""
