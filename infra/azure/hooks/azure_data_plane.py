"""The hooks' calls to the App Configuration and Key Vault data planes: azd tokens, bounded retries, honest errors.

Plain REST with the standard library (the hooks run on whatever `python3` azd finds). A request is retried only
when waiting can help: 401/403 (a role granted by this very deployment takes minutes to apply), 429 (the store's
request quota; its `retry-after-ms` / `Retry-After` is honoured), 5xx and a failed connection. Anything else
(400, 404, 409, ...) and a token azd cannot issue stop at once, and giving up names the cause that was seen.
"""

from __future__ import annotations

import json
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from azd_token import AzdTokenError, AzdTokens

APP_CONFIGURATION_API_VERSION = "2023-11-01"
KEY_VAULT_API_VERSION = "7.5"
KEY_VAULT_REFERENCE_CONTENT_TYPE = "application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8"
_KEY_VALUE_MEDIA_TYPE = "application/vnd.microsoft.appconfig.kv+json"
# Audiences by cloud (the azure-appconfiguration SDK's list; Key Vault's are its own host suffixes).
_APP_CONFIGURATION_AUDIENCES = {
    ".azconfig.azure.cn": "https://appconfig.azure.cn",
    ".azconfig.azure.us": "https://appconfig.azure.us",
}
_KEY_VAULT_AUDIENCES = {
    ".vault.azure.cn": "https://vault.azure.cn",
    ".vault.usgovcloudapi.net": "https://vault.usgovcloudapi.net",
}


class DataPlaneError(Exception):
    """A request that failed for good; each problem says what happened and what to do."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


def _scope(url: str, audiences: dict[str, str], public: str) -> str:
    host = urlsplit(url).hostname or ""
    audience = next((value for suffix, value in audiences.items() if host.endswith(suffix)), public)
    return audience + "/.default"


def app_configuration_scope(endpoint: str) -> str:
    return _scope(endpoint, _APP_CONFIGURATION_AUDIENCES, "https://appconfig.azure.com")


def key_vault_scope(vault: str) -> str:
    return _scope(vault, _KEY_VAULT_AUDIENCES, "https://vault.azure.net")


@dataclass
class Retries:
    attempts: int = 12
    delay: float = 30.0  # seconds between tries; 12 x 30 s covers a new role assignment
    sleep: Callable[[float], None] = time.sleep
    log: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr))


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def _send(method: str, url: str, token: str, body: bytes | None, content_type: str | None) -> _Answer:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310 -- https only
    context = ssl.create_default_context()
    try:
        with urllib.request.urlopen(request, timeout=60, context=context) as response:  # noqa: S310
            return _Answer(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except urllib.error.HTTPError as error:
        return _Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def _detail(answer: _Answer) -> str:
    """A short reason from the service's error body (problem+json or Key Vault's {"error": {...}})."""
    try:
        document = json.loads(answer.body or b"{}")
    except ValueError:
        return ""
    if not isinstance(document, dict):
        return ""
    error = document.get("error")
    if isinstance(error, dict):
        return " ".join(str(error.get(part, "")) for part in ("code", "message")).strip()[:200]
    return " ".join(str(document.get(part, "")) for part in ("title", "detail")).strip()[:200]


def _cause(status: int, host: str, role: str, detail: str) -> str:
    said = f" ({detail})" if detail else ""
    if status == 403:
        return (
            f"403 Forbidden from {host}{said}: the identity azd is signed in as does not hold {role} there yet. A role "
            "granted by `azd provision` takes up to about 10 minutes to apply; check that azd is signed in as the "
            "identity that provisioned (`azd auth login --check-status`)"
        )
    if status == 401:
        return f"401 Unauthorized from {host}{said}: the token was refused (is azd signed in to the store's tenant?)"
    if status == 429:
        return f"429 Too Many Requests from {host}{said}: the request quota of its tier is used up for now"
    if status >= 500:
        return f"{status} from {host}{said}: the service is unavailable for now"
    return f"{status} from {host}{said}"


def _wait_seconds(answer: _Answer, default: float) -> float:
    if answer.status != 429:
        return default
    for name, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return min(float(answer.headers[name]) * scale, 300.0)
        except (KeyError, ValueError):
            continue
    return default


def call(
    tokens: AzdTokens,
    method: str,
    url: str,
    *,
    scope: str,
    what: str,
    role: str,
    retries: Retries,
    body: object | None = None,
    content_type: str | None = None,
) -> object:
    """One request, retried per the rules above; the JSON answer (None when empty) or DataPlaneError."""
    host = urlsplit(url).netloc
    data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
    for attempt in range(1, retries.attempts + 1):
        wait = retries.delay
        try:
            answer = _send(method, url, tokens.token(scope), data, content_type)
        except AzdTokenError as error:
            raise DataPlaneError([f"{what}: {error}"]) from error
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            cause = f"could not connect to {host}: {getattr(error, 'reason', error)}"
        else:
            if 200 <= answer.status < 300:
                return json.loads(answer.body) if answer.body else None
            cause = _cause(answer.status, host, role, _detail(answer))
            if answer.status not in (401, 403, 429) and answer.status < 500:
                raise DataPlaneError([f"{what} failed: {cause}"])
            if answer.status == 401:
                tokens.forget(scope)
            wait = _wait_seconds(answer, retries.delay)
        if attempt == retries.attempts:
            raise DataPlaneError(
                [f"{what} failed {retries.attempts} times; last: {cause}", "then run `azd hooks run postprovision`"]
            )
        retries.log(f"{what}: not yet (try {attempt} of {retries.attempts}): {cause}")
        retries.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def put_key_value(tokens: AzdTokens, endpoint: str, key: str, value: str, content_type: str, retries: Retries) -> None:
    """Writes one label-less key-value (PUT /kv/{key}), as `az appconfig kv set` does."""
    url = f"{endpoint.rstrip('/')}/kv/{quote(key, safe='')}?api-version={APP_CONFIGURATION_API_VERSION}"
    call(
        tokens,
        "PUT",
        url,
        scope=app_configuration_scope(endpoint),
        what=f"writing {key}",
        role="App Configuration Data Owner",
        retries=retries,
        body={"value": value, "content_type": content_type},
        content_type=_KEY_VALUE_MEDIA_TYPE,
    )


def key_vault_secret_names(tokens: AzdTokens, vault: str, retries: Retries) -> set[str]:
    """The names of the vault's secrets (list permission only: Key Vault Reader suffices; no value is read)."""
    names: set[str] = set()
    url: str | None = f"{vault.rstrip('/')}/secrets?api-version={KEY_VAULT_API_VERSION}&maxresults=25"
    while url:
        page = call(
            tokens,
            "GET",
            url,
            scope=key_vault_scope(vault),
            what=f"listing the secrets of {vault}",
            role="Key Vault Reader",
            retries=retries,
        )
        if not isinstance(page, dict):
            raise DataPlaneError([f"listing the secrets of {vault}: the answer is not a page of secrets"])
        for item in page.get("value") or []:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                names.add(item["id"].rstrip("/").rsplit("/", 1)[-1])
        next_link = page.get("nextLink")
        url = next_link if isinstance(next_link, str) and next_link.startswith(vault.rstrip("/") + "/") else None
    return names
