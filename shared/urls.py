"""The one URL rule for everything the function fetches or is told to fetch from: https with a host; plain http only
for loopback hosts (the local development identity provider). Callers turn the answer into their own error."""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def split_url(url: str) -> SplitResult | None:
    """The URL's parts, or None when it does not parse (an unclosed IPv6 bracket, a port that is not a number)."""
    try:
        parts = urlsplit(url)
        _ = parts.hostname, parts.port  # both raise ValueError on a malformed authority
    except ValueError:
        return None
    return parts


def fetch_url_problem(url: str) -> str | None:
    """What keeps `url` from being fetched under the rule, or None when it may be."""
    parts = split_url(url)
    if parts is None:
        return "is not a valid URL"
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and host:
        return None if is_loopback_host(host) else "plain http is accepted only for loopback hosts; use https"
    return "must be an https URL"


def app_config_endpoint_problem(endpoint: str | None) -> str | None:
    """What is wrong with an App Configuration endpoint, or None when it is usable (or not set)."""
    if endpoint is None:
        return None
    parts = split_url(endpoint)
    if parts is None:
        return "is not a valid URL"
    if parts.scheme != "https" or not parts.hostname:
        return "must be an https URL like https://<store>.azconfig.io"
    if parts.query or parts.fragment or parts.path not in ("", "/"):
        return "must be the store's endpoint only, without a path, query or fragment"
    return None
