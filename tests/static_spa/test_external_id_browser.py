"""Signing in through an Entra External ID-shaped provider, in real Chromium, and getting a contact token.

The development identity provider in External ID mode names an issuer whose host is not the authority's (as
External ID's `<tenant-id>.ciamlogin.com` differs from the `<subdomain>.ciamlogin.com` authority), with every
endpoint on the authority's host. The page is driven by config.json alone (authority, `knownAuthorities`,
the MSAL v5 redirect bridge); the function takes the issuer from the authority's metadata. External ID itself
cannot run here: the local provider stands in for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from playwright.sync_api import expect

from tests.static_spa.browser import RecordedPage
from tests.static_spa.test_chat_page_browser import (
    UNAVAILABLE,
    access_token_entry,
    sign_in,
    start_chat,
    verified_claims,
)
from tools.dev_certificate import ensure_localhost_certificate
from tools.dev_defaults import DEV_USERS, function_settings
from tools.dev_identity import DevIdentityConfig, DevIdentityProvider, run_dev_identity
from tools.dev_page import PageServer, development_config, serve_page
from tools.dev_stack import DEV_FOLDER, free_port, run_function

pytestmark = pytest.mark.browser


@dataclass
class ExternalIdStack:
    identity: DevIdentityProvider
    function_url: str
    page: PageServer

    def config(self, *, list_issuer_host: bool = True) -> dict:
        issuer = self.identity.token_issuer if list_issuer_host else None
        return development_config(self.identity.issuer, self.function_url, token_issuer=issuer)


@pytest.fixture(scope="module")
def external_id_stack() -> Iterator[ExternalIdStack]:
    certificate = ensure_localhost_certificate(DEV_FOLDER)
    page_port = free_port()
    config = DevIdentityConfig(certificate=certificate, external_id=True)
    with (
        run_dev_identity(config) as identity,
        run_function(
            free_port(),
            function_settings(identity.issuer),
            ca_bundle=certificate.cert_file,
            cors=f"http://localhost:{page_port}",
        ) as (function_url, _process),
        serve_page(
            development_config(identity.issuer, function_url, token_issuer=identity.token_issuer), port=page_port
        ) as page,
    ):
        yield ExternalIdStack(identity, function_url, page)


def test_the_provider_names_an_issuer_on_another_host_and_keeps_its_endpoints_on_the_authority(
    external_id_stack: ExternalIdStack,
) -> None:
    identity = external_id_stack.identity
    metadata = requests.get(
        f"{identity.issuer}/.well-known/openid-configuration", verify=identity.verify, timeout=10
    ).json()
    assert metadata["issuer"] == identity.token_issuer
    assert urlsplit(metadata["issuer"]).hostname != urlsplit(identity.issuer).hostname
    assert metadata["issuer"].endswith(f"/{identity.config.tenant_id}/v2.0")
    for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        assert metadata[endpoint].startswith(f"{identity.issuer}/"), endpoint


def test_a_customer_signs_in_through_external_id_and_the_widget_gets_a_contact_token(
    external_id_stack: ExternalIdStack, recorded: RecordedPage
) -> None:
    sign_in(recorded, external_id_stack.page.url)
    _key, record = access_token_entry(recorded)
    access = jwt.decode(str(record["secret"]), options={"verify_signature": False})
    assert access["iss"] == external_id_stack.identity.token_issuer

    claims = verified_claims(start_chat(recorded))
    assert claims["attributes"]["name"] == next(iter(DEV_USERS.values()))["name"]
    recorded.screenshot("external-id-signed-in-contact-token")
    assert recorded.csp_violations() == []
    assert recorded.errors == []


def test_without_the_issuer_host_in_known_authorities_msal_refuses_the_provider(
    external_id_stack: ExternalIdStack, recorded: RecordedPage
) -> None:
    """MSAL v5 validates the discovery document's issuer (msal-common Authority.validateIssuer): a host other
    than the authority's must be a known authority (or External ID's own <tenant-id>.ciamlogin.com pattern)."""
    with serve_page(external_id_stack.config(list_issuer_host=False)) as page_server:
        page = recorded.page
        page.goto(page_server.url)
        page.click("#sign-in")
        expect(page.locator("#customer-message-text")).to_have_text(UNAVAILABLE)
        assert urlsplit(page.url).port == page_server.port, "the sign-in must not leave the page"
