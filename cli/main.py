"""`settle`: the operator's command line. One module per command group; this file only wires them."""

from __future__ import annotations

import click

from cli import (
    api,
    api_keys,
    backup,
    db,
    demo,
    dev,
    fees,
    ledger,
    migrate,
    nightly,
    notifications,
    payments,
    payouts,
    recon,
    refunds,
    sandbox,
    screenshots,
    statements,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Marketplace settlement: database, migrations, API, pipelines."""


main.add_command(db.db)
main.add_command(migrate.migrate)
main.add_command(api.api)
main.add_command(demo.demo)
main.add_command(dev.dev)
main.add_command(ledger.ledger)
main.add_command(fees.fees)
main.add_command(nightly.nightly)
main.add_command(notifications.notifications)
main.add_command(payments.payments)
main.add_command(payouts.payouts)
main.add_command(recon.recon)
main.add_command(refunds.refunds)
main.add_command(sandbox.sandbox)
main.add_command(screenshots.screenshots)
main.add_command(statements.statement)
main.add_command(api_keys.api_key)
main.add_command(backup.backup)
main.add_command(backup.restore_command)
