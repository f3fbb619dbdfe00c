"""Answer shapes the gateway masks, as pure functions over parsed answers (``sdmx``: SDMX-JSON 2.0 / SDMX-CSV 2.0).

Registries use the same readers for what they load; the gateway masks with them. No service state, no I/O.
"""
