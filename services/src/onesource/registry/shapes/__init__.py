"""Answer shapes the gateway masks, as pure functions over parsed answers (DESIGN.md "Answer shapes").

``scope``: the row-scope rule every shape applies; ``geojson``: GeoJSON Features and FeatureCollections (OGC API –
Features pages included); ``sdmx``: SDMX-JSON 2.0 / SDMX-CSV 2.0 data messages. Registries use the same readers for
what they load; the gateway masks with them. No service state, no I/O.
"""
