"""Bulk imports, as every registry has them: a streamed CSV or NDJSON file, each row checked by the registry's rules.

- :mod:`.parsing`: the file cut into blocks of whole records as it streams in, and each block read into rows with
  their line numbers (header and UTF-8 checks);
- :mod:`.checking`: the worker processes that check the blocks (``CheckerPool``, a service's
  ``import_checkers`` extension), blocks checked ahead of their load and loaded in file order (``check_ahead``), and
  the check of an :class:`~.service.ImportJob`'s block by the registry's rules into ``COPY`` text;
- :mod:`.models`: the columns of a registry's import and import-error tables (mixins, as ``RecordVersionColumns``);
- :mod:`.service`: an import as one transaction — every row checked by the registry's rules (and, once per value,
  by what another service must confirm) and registered as ``records.register`` registers, a block at a time,
  refused rows reported with line, field and reason, progress committed on the side;
- :mod:`.loading`: a block of checked records and their first versions written by ``COPY`` (or records that are
  their own first version until they change, ``loading.first_version_in_row``), their ``registered`` events
  deferred to the relay (a registry lists ``loading.registrations_renderer(kind)`` in its
  ``ServiceSpec.renderers``);
- :mod:`.router`: the endpoints ``POST /v1/imports``, ``GET /v1/imports``, ``GET /v1/imports/{id}`` and
  ``GET /v1/imports/{id}/errors`` for a registry's :class:`~.service.ImportJob`.

Population keeps its own, faster check and loader of persons (a person row is its own first version until it
changes) and uses :mod:`.parsing` and :mod:`.checking`'s pool and ``check_ahead``.
"""
