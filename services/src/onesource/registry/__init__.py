"""The registry core: what every base registry (population, legal entities, geo, macroeconomy) does, written once.

A registry writes only its domain — schema, rules, identifiers, code lists, lifecycle, queries — and takes the rest
from here:

- :mod:`.settings`: ``RegistrySettings`` (the owning department, configurable);
- :mod:`.access`: who may write (``RegistrarDep``), read history and reports (``OwnerDep``) and read whole records
  (``ReaderDep``: the owner, or the gateway acting under a grant);
- :mod:`.records`: versioned records keyed by a standard identifier — register, change (JSON merge patch under
  ``If-Match``), lifecycle transitions, history — each change a version and an event written with it;
- :mod:`.events`: the record events (``<entity>.registered`` / ``.updated`` / a lifecycle verb) with the whole
  record in ``data.record`` and the changed fields in ``data.changes``;
- :mod:`.directory`: a registry's catalog resources and demo data, declared beside its code and found by the mesh's
  seeding through the ``onesource.registries`` entry points.

Cursor pages, ``Idempotency-Key`` and ``If-Match`` are the kit's (``kit.pagination``, ``kit.idempotency``,
``kit.concurrency``), shared with the catalog, the exchange and the gateway.
"""
