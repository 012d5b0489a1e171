"""Loopback checks shared by the servers the toolkit runs (`serve`, the Hub test server).

A server bound to loopback answers only requests that name a loopback host: a web page the
operator opens can otherwise reach it through a DNS name that resolves to 127.0.0.1 (DNS
rebinding).
"""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) names this machine's loopback interface.

    Example:
        ```python
        >>> is_loopback("127.0.0.2"), is_loopback("example.com")
        (True, False)
        ```
    """
    try:
        return host in LOOPBACK_NAMES or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The host of a `Host` header: `[::1]:8080` -> `::1`, `localhost:80` -> `localhost`."""
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header
