"""Every knob of the system, read from the environment (or `.env`) by the entry points only.

`domain` never instantiates this itself: `cli`, `ingest_api` and `pipelines` build one `Settings`
and pass it down. Invalid values fail at start-up with the variable's name; in `production` the
example secrets below are refused, so a forgotten variable can never go live.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EXAMPLE_SECRET = "sandbox-not-a-secret"  # noqa: S105 - the value production refuses

Environment = Literal["local", "test", "staging", "production"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    environment: Environment = "local"
    database_url: str | None = Field(
        default=None, description="PostgreSQL >= 14; unset starts the embedded server in DATA_DIR."
    )
    data_dir: Path = Field(default=Path(".data"), description="Embedded PostgreSQL and Dagster home.")
    backup_dir: Path | None = Field(default=None, description="Where scheduled backups go; unset: DATA_DIR/backups.")
    backup_retention_count: int = Field(default=14, ge=1, le=10_000)
    pg_bin_dir: Path | None = Field(
        default=None, description="pg_dump and pg_restore; unset: those of the embedded PostgreSQL distribution."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"

    platform_fee_bps: int = Field(default=1000, ge=0, le=10_000)
    gateway_fee_bps: int = Field(default=150, ge=0, le=10_000)
    gateway_gst_bps: int = Field(default=1800, ge=0, le=10_000)
    scout_bounty_paise: int = Field(default=1000, ge=0)
    min_payout_paise: int = Field(default=10_000, ge=1)
    hold_days: int = Field(default=2, ge=0, le=90)
    refund_window_days: int = Field(default=30, ge=1, le=365)
    refund_approval_threshold_paise: int = Field(default=500_000, ge=0)
    refund_min_paise: int = Field(default=100, ge=1)
    refund_max_per_order: int = Field(default=5, ge=1, le=100)
    refund_stuck_after_h: float = Field(default=48.0, gt=0)
    refund_max_attempts: int = Field(default=5, ge=1, le=20)
    refund_backoff_base_s: float = Field(default=30.0, gt=0)
    refund_backoff_max_s: float = Field(default=3600.0, gt=0)
    refund_poll_base_s: float = Field(default=60.0, gt=0)
    refund_concurrency: int = Field(default=4, ge=1, le=64)
    refund_requests_per_second: float = Field(default=20.0, gt=0)
    refund_batch_size: int = Field(default=20, ge=1, le=500)
    recon_settlement_window_days: int = Field(default=3, ge=0, le=60)
    payout_requires_settled_funds: bool = True
    recon_blocking_threshold_paise: int = Field(default=0, ge=0)
    recon_write_off_approval_paise: int = Field(default=10_000, ge=0)
    order_min_paise: int = Field(default=100, ge=1)
    order_max_paise: int = Field(default=100_000_000, ge=1)

    phonepe_base_url: str = "http://127.0.0.1:8090/phonepe"
    phonepe_client_id: str = "SANDBOXCLIENT"
    phonepe_client_secret: SecretStr = SecretStr(EXAMPLE_SECRET)
    phonepe_client_version: int = Field(default=1, ge=1)
    phonepe_webhook_username: str = "sandbox-webhook"
    phonepe_webhook_password: SecretStr = SecretStr(EXAMPLE_SECRET)
    phonepe_salt_key: SecretStr = SecretStr(EXAMPLE_SECRET)
    phonepe_salt_index: int = Field(default=1, ge=1)

    razorpayx_base_url: str = "http://127.0.0.1:8090/razorpayx"
    razorpayx_key_id: str = "rzp_test_sandbox"
    razorpayx_key_secret: SecretStr = SecretStr(EXAMPLE_SECRET)
    razorpayx_account_number: str = "2323230000000000"
    razorpayx_webhook_secret: SecretStr = SecretStr(EXAMPLE_SECRET)

    gateway_connect_timeout_s: float = Field(default=3.0, gt=0, le=60)
    gateway_read_timeout_s: float = Field(default=10.0, gt=0, le=120)

    payout_max_attempts: int = Field(default=5, ge=1, le=20)
    payout_backoff_base_s: float = Field(default=30.0, gt=0)
    payout_backoff_max_s: float = Field(default=3600.0, gt=0)
    payout_concurrency: int = Field(default=4, ge=1, le=64)
    payout_requests_per_second: float = Field(default=20.0, gt=0)

    payment_confirmation_concurrency: int = Field(default=8, ge=1, le=64)
    payment_confirmation_requests_per_second: float = Field(default=50.0, gt=0)
    payment_confirmation_max_age_h: int = Field(default=72, ge=1, le=24 * 90)
    payment_confirmation_backoff_base_s: float = Field(default=60.0, gt=0)
    payment_confirmation_backoff_max_s: float = Field(default=3600.0, gt=0)
    payment_confirmation_batch_size: int = Field(default=5000, ge=1, le=100_000)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65_535)
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=120)
    notification_from_email: str = "Marketplace Settlements <settlements@marketplace.example>"
    finance_alert_email: str = "finance-alerts@marketplace.example"
    notification_max_attempts: int = Field(default=8, ge=1, le=30)
    notification_backoff_base_s: float = Field(default=15.0, gt=0)
    notification_backoff_max_s: float = Field(default=900.0, gt=0)
    notification_lease_s: float = Field(default=120.0, gt=0, le=3600)
    notification_batch_size: int = Field(default=200, ge=1, le=5000)
    notification_concurrency: int = Field(default=2, ge=1, le=32)

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65_535)
    api_public_url: str = "http://127.0.0.1:8000"
    sandbox_port: int = Field(default=8090, ge=1, le=65_535)
    max_request_body_bytes: int = Field(default=65_536, ge=1024)
    rate_limit_per_key_per_minute: int = Field(default=6000, ge=1)
    rate_limit_webhook_per_address_per_minute: int = Field(default=6000, ge=1)
    rate_limit_sync_interval_s: float = Field(default=1.0, gt=0, le=60)
    api_key_cache_ttl_s: float = Field(default=5.0, ge=0, le=300)
    api_db_pool_size: int = Field(default=20, ge=1, le=200)

    @field_validator("database_url")
    @classmethod
    def _explicit_driver(cls, url: str | None) -> str | None:
        """SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which is not installed."""
        if url is None or url == "":
            return None
        if url.startswith(("postgresql://", "postgres://")):
            return "postgresql+psycopg2://" + url.split("://", 1)[1]
        if not url.startswith("postgresql+psycopg2://"):
            raise ValueError("must be a postgresql:// or postgresql+psycopg2:// URL")
        return url

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.order_min_paise > self.order_max_paise:
            raise ValueError("ORDER_MIN_PAISE must not exceed ORDER_MAX_PAISE")
        if self.environment != "production":
            return self
        unsafe = [name.upper() for name in SECRET_FIELDS if _secret(self, name) in ("", EXAMPLE_SECRET)]
        if unsafe:
            raise ValueError(f"production refuses example or empty secrets: {', '.join(unsafe)}")
        if self.database_url is None:
            raise ValueError("production needs DATABASE_URL; the embedded server is for local use")
        if any(address.rstrip("> ").endswith(".example") for address in self._email_addresses()):
            raise ValueError("production refuses the example NOTIFICATION_FROM_EMAIL or FINANCE_ALERT_EMAIL")
        if self.smtp_username is not None and not self.smtp_starttls:
            raise ValueError("production refuses SMTP_USERNAME without SMTP_STARTTLS: the password would go in clear")
        return self

    @property
    def backup_directory(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    def _email_addresses(self) -> tuple[str, str]:
        return self.notification_from_email, self.finance_alert_email


SECRET_FIELDS = (
    "phonepe_client_secret",
    "phonepe_webhook_password",
    "phonepe_salt_key",
    "razorpayx_key_secret",
    "razorpayx_webhook_secret",
)


def _secret(settings: Settings, name: str) -> str:
    value = getattr(settings, name)
    assert isinstance(value, SecretStr)
    return value.get_secret_value()


class ConfigurationError(Exception):
    """A setting is invalid; the message names the environment variable."""


def load_settings(**overrides: object) -> Settings:
    """Read the environment once, at an entry point, turning validation errors into named variables."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper() or "SETTINGS"
            problems.append(f"{name}: {error['msg']}")
        raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from None
