"""Which service and path a call through the door names: decided once, on the raw path the caller sent.

The gateway must decide coverage on the very path the service will route, and forward exactly that path. A service
percent-decodes its path once; so the gateway decodes each segment of the raw path once too, and refuses a segment
whose decoded text would change the path's structure to the service — ``/`` (another segment), ``?`` (a query),
``#``, a backslash (a separator to some servers) or ``%`` (a second round of decoding: ``%252F``) — with 400
``unsafe-path``, and ``.`` / ``..`` segments likewise. What is left is forwarded re-encoded canonically, so that the
service decodes it back to exactly the path that was checked, and the record key the audit entry names is the one
the service reads. NUL (or a lone surrogate) in a segment is 422 ``unstorable-input``, as everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

from onesource.gateway.forwarding.errors import UnsafePath
from onesource.kit.storable import check_storable

#: Characters a segment may not carry (decoded): each would change the path's structure to the service.
_STRUCTURAL = frozenset("/?#%\\")
#: RFC 3986 ``pchar`` characters left as they are when a segment is encoded again.
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"


@dataclass(frozen=True, slots=True)
class Target:
    """The service a call names, and its path there: as checked (decoded) and as forwarded (encoded)."""

    service: str
    path: str
    """The service's path, decoded (as the service routes it), starting with ``/``."""
    raw_path: str
    """The same path percent-encoded canonically (what is forwarded), starting with ``/``."""


def _segment(raw: str) -> str:
    try:
        decoded = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise UnsafePath("a path segment is not percent-encoded UTF-8") from None
    check_storable(decoded, "path")
    if _STRUCTURAL.intersection(decoded):
        raise UnsafePath(
            "a path segment may not contain '/', '?', '#', a backslash or '%', encoded or not: the service would read "
            "another path than the one the gateway checks"
        )
    if decoded in {".", ".."}:
        raise UnsafePath("paths may not contain '.' or '..' segments")
    return decoded


def parse(raw_target: str) -> Target:
    """The target of ``raw_target`` (``/api/<service>/<path>`` as sent, without the query), or 400 / 422."""
    _, _, rest = raw_target.partition("/api/")
    raw_service, _, raw_path = rest.partition("/")
    segments = [_segment(segment) for segment in raw_path.split("/")]
    return Target(
        service=_segment(raw_service),
        path="/" + "/".join(segments),
        raw_path="/" + "/".join(quote(segment, safe=_SEGMENT_SAFE) for segment in segments),
    )
