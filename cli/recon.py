"""`settle recon import FILE --date D | run --date D`: reconciliation from the command line, in this
process. A malformed file is refused whole: every bad line is printed and nothing is kept."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import click

from cli.context import settings_or_exit
from domain.platform.database import create_engine, database_url
from domain.platform.settings import Settings


def reconcile_now(settings: Settings, day: dt.date, *, report_file: Path | None = None, actor: str = "finance") -> str:
    """Take the day's report (the file, or a download), post the settlement batches the bank has
    credited, and reconcile the day; the statement as text."""
    from domain.money import format_rupees
    from domain.reconciliation import statement, workflow
    from gateways.phonepe.client import PhonePeClient
    from gateways.phonepe.settlement_report import SettlementReportError
    from gateways.razorpayx.client import RazorpayXClient

    engine = create_engine(database_url(settings))
    try:
        with contextlib.closing(PhonePeClient.from_settings(settings)) as client:
            try:
                if report_file is None:
                    workflow.fetch_report(engine, client, day)
                else:
                    workflow.import_report(engine, client, report_file, day, received_by=actor)
            except SettlementReportError as refused:
                lines = "\n".join(f"  line {line}: {message}" for line, message in refused.errors)
                raise click.ClickException(f"the report was refused, nothing was kept:\n{lines}") from None
        with contextlib.closing(RazorpayXClient.from_settings(settings)) as bank:
            cash = workflow.post_cash(engine, bank, day, now=dt.datetime.now(dt.UTC))
        result = workflow.reconcile_day(
            engine, day, now=dt.datetime.now(dt.UTC), settlement_window_days=settings.recon_settlement_window_days
        )
    finally:
        engine.dispose()
    assert result is not None and cash is not None
    posted, waiting = cash
    batches = [
        f"- Batch {batch.utr}: the bank received {format_rupees(batch.transfer_paise)} against "
        f"{format_rupees(batch.rows_settled_paise)} in the report; {format_rupees(batch.suspense_paise)} in suspense"
        for batch in posted
    ] + [f"- Batch {utr}: the bank has not credited it yet" for utr in waiting]
    return "\n".join([statement.markdown(result), "", *batches])


@click.group()
def recon() -> None:
    """Reconcile PhonePe's settlement reports against the books."""


DATE = click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d"]), help="The IST day reported.")


@recon.command("import")
@click.argument("report_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@DATE
@click.option("--actor", default="finance", show_default=True, help="Who received the file (kept with it).")
def import_(report_file: Path, day: dt.datetime, actor: str) -> None:
    """Keep a settlement report file for a day and reconcile the day with it."""
    click.echo(reconcile_now(settings_or_exit(), day.date(), report_file=report_file, actor=actor))


@recon.command()
@DATE
def run(day: dt.datetime) -> None:
    """Download the day's settlement report and reconcile the day."""
    click.echo(reconcile_now(settings_or_exit(), day.date()))
