"""Where a call comes from: the peer's address, or — behind a configured reverse proxy — the caller's it forwarded.

``X-Forwarded-For`` is only believed when the peer is one of ``trusted_proxies`` (anyone else could write any address
into it, and so shed a throttle or pin it on someone else). Behind trusted proxies the caller is the right-most
address that is not itself a trusted proxy: the last one a trusted hop saw connect. The gateway does this itself and
runs without uvicorn's own rewriting of the peer (``--no-proxy-headers``), whose default trusts every local caller.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _within(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def caller_address(scope: Scope, trusted_proxies: Sequence[Network]) -> str:
    """The caller's address: the peer, or the one a trusted proxy forwarded (``X-Forwarded-For``)."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if not trusted_proxies or not _within(peer, trusted_proxies):
        return peer
    hops = [
        hop.strip()
        for name, value in scope["headers"]
        if name == b"x-forwarded-for"
        for hop in value.decode("latin-1").split(",")
    ]
    for hop in reversed(hops):
        if _within(hop, trusted_proxies):
            continue
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            return peer  # not an address a trusted proxy would write: the proxy itself is all we know
    return peer
