"""Data queries (SDMX REST) and the SDMX-JSON 2.0 / SDMX-CSV 2.0 data messages."""
