"""`settle sandbox`: serve the PhonePe + RazorpayX sandbox (its state in its own database)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import uvicorn
from pydantic import ValidationError

from cli.context import settings_or_exit
from domain.platform.database import SANDBOX_DATABASE, database_url
from gateways.sandbox import FaultConfig, SandboxConfig, create_app


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address; keep it on loopback.")
@click.option("--port", type=int, default=None, help="Port (default SANDBOX_PORT).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help='JSON file: {"config": {...}, "faults": {...}} (see docs/gateways.md).',
)
@click.option("--seed", type=int, default=None, help="Seed for faults, duplicates and report anomalies.")
@click.option(
    "--database",
    default=SANDBOX_DATABASE,
    show_default=True,
    help="The sandbox's own database on the server, created if missing.",
)
def sandbox(host: str, port: int | None, config_path: Path | None, seed: int | None, database: str) -> None:
    """Run the gateway sandbox."""
    settings = settings_or_exit()
    base = settings.api_public_url.rstrip("/")
    config_data: dict[str, object] = {
        "phonepe_webhook_url": f"{base}/v1/webhooks/phonepe",
        "razorpayx_webhook_url": f"{base}/v1/webhooks/razorpayx",
    }
    fault_data: dict[str, object] = {}
    try:
        if config_path is not None:
            loaded = json.loads(config_path.read_text())
            config_data.update(loaded.get("config", {}))
            fault_data.update(loaded.get("faults", {}))
        if seed is not None:
            config_data["seed"] = seed
            fault_data["seed"] = seed
        config = SandboxConfig.model_validate(config_data)
        faults = FaultConfig.model_validate(fault_data)
    except (ValueError, ValidationError, AttributeError) as exc:
        raise click.ClickException(f"invalid sandbox config: {exc}") from None
    app = create_app(settings, db_url=database_url(settings, database), config=config, faults=faults)
    click.echo(f"sandbox on http://{host}:{port or settings.sandbox_port} (/phonepe, /razorpayx, /sandbox)")
    uvicorn.run(app, host=host, port=port or settings.sandbox_port, access_log=False, log_config=None)
