"""A cold instance builds its service once: the warm-up thread and a burst of first requests, released the moment
`import function_app` returns, cost exactly one metadata and one keys fetch from the loopback OpenID provider.

The import runs in a fresh Python process (a real cold start); the provider runs here and counts what it served.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tools.paths import REPO_ROOT
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.service import base_settings, decode_contact_token
from tools.testkit.tokens import access_token

BURST = 16
COLD_INSTANCE = """
import json, sys, threading
import azure.functions as func
from tools.function_context import LocalContext

released = threading.Event()
statuses = []

def first_request(token):
    released.wait()
    import function_app
    request = func.HttpRequest("GET", "http://127.0.0.1/api/x", headers={"Authorization": "Bearer " + token},
                               params={}, route_params={}, body=b"")
    response = function_app.aws_connect_jwt(request, LocalContext("x", "."))
    statuses.append((response.status_code, response.get_body().decode()))

tokens = json.loads(sys.stdin.read())
# Building the service takes 50 ms here (a slow cold disk): every caller that arrives meanwhile would build its own.
import time
from shared.contact_token_service import ContactTokenService
build = ContactTokenService.from_environment.__func__
ContactTokenService.from_environment = classmethod(lambda cls, *a, **k: (time.sleep(0.05), build(cls, *a, **k))[1])
threads = [threading.Thread(target=first_request, args=(token,)) for token in tokens]
for thread in threads:
    thread.start()
import function_app  # the warm-up thread starts here
released.set()
for thread in threads:
    thread.join(60)
print(json.dumps(statuses))
"""


def test_a_burst_on_a_cold_instance_costs_one_metadata_and_one_keys_fetch(fake_entra: FakeEntra) -> None:
    environment = {**os.environ, **base_settings(fake_entra.authority)}
    tokens = [access_token(fake_entra.key) for _ in range(BURST)]
    finished = subprocess.run(
        [sys.executable, "-c", COLD_INSTANCE],
        input=json.dumps(tokens),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=environment,
        timeout=120,
        check=True,
    )
    answers = json.loads(finished.stdout)
    assert [status for status, _ in answers] == [200] * BURST, finished.stderr[-2000:]
    for _, body in answers:
        decode_contact_token(body)
    assert (fake_entra.fetch_count("metadata"), fake_entra.fetch_count("keys")) == (1, 1)
