"""docker-compose.yml and the Dockerfile start only commands and options that exist (no Docker here)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cli.main import main

ROOT = Path(__file__).resolve().parents[2]
SERVICES = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


@pytest.mark.parametrize("name", sorted(name for name, service in SERVICES.items() if "command" in service))
def test_compose_commands_exist(name: str) -> None:
    program, *arguments = SERVICES[name]["command"]
    if program == "settle":
        result = CliRunner().invoke(main, [*arguments, "--help"])
        assert result.exit_code == 0, result.output
    else:
        assert shutil.which(program, path=str(Path(sys.executable).parent)) is not None


def test_app_services_wait_for_migrations_on_a_healthy_server() -> None:
    assert SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("api", "sandbox", "dagster-webserver", "dagster-daemon"):
        assert SERVICES[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert SERVICES[name]["environment"]["DATABASE_URL"].startswith("postgresql+psycopg2://")


def test_image_default_command_is_the_api() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir --disable-pip-version-check -r requirements.lock" in dockerfile
    assert 'CMD ["settle", "api", "--host", "0.0.0.0", "--workers", "2"]' in dockerfile
