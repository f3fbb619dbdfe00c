"""Loads: each an SDMX-CSV 2.0 or SDMX-JSON 2.0 data message checked against the structure, stored as a vintage."""
