"""The egress proxy for the Admin API, from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`).

httpx reads these variables only when it builds its own transport; the client passes its own (for its
connection limits), so it reads them here instead. Clusters that allow egress only through a proxy then
work without a code change, and `NO_PROXY` still exempts hosts. Through an `https://` base URL the proxy
sees a CONNECT to the host and port only: the admin key travels inside TLS, never to the proxy itself.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

__all__ = ["proxy_for"]


def proxy_for(base_url: str) -> str | None:
    """The proxy URL to reach `base_url` through, or None for a direct connection."""
    parts = urlsplit(base_url)
    proxy = urllib.request.getproxies_environment().get(parts.scheme)
    if not proxy or (parts.hostname and urllib.request.proxy_bypass(parts.hostname)):
        return None
    return proxy
