"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.azure_stand_ins import AzureStandIns, running_azure_stand_ins
from tools.azurite import Azurite, running_azurite
from tools.dev_certificate import ensure_localhost_certificate
from tools.testkit.fake_entra import FakeEntra, running_fake_entra
from tools.testkit.tokens import SigningKey

# Whole-suite log check: every log record of the run is scanned for tokens, signatures and secrets.
# The same for every metric attribute and span attribute (the OpenTelemetry SDK's in-memory reader/exporter).
# Whole-suite loopback guard: no test connects to, or resolves, anything outside loopback (tests/loopback_guard.py).
# pytester: tests/security/test_log_hygiene.py runs a separate pytest to prove a leaking run fails.
pytest_plugins = ("tests.loopback_guard", "tests.security.log_hygiene", "tests.security.telemetry_hygiene", "pytester")


@pytest.fixture(scope="session")
def signing_keys() -> list[SigningKey]:
    """RSA keys generated once per run (2048-bit generation is the slow part of minting)."""
    return [SigningKey.generate(f"test-key-{index}") for index in range(3)]


@pytest.fixture
def fake_entra(signing_keys: list[SigningKey]) -> Iterator[FakeEntra]:
    with running_fake_entra(keys=[signing_keys[0]]) as server:
        yield server


@pytest.fixture
def azure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzureStandIns]:
    """App Configuration and Key Vault stand-ins over HTTPS on loopback, for the real Azure SDKs."""
    with running_azure_stand_ins(tmp_path_factory.getbasetemp() / "azure-certificate") as stand_ins:
        yield stand_ins


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """Azurite's Table service over HTTPS with bearer tokens on loopback, once per run (tests use their own tables)."""
    certificate = ensure_localhost_certificate(tmp_path_factory.getbasetemp() / "azurite-certificate")
    with running_azurite(certificate) as server:
        yield server
