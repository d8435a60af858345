"""Settings refuse bad values by name, refuse example secrets in production, and are documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.platform.settings import EXAMPLE_SECRET, SECRET_FIELDS, ConfigurationError, Settings, load_settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_match_the_design() -> None:
    settings = load_settings()
    assert (settings.platform_fee_bps, settings.gateway_fee_bps) == (1000, 150)
    assert (settings.scout_bounty_paise, settings.min_payout_paise, settings.hold_days) == (1000, 10_000, 2)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PLATFORM_FEE_BPS", "10001"),
        ("GATEWAY_FEE_BPS", "-1"),
        ("HOLD_DAYS", "two"),
        ("MIN_PAYOUT_PAISE", "0"),
        ("ENVIRONMENT", "prod"),
        ("DATABASE_URL", "mysql://x@y/z"),
        ("GATEWAY_READ_TIMEOUT_S", "0"),
    ],
)
def test_invalid_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=variable):
        load_settings()


def test_bare_postgres_url_gets_the_psycopg2_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db/settlement")
    assert load_settings().database_url == "postgresql+psycopg2://app@db/settlement"


def _production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://app@db/settlement")
    for name in SECRET_FIELDS:
        monkeypatch.setenv(name.upper(), f"real-{name}-value")
    monkeypatch.setenv("NOTIFICATION_FROM_EMAIL", "Settlements <settlements@marketplace.in>")
    monkeypatch.setenv("FINANCE_ALERT_EMAIL", "finance-alerts@marketplace.in")


def test_production_with_real_secrets_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch)
    assert load_settings().environment == "production"


@pytest.mark.parametrize("field", SECRET_FIELDS)
def test_production_refuses_example_secret(monkeypatch: pytest.MonkeyPatch, field: str) -> None:
    _production(monkeypatch)
    monkeypatch.setenv(field.upper(), EXAMPLE_SECRET)
    with pytest.raises(ConfigurationError, match=field.upper()):
        load_settings()


@pytest.mark.parametrize("variable", ["NOTIFICATION_FROM_EMAIL", "FINANCE_ALERT_EMAIL"])
def test_production_refuses_the_example_email_addresses(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    _production(monkeypatch)
    monkeypatch.delenv(variable)
    with pytest.raises(ConfigurationError, match="production refuses the example NOTIFICATION_FROM_EMAIL"):
        load_settings()


def test_production_refuses_smtp_auth_in_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch)
    monkeypatch.setenv("SMTP_USERNAME", "settle")
    with pytest.raises(ConfigurationError, match="SMTP_USERNAME without SMTP_STARTTLS"):
        load_settings()
    monkeypatch.setenv("SMTP_STARTTLS", "true")
    assert load_settings().smtp_username == "settle"


def test_production_refuses_the_embedded_database(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch)
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        load_settings()


def test_secrets_do_not_print() -> None:
    assert EXAMPLE_SECRET not in repr(load_settings())


def test_configuration_doc_lists_every_variable_with_its_default() -> None:
    documented = {}
    for line in DOCS.read_text().splitlines():
        match = re.match(r"^\| `([A-Z0-9_]+)` \| `([^`]*)` \|", line)
        if match:
            documented[match.group(1)] = match.group(2)
    expected = {}
    for name, field in Settings.model_fields.items():
        default = field.default
        if hasattr(default, "get_secret_value"):
            default = default.get_secret_value()
        expected[name.upper()] = "" if default is None else str(default)
    assert documented == expected
