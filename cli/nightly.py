"""`settle nightly --date D`: run the nightly settlement job for one IST day, in this process."""

from __future__ import annotations

import datetime as dt
import os

import click

from cli.context import settings_or_exit
from cli.migrate import migrate_to_head
from domain.platform.database import database_url
from domain.platform.settings import Settings

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_nightly(settings: Settings, day: dt.date) -> bool:
    """Execute `nightly_settlement` for `day` against the project's Dagster instance; True if green."""
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.instance import prepare_dagster_home, resource_environment

    os.environ.update(resource_environment(settings))
    os.environ["DAGSTER_HOME"] = str(prepare_dagster_home(settings))
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def("nightly_settlement").execute_in_process(
            partition_key=day.isoformat(), instance=instance, raise_on_error=False, run_config=QUIET
        )
        for evaluation in result.get_asset_check_evaluations():
            mark = "pass" if evaluation.passed else "FAIL"
            click.echo(f"  check {evaluation.asset_key.to_user_string()}:{evaluation.check_name}: {mark}")
        for failure in result.get_step_failure_events():
            error = failure.step_failure_data.error
            reason = error.message.strip().splitlines()[-1] if error is not None else "no error recorded"
            click.echo(f"  step {failure.step_key} failed: {reason}")
        return result.success


@click.command()
@click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d"]), help="IST day to settle.")
def nightly(day: dt.datetime) -> None:
    """Settle one day now (the same job the 02:00 IST schedule runs)."""
    settings = settings_or_exit()
    migrate_to_head(database_url(settings), settings)
    ok = run_nightly(settings, day.date())
    click.echo(f"nightly settlement for {day.date()}: {'succeeded' if ok else 'FAILED'}")
    if not ok:
        raise SystemExit(1)
