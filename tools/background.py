"""Serve an HTTP server on a background thread for as long as a `with` block lasts (development servers)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from typing import TypeVar

Server = TypeVar("Server", bound=ThreadingHTTPServer)


@contextmanager
def serving_in_background(server: Server, name: str) -> Iterator[Server]:
    """Starts `server` on a daemon thread; on exit shuts it down, closes its socket and waits for the thread."""
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=name, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
