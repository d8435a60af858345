"""`settle statement --payee P --from D --to D [--format json|csv|html] [--output FILE]`: a payee's statement,
the same document `GET /v1/payees/{id}/statement` answers, read in a read-only transaction."""

from __future__ import annotations

import datetime as dt
import json

import click

from cli.context import settings_or_exit
from domain.platform.database import create_engine, database_url
from domain.statements import render, store
from domain.statements.rules import Statement, StatementError, StatementUnreconciled

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _text(statement: Statement, fmt: str) -> str:
    if fmt == "csv":
        return render.csv_text(statement)
    if fmt == "html":
        return render.html_text(statement)
    return json.dumps(render.document(statement), indent=2, ensure_ascii=False) + "\n"


@click.command("statement")
@click.option("--payee", "payee_id", required=True, help="The seller's or scout's user id.")
@click.option("--from", "from_day", required=True, type=DATE, help="The first IST day (YYYY-MM-DD), included.")
@click.option("--to", "to_day", required=True, type=DATE, help="The last IST day (YYYY-MM-DD), included.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "html"]), default="json", show_default=True)
@click.option("--output", "-o", default="-", type=click.Path(dir_okay=False, allow_dash=True),
              help="The file to write; standard output by default.")  # fmt: skip
def statement(payee_id: str, from_day: dt.datetime, to_day: dt.datetime, fmt: str, output: str) -> None:
    """A payee's statement: opening balance, every order, refund, bounty and payout, closing balance."""
    settings = settings_or_exit()
    engine = create_engine(database_url(settings))
    try:
        with engine.connect().execution_options(postgresql_readonly=True) as conn:
            made = store.payee_statement(conn, payee_id, from_day.date(), to_day.date(), now=dt.datetime.now(dt.UTC))
    except StatementError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    except StatementUnreconciled as exc:
        raise click.ClickException(f"the subledger disagrees with the ledger, no statement made: {exc}") from None
    finally:
        engine.dispose()
    with click.open_file(output, "wb") as out:
        out.write(_text(made, fmt).encode("utf-8"))
