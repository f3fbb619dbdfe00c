"""The steward portal: server-rendered pages through which people run OneSource via the gateway's public API."""
