"""Fetches small JSON documents (OpenID metadata, key sets) with bounded time and size, failing closed."""

from __future__ import annotations

import json
import time
from typing import Any

import requests
import urllib3

from shared.urls import fetch_url_problem

CONNECT_TIMEOUT_SECONDS = 3.05
READ_TIMEOUT_SECONDS = 5.0
TOTAL_DEADLINE_SECONDS = 10.0  # read timeouts are per read: a server dripping bytes must not hold us longer
MAX_DOCUMENT_BYTES = 512 * 1024  # Entra's key set is a few KB; anything near this is not a key set.


class FetchError(Exception):
    """The document could not be fetched or is not a JSON object. The message names the URL, never a body."""


def check_url(url: str) -> None:
    """https everywhere; plain http only on loopback (the local development identity provider)."""
    problem = fetch_url_problem(url)
    if problem is not None:
        raise FetchError(f"refusing to fetch {url!r}: it {problem}")


class JsonFetcher:
    """One pooled session; no redirects (a key set that moves is a configuration change, not a hop to follow)."""

    def __init__(self, session: requests.Session | None = None) -> None:
        self._session = session or requests.Session()

    def get_object(self, url: str) -> dict[str, Any]:
        check_url(url)
        try:
            with self._session.get(
                url,
                timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
                allow_redirects=False,
                stream=True,
                headers={"Accept": "application/json"},
            ) as response:
                if response.status_code != 200:
                    raise FetchError(f"{url} answered HTTP {response.status_code}")
                body = _read_capped(response)
        except requests.RequestException as error:
            raise FetchError(f"{url} could not be fetched: {type(error).__name__}") from error
        try:
            document = json.loads(body)
        except ValueError as error:
            raise FetchError(f"{url} did not answer JSON") from error
        if not isinstance(document, dict):
            raise FetchError(f"{url} did not answer a JSON object")
        return document


def _read_capped(response: requests.Response) -> bytes:
    deadline = time.monotonic() + TOTAL_DEADLINE_SECONDS
    chunks: list[bytes] = []
    size = 0
    while True:
        # read1: at most one socket read per call, so the deadline is checked between reads. (iter_content
        # fills a whole chunk first: a server dripping one byte per read timeout held us for hours.)
        try:
            chunk = response.raw.read1(16384, decode_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as error:  # read timeout, reset, broken encoding
            raise FetchError(f"{response.url} could not be read: {type(error).__name__}") from error
        if not chunk:
            break
        if time.monotonic() > deadline:
            raise FetchError(f"{response.url} took longer than {TOTAL_DEADLINE_SECONDS} s to answer")
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise FetchError(f"{response.url} answered more than {MAX_DOCUMENT_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
