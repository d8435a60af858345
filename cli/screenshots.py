"""`settle screenshots`: what finance sees in the Dagster UI after a night, photographed by headless
Chromium into docs/screenshots/.

In a scratch data directory: `settle demo` runs a marketplace day and its night; then, in the same
Dagster instance `settle dev` serves, the follow-up finance would do (a hold on the seller whose bank
refused its payout, the night again after midnight so that its payouts show their outcome, the quiet
day before so that the plots have two days, and the day's reconciliation, with the demo's own
gateway sandbox). Then `settle dev` starts on free ports, and each page is photographed once it shows
its data. Everything started is stopped, and the scratch directory removed unless it was given.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import requests
import sqlalchemy as sa

from cli.browser import browser, find_chromium
from cli.context import settings_or_exit
from cli.demo import DEMO_DATABASE, DEMO_SANDBOX_DATABASE
from cli.dev import STOP_GRACE_S
from cli.nightly import QUIET
from cli.processes import free_port, running
from domain.platform.database import create_engine, database_url, embedded_pgdata, stop_embedded_server, with_database
from domain.platform.logging import configure_logging
from domain.platform.settings import Settings
from pipelines.instance import prepare_dagster_home, resource_environment

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "docs" / "screenshots"
UI_WAIT_S = 180.0
# The demo's gateway sandbox is seeded; the follow-up serves the same one again with the same seed, so
# the day's settlement report is the same file (the same batches and UTRs), not a new version.
SEED = 7


@dataclass(frozen=True, slots=True)
class Shot:
    """One page to photograph: its file, its path in the UI, the texts that show it has loaded."""

    file: str
    path: str
    texts: tuple[str, ...]
    height: int = 1000
    width: int = 1500
    click: str | None = None  # a button to press once the texts show: the metadata's Table/Plots toggle

    def url(self, base: str, day: dt.date, run_id: str) -> str:
        return base.rstrip("/") + self.path.format(day=day.isoformat(), run_id=run_id)


SHOTS = (
    Shot(
        "nightly-run.png",
        "/runs/{run_id}?logs=type%3AASSET_CHECK_EVALUATION",  # the run's check results
        ("entries_balance", "items_covered_by_their_live_payout_items"),
        height=1100,
    ),
    Shot(
        "day-statement.png",
        "/assets/analytics/daily_revenue?view=partitions&partition={day}",
        ("Day statement", "balances_at_close", "net_revenue_paise"),
        height=1900,
    ),
    Shot("held-back-payees.png", "/assets/payout_batch?view=partitions&partition={day}", ("top_held_back_payees",)),
    Shot(
        "failed-payouts.png",
        "/assets/payout_submission?view=partitions&partition={day}",
        ("failed_payouts", "Payout failed"),
        height=1100,
        width=1800,  # its table's ids are long
    ),
    Shot(
        "open-breaks.png",
        "/assets/recon_statement?view=partitions&partition={day}",
        ("oldest_open_breaks", "Reconciliation of"),
        height=1500,
        width=1700,
    ),
    Shot(
        "metadata-plots.png",
        "/assets/analytics/daily_revenue?view=overview",
        ("gmv_paise", "Plots"),
        height=1500,
        click="Plots",
    ),
)


def run_demo(data_dir: Path, orders: int) -> None:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    log = data_dir / "demo.log"
    with log.open("wb") as out:
        done = subprocess.run(
            [sys.executable, "-m", "cli", "demo", "--orders", str(orders), "--seed", str(SEED)],
            env={**env, "DATA_DIR": str(data_dir)},
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        raise click.ClickException(f"settle demo failed:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    """The end of a child's output, for the error message (the scratch directory may be removed)."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def demo_settings(settings: Settings, data_dir: Path) -> Settings:
    """The settings `settle demo` ran with: the scratch directory's server, the demo's database."""
    scratch = settings.model_copy(update={"data_dir": data_dir, "database_url": None})
    return scratch.model_copy(update={"database_url": with_database(database_url(scratch), DEMO_DATABASE)})


def demo_day(settings: Settings) -> dt.date:
    engine = create_engine(database_url(settings))
    try:
        with engine.connect() as conn:
            day: dt.date | None = conn.execute(sa.text("SELECT max(capture_date) FROM captures")).scalar_one()
    finally:
        engine.dispose()
    if day is None:
        raise click.ClickException("the demo captured no payment")
    return day


def refused_payee(settings: Settings, day: dt.date) -> str | None:
    engine = create_engine(database_url(settings))
    try:
        with engine.connect() as conn:
            query = "SELECT payee_id FROM payouts WHERE batch_date = :day AND status = 'failed' ORDER BY payout_id"
            return conn.execute(sa.text(query), {"day": day}).scalar()
    finally:
        engine.dispose()


def execute(job: str, partition: str | None = None, run_config: Mapping[str, Any] | None = None) -> None:
    """Run a job of the definitions in this process, in the instance DAGSTER_HOME names."""
    import dagster as dg

    from pipelines.definitions import defs

    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def(job).execute_in_process(
            partition_key=partition, instance=instance, raise_on_error=False, run_config={**QUIET, **(run_config or {})}
        )
    if not result.success:
        raise click.ClickException(f"the {job} run failed")


def follow_up(settings: Settings, day: dt.date) -> None:
    """What finance does after the demo's night, as Dagster runs against the demo's own sandbox."""
    port = free_port()
    sandbox = f"http://127.0.0.1:{port}"
    args = ["-m", "cli", "sandbox", "--port", str(port), "--seed", str(SEED), "--database", DEMO_SANDBOX_DATABASE]
    env = {"DATABASE_URL": str(settings.database_url), "LOG_LEVEL": "WARNING"}
    settings = settings.model_copy(
        update={"phonepe_base_url": f"{sandbox}/phonepe", "razorpayx_base_url": f"{sandbox}/razorpayx"}
    )
    os.environ.update(resource_environment(settings))  # what the definitions' resources read
    os.environ["DAGSTER_HOME"] = str(prepare_dagster_home(settings))  # the instance `settle dev` serves
    with running(args, f"{sandbox}/sandbox/health", env=env):
        payee = refused_payee(settings, day)
        if payee is not None:
            config = {"payee_id": payee, "reason": "bank refused the payout", "actor": "finance@demo"}
            execute("payee_hold", run_config={"ops": {"payee_hold_op": {"config": config}}})
        for night in (day, day - dt.timedelta(days=1)):
            execute("nightly_settlement", partition=night.isoformat())
        execute("reconciliation", partition=day.isoformat())


def dev_environment(settings: Settings, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": str(settings.database_url),
        "API_PORT": str(free_port()),
        "SANDBOX_PORT": str(free_port()),
        "SMTP_PORT": str(free_port()),
        "LOG_LEVEL": "WARNING",
    }


def graphql(base: str, query: str) -> dict[str, Any]:
    response = requests.post(f"{base}/graphql", json={"query": query}, timeout=10)
    response.raise_for_status()
    data: dict[str, Any] = response.json()["data"]
    return data


LOCATIONS = (
    "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus locationOrLoadError { __typename } } } } }"
)


def ui_ready(base: str) -> bool:
    """The webserver answers and every code location has loaded its definitions."""
    with contextlib.suppress(requests.RequestException, KeyError, TypeError, ValueError):
        if requests.get(f"{base}/server_info", timeout=2).status_code == 200:
            entries = graphql(base, LOCATIONS)["workspaceOrError"]["locationEntries"]
            return bool(entries) and all(
                e["loadStatus"] == "LOADED" and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
                for e in entries
            )
    return False


@contextlib.contextmanager
def serving(settings: Settings, data_dir: Path) -> Iterator[str]:
    """`settle dev` on the demo's database and free ports; the UI's base URL once it is ready. Stopped
    with SIGTERM, as Ctrl-C would, so that it stops its own children."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (data_dir / "dev.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "dev", "--ui-port", str(port)],
            env=dev_environment(settings, data_dir),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_ui(base, process, data_dir / "dev.log")
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_GRACE_S + 30)
            except subprocess.TimeoutExpired:
                process.kill()  # its watchdog (cli/reaper.py) then stops what it started
                process.wait()


def wait_for_ui(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + UI_WAIT_S
    while not ui_ready(base):
        if process.poll() is not None:
            raise click.ClickException(f"settle dev exited with {process.returncode}:\n{tail(log)}")
        if time.monotonic() > deadline:
            raise click.ClickException(f"the Dagster UI at {base} was not ready within {UI_WAIT_S:.0f} s")
        time.sleep(1)


NIGHTLY_RUN = (
    '{{ runsOrError(filter: {{pipelineName: "nightly_settlement", '
    'tags: [{{key: "dagster/partition", value: "{day}"}}]}}, limit: 1) {{ ... on Runs {{ results {{ runId }} }} }} }}'
)


def latest_nightly_run(base: str, day: dt.date) -> str:
    results = graphql(base, NIGHTLY_RUN.format(day=day.isoformat()))["runsOrError"]["results"]
    if not results:
        raise click.ClickException(f"no nightly run for {day} in the Dagster instance")
    return str(results[0]["runId"])


def photograph(chromium: str, base: str, day: dt.date, run_id: str, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    taken = []
    with browser(chromium) as page:
        for shot in SHOTS:
            page.open(shot.url(base, day, run_id), shot.width, shot.height)
            page.wait_for_text(*shot.texts)
            if shot.click is not None:
                page.click_button(shot.click)
                page.wait_until("document.querySelectorAll('canvas').length > 0", "the plots")
            time.sleep(2)  # fonts, and the charts' drawing animation
            page.screenshot(out / shot.file)
            taken.append(out / shot.file)
    return taken


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=SCREENSHOTS, show_default=True)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Scratch directory for the demo's database and Dagster home (kept); default a temporary one (removed).",
)
@click.option("--orders", type=click.IntRange(50, 5000), default=300, show_default=True)
def screenshots(out: Path, data_dir: Path | None, orders: int) -> None:
    """Photograph the Dagster UI after a demo night (needs Debian's chromium package)."""
    chromium = find_chromium()
    settings = settings_or_exit()
    configure_logging("WARNING", "console")  # the runs' own logs only for trouble
    scratch = (data_dir or Path(tempfile.mkdtemp(prefix="settle-screenshots-"))).resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        click.echo(f"demo into {scratch} ...")
        run_demo(scratch, orders)
        demo = demo_settings(settings, scratch)
        day = demo_day(demo)
        click.echo(f"finance's follow-up of {day} ...")
        follow_up(demo, day)
        with serving(demo, scratch) as base:
            click.echo(f"Dagster UI ready at {base}; photographing ...")
            for path in photograph(chromium, base, day, latest_nightly_run(base, day), out):
                click.echo(f"  {path} ({path.stat().st_size // 1024} KiB)")
    finally:
        stop_embedded_server(embedded_pgdata(settings.model_copy(update={"data_dir": scratch})))
        if data_dir is None:
            shutil.rmtree(scratch, ignore_errors=True)
