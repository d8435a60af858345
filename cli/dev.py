"""`settle dev`: the API, the gateway sandbox and the Dagster UI together, until Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import click

from cli.context import settings_or_exit
from cli.migrate import migrate_to_head
from domain.platform.database import database_url
from pipelines.instance import prepare_dagster_home, resource_environment


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@click.command()
@click.option("--ui-port", type=int, default=3000, show_default=True)
def dev(ui_port: int) -> None:
    """Serve API (API_PORT), sandbox (SANDBOX_PORT) and Dagster UI for finance to explore."""
    settings = settings_or_exit()
    migrate_to_head(database_url(settings), settings)
    sandbox = f"http://127.0.0.1:{settings.sandbox_port}"
    env = {
        **os.environ,
        **resource_environment(settings),
        "PHONEPE_BASE_URL": f"{sandbox}/phonepe",
        "RAZORPAYX_BASE_URL": f"{sandbox}/razorpayx",
        "API_PUBLIC_URL": f"http://127.0.0.1:{settings.api_port}",
        "DAGSTER_HOME": str(prepare_dagster_home(settings)),
    }
    commands = {
        "sandbox": [sys.executable, "-m", "cli", "sandbox", "--port", str(settings.sandbox_port)],
        "api": [sys.executable, "-m", "cli", "api", "--port", str(settings.api_port), "--workers", "2"],
        "dagster": [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-p", str(ui_port)],
    }
    children = {name: subprocess.Popen(args, env=env, start_new_session=True) for name, args in commands.items()}
    click.echo(f"API     http://127.0.0.1:{settings.api_port}/docs")
    click.echo(f"sandbox {sandbox}/sandbox/health")
    click.echo(f"Dagster http://127.0.0.1:{ui_port}  (Ctrl-C stops everything)")
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while all(child.poll() is None for child in children.values()):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
    stopped = [name for name, child in children.items() if child.returncode not in (0, -signal.SIGTERM, None)]
    if stopped:
        raise click.ClickException(f"stopped unexpectedly: {', '.join(stopped)}")
