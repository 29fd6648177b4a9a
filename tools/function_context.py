"""The invocation context a Functions host passes, for running function_app.py outside one (the local runner,
tests and benchmarks). Only the invocation id matters to our functions."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import azure.functions as func


class LocalContext(func.Context):
    """The invocation context a real host passes; only the invocation id matters to our functions."""

    def __init__(self, function_name: str, function_directory: str) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None

    @property
    def thread_local_storage(self) -> Any:
        return threading.local()
