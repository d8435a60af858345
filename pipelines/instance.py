"""The Dagster instance: a DAGSTER_HOME whose dagster.yaml points at its own PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

import jinja2

from domain.platform.database import DAGSTER_DATABASE, database_url
from domain.platform.settings import Settings

TEMPLATE = Path(__file__).with_name("dagster.yaml.j2")


def render_instance_config(postgres_url: str, database: str = DAGSTER_DATABASE) -> str:
    template = jinja2.Template(TEMPLATE.read_text(), undefined=jinja2.StrictUndefined, autoescape=False)
    return template.render(postgres_url=postgres_url, database=database)


def prepare_dagster_home(settings: Settings, home: Path | None = None, database: str = DAGSTER_DATABASE) -> Path:
    """Create the Dagster database if needed and write dagster.yaml; return the home directory."""
    home = (home or settings.data_dir / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    url = database_url(settings, database)
    (home / "dagster.yaml").write_text(render_instance_config(url, database))
    return home


RESOURCE_ENV = {
    "PHONEPE_BASE_URL": lambda s: s.phonepe_base_url,
    "PHONEPE_CLIENT_ID": lambda s: s.phonepe_client_id,
    "PHONEPE_CLIENT_SECRET": lambda s: s.phonepe_client_secret.get_secret_value(),
    "RAZORPAYX_BASE_URL": lambda s: s.razorpayx_base_url,
    "RAZORPAYX_KEY_ID": lambda s: s.razorpayx_key_id,
    "RAZORPAYX_KEY_SECRET": lambda s: s.razorpayx_key_secret.get_secret_value(),
    "RAZORPAYX_ACCOUNT_NUMBER": lambda s: s.razorpayx_account_number,
    "SMTP_PASSWORD": lambda s: s.smtp_password.get_secret_value() if s.smtp_password is not None else "",
}


def resource_environment(settings: Settings) -> dict[str, str]:
    """The variables the definitions read (`dg.EnvVar`, and the settings of PostgresResource), from `settings`.

    In production the deployment sets them; locally their defaults point at the sandbox.
    """
    environment = {name: value(settings) for name, value in RESOURCE_ENV.items()}
    if settings.database_url:
        environment["DATABASE_URL"] = settings.database_url
    return environment
