"""One network policy for both clients: which CA bundle to trust and which proxy to use, from the environment.

The sync client (requests) and the async client (httpx, in the triggerer) read the same variables the same
way, so a corporate CA bundle or proxy that works in poke mode also works when the sensor defers:

- CA bundle: ``REQUESTS_CA_BUNDLE``, else ``CURL_CA_BUNDLE`` (what requests reads), else ``SSL_CERT_FILE``,
  else ``SSL_CERT_DIR`` (what OpenSSL and httpx read); none set: the default trust store. TLS verification
  is always on.
- Proxy: ``https_proxy`` / ``http_proxy`` for the API URL's scheme, else ``all_proxy`` (upper-case names
  too), unless ``no_proxy`` names the host (names, domain suffixes, ``host:port``, IP networks, ``*``).

Both clients then turn their libraries' own environment reading off, so this policy is the only one.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["CA_BUNDLE_VARIABLES", "NetworkPolicy", "network_policy"]

#: The variables naming a CA bundle (file or directory), first set wins.
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


@dataclass(frozen=True)
class NetworkPolicy:
    """How to reach the API host.

    :param verify: ``True`` (the default trust store) or the path of a CA bundle file or directory.
    :param proxy: the proxy URL, or ``None`` to connect directly.
    """

    verify: bool | str
    proxy: str | None


def _ca_bundle(environ: Mapping[str, str]) -> str | None:
    for name in CA_BUNDLE_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def _bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether ``no_proxy`` exempts ``host`` (as requests reads it)."""
    host = host.lower().strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in (e.strip().lower() for e in no_proxy.replace(" ", ",").split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and (not entry_port.isdigit() or int(entry_port) != port):
            continue
        name = name.lstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


def network_policy(url: str, environ: Mapping[str, str] | None = None) -> NetworkPolicy:
    """The CA bundle and proxy for requests to ``url``.

    :param url: the API host URL (its scheme and host choose the proxy).
    :param environ: the environment (default: ``os.environ``).
    """
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    # scheme -> proxy; sorted so that lower-case names (the convention tools agree on) win.
    proxies = {
        name.lower().removesuffix("_proxy"): value.strip()
        for name, value in sorted(env.items(), key=lambda item: item[0].islower())
        if name.lower().endswith("_proxy") and value.strip()
    }
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if proxy and _bypassed(parts.hostname or "", parts.port, proxies.get("no", "")):
        proxy = None
    if proxy and "://" not in proxy:
        proxy = f"http://{proxy}"
    return NetworkPolicy(verify=_ca_bundle(env) or True, proxy=proxy or None)
