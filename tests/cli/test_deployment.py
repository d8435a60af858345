"""docker-compose.yml and the Dockerfile start only commands and options that exist, with a configuration
the settings accept (no Docker here: the files are parsed)."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cli.main import main
from domain.platform.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]  # anchors and merges resolved
APP_SERVICES = ["migrate", "api", "sandbox", "dagster-webserver", "dagster-daemon"]


def image_environment() -> dict[str, str]:
    """The variables the Dockerfile's ENV instructions bake into the image."""
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    pairs = [word for line in dockerfile.splitlines() if line.startswith("ENV ") for word in shlex.split(line[4:])]
    return dict(pair.split("=", 1) for pair in pairs)


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


def test_app_services_are_built_from_the_image() -> None:
    assert sorted(name for name, service in SERVICES.items() if service.get("build") == ".") == sorted(APP_SERVICES)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_compose_environment_is_valid_configuration(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a container sees (the image's ENV, then the service's `environment`) must pass `Settings`:
    a value it refuses stops `migrate`, and every service waits for `migrate`."""
    for variable in list(os.environ):
        if variable.lower() in Settings.model_fields:
            monkeypatch.delenv(variable)
    for variable, value in {**image_environment(), **SERVICES[name]["environment"]}.items():
        monkeypatch.setenv(variable, str(value))
    settings = load_settings(_env_file=None)
    assert settings.environment == "local"
    assert settings.database_url == "postgresql+psycopg2://settle:settle-local-only@postgres:5432/settlement"
    assert settings.data_dir == Path("/data")
    assert settings.phonepe_base_url == "http://sandbox:8090/phonepe"


def test_image_default_command_is_the_api() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir --disable-pip-version-check -r requirements.lock" in dockerfile
    assert 'CMD ["settle", "api", "--host", "0.0.0.0", "--workers", "2"]' in dockerfile


def test_api_metrics_directory_is_container_local() -> None:
    """Each API container sums its own workers: the directory is not on the volume the services share."""
    assert image_environment()["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/settle-api-metrics"  # noqa: S108 - the container's own /tmp
    mounts = {volume.split(":")[1] for service in SERVICES.values() for volume in service.get("volumes", [])}
    assert mounts == {"/data", "/var/lib/postgresql"}
