"""Identifier and code-list standards shared by every registry and the gateway: data and pure functions only.

One module per standard (or family of code lists), each citing what it implements:

- :mod:`.citizen_id` — GB 11643-1999 citizen ID numbers;
- :mod:`.uscc` — GB 32100-2015 unified social credit codes, with GB 11714-1997 organisation codes and the
  registration-department / entity-category table;
- :mod:`.divisions` — GB/T 2260 administrative divisions, dated (every edition of the national list since 1981);
- :mod:`.entity_types` — types of legal entities: GB 32100's categories and the market regulator's company types;
- :mod:`.industries` — GB/T 4754-2017 industrial classification;
- :mod:`.currencies` — ISO 4217 currency codes;
- :mod:`.land_use` — GB/T 21010-2017 land-use classification;
- :mod:`.person_codes` — GB/T 2261.1, GB/T 2261.2, GB/T 3304, GB/T 4658 and GB/T 4761 code lists of a person record.

The tables are CSV files under ``data/`` (their sources are in ``data/SOURCES.md``), read once on first use.
"""
