"""Dataflows and their structures (SDMX information model): agencies, code lists, data structure definitions."""
