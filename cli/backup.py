"""`settle backup FILE` and `settle restore FILE`: the system of record to a pg_dump file with its
manifest, and back into an empty database, verified against the manifest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from cli.context import settings_or_exit
from domain.backups.backup import take_backup
from domain.backups.figures import Figures
from domain.backups.manifest import Manifest, manifest_path
from domain.backups.restore import RestoreRefused, RestoreReport, restore
from domain.backups.tools import BackupError
from domain.money import format_rupees
from domain.platform.clock import IST
from domain.platform.database import database_url, psycopg2_url

FILE = click.Path(dir_okay=False, path_type=Path)


@click.command()
@click.argument("file", type=FILE)
def backup(file: Path) -> None:
    """Dump the application database to FILE (pg_dump custom format) and write FILE.manifest.json."""
    settings = settings_or_exit()
    try:
        manifest = take_backup(database_url(settings), file, now=dt.datetime.now(IST), pg_bin_dir=settings.pg_bin_dir)
    except BackupError as exc:
        raise click.ClickException(f"backup failed: {exc}") from None
    except sa.exc.OperationalError as exc:
        raise click.ClickException(f"backup failed: cannot reach the database: {exc.orig}") from None
    click.echo(f"backup:    {file} ({manifest.dump_bytes:,} bytes, sha256 {manifest.sha256})")
    click.echo(f"manifest:  {manifest_path(file)}")
    describe(manifest)


@click.command(name="restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--database-url", "target", help="The empty database to restore into (default: DATABASE_URL's).")
def restore_command(file: Path, target: str | None) -> None:
    """Restore FILE into an empty database and verify every row count and ledger total against its manifest."""
    settings = settings_or_exit()
    url = psycopg2_url(target) if target else database_url(settings)
    try:
        report = restore(url, file, pg_bin_dir=settings.pg_bin_dir)
    except RestoreRefused as exc:
        raise click.ClickException(f"restore refused, nothing changed: {exc}") from None
    except BackupError as exc:
        raise click.ClickException(f"restore failed: {exc}") from None
    except sa.exc.OperationalError as exc:
        raise click.ClickException(f"restore failed: cannot reach the target database: {exc.orig}") from None
    click.echo(f"restored:  {file} into {make_url(url).database} (migration {report.migration_head})")
    for role in report.created_roles:
        click.echo(f"role:      {role} created (NOLOGIN): grant it to the login roles that need it")
    print_verification(report)
    if not report.verified:
        raise click.ClickException(
            f"the restored database differs from the backup in {len(report.differences)} figures"
        )


def describe(manifest: Manifest) -> None:
    totals = manifest.figures.totals
    click.echo(f"database:  {manifest.database} on PostgreSQL {manifest.server_version}, "
               f"migration {manifest.migration_head}, taken {manifest.created_at}")  # fmt: skip
    click.echo(f"tables:    {len(manifest.figures.tables)} tables, {manifest.figures.rows:,} rows")
    click.echo(f"ledger:    {totals['journal_entries']:,} entries, {totals['ledger_lines']:,} lines, "
               f"debits {format_rupees(totals['ledger_debits_paise'])} = credits "
               f"{format_rupees(totals['ledger_credits_paise'])}, {totals['ledger_accounts']:,} accounts")  # fmt: skip


def print_verification(report: RestoreReport) -> None:
    expected: Figures = report.manifest.figures
    click.echo("verified against the manifest:")
    click.echo(f"  tables compared:   {len(expected.tables)}, {expected.rows:,} rows in the backup, "
               f"{report.restored.rows:,} restored")  # fmt: skip
    click.echo(f"  accounts compared: {expected.accounts:,} ledger account balances (sha256 "
               f"{expected.totals['account_balances_sha256'][:16]}...)")  # fmt: skip
    by_type = report.restored.totals["balance_by_account_type_paise"]
    for account_type, paise in sorted(by_type.items()):
        click.echo(f"    {account_type:20s} {format_rupees(paise)}")
    if report.verified:
        click.echo("  every figure equal")
    for difference in report.differences:
        click.echo(f"  DIFFERS: {difference}")
