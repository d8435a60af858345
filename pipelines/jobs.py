"""Jobs: the nightly settlement as a selection over the asset graph, the payment confirmation that
runs through the day, and finance's op jobs."""

from __future__ import annotations

import dagster as dg

from assets import audit, backups, confirmation, fees, notifications, payouts, reconciliation, refunds

nightly_settlement = dg.define_asset_job(
    "nightly_settlement",
    selection=dg.AssetSelection.groups("settlement", "payouts", "analytics")
    | dg.AssetSelection.assets(reconciliation.settlement_report),
    description="Settle one IST day: post the captures of the payments confirmed through the day, settlement "
    "lines and bounties, check everything, take the gateway's settlement report (payouts pay only money it "
    "lists), create and submit the day's payouts, refresh the analytics tables.",
)


reconciliation_job = dg.define_asset_job(
    "reconciliation",
    selection=dg.AssetSelection.groups("reconciliation"),
    description="Reconcile one IST day: download the gateway's settlement report, validate it, and classify it "
    "against the books; breaks become exceptions and the statement must leave a residual of 0 paise.",
)


@dg.job(description="Finance: import a settlement report file for a day and reconcile the day with it.")
def import_settlement_report() -> None:
    reconciliation.import_settlement_report_op()


@dg.job(
    description="Confirm the payments due for a status check with PhonePe (launched every few minutes by "
    "the confirmation sensor when some are due)."
)
def payment_confirmation() -> None:
    confirmation.confirm_payments_op()


@dg.job(description="Submit due pending payouts (retries whose backoff ran out, or the given ids or day).")
def submit_payouts() -> None:
    payouts.submit_payouts_op()


@dg.job(description="Finance: create one day's payouts (only if its blocking checks passed) and submit them.")
def create_and_submit_payouts() -> None:
    payouts.create_and_submit_payouts_op()


@dg.job(description="Finance: retry the given payouts (due now if waiting; a new payout if failed).")
def retry_payouts() -> None:
    payouts.retry_payouts_op()


@dg.job(description="Finance: cancel the given pending payouts; the money returns to the payees' balances.")
def cancel_payouts() -> None:
    payouts.cancel_payouts_op()


@dg.job(description="Finance: put a payee on hold or release the hold.")
def payee_hold() -> None:
    payouts.payee_hold_op()


@dg.job(description="Apply RazorpayX payout webhooks and poll payouts that are still processing.")
def payout_status() -> None:
    payouts.payout_status_op()


@dg.job(description="Audit the whole ledger incrementally, from the last audited entry to the latest close.")
def ledger_audit() -> None:
    audit.ledger_audit_op()


@dg.job(
    description="Finance: rebuild the books from the raw facts and compare them with the live ones, entry by "
    "entry; nothing is written, and any difference fails the run."
)
def ledger_verify() -> None:
    audit.ledger_verify_op()


@dg.job(
    description="Refunds: refund confirmed stray payments, submit approved refunds, and bring submitted ones up "
    "to date with PhonePe (launched by the refunds sensor when there is work)."
)
def refund_processing() -> None:
    refunds.run_refunds_op()


@dg.job(description="Finance: approve the given refunds waiting for approval.")
def approve_refunds() -> None:
    refunds.approve_refunds_op()


@dg.job(description="Finance: reject the given refunds waiting for approval (a reason is required).")
def reject_refunds() -> None:
    refunds.reject_refunds_op()


@dg.job(description="Finance: refund the given failed refunds again, each as a new refund.")
def retry_refunds() -> None:
    refunds.retry_refunds_op()


@dg.job(
    description="Deliver notifications: route the outbox into deliveries and send the due ones by email and in "
    "the app (launched by the notifications sensor when some are due)."
)
def dispatch_notifications() -> None:
    notifications.dispatch_notifications_op()


@dg.job(
    description="Back up the system of record (pg_dump and manifest) into the backup directory and keep the newest "
    "backups (BACKUP_RETENTION_COUNT)."
)
def backup() -> None:
    backups.backup_op()


@dg.job(
    description="Finance: add a fee schedule version effective from a future IST date; values not given carry "
    "over from the version in effect then. A version in effect is never changed."
)
def add_fee_schedule() -> None:
    fees.add_fee_schedule_op()


@dg.job(
    description="Finance: what a range of days would have settled under a draft fee schedule, next to what they "
    "did, recomputed read-only into analytics.fee_what_if; nothing is posted."
)
def fee_what_if() -> None:
    fees.fee_what_if_op()


JOBS = [
    ledger_audit,
    backup,
    ledger_verify,
    nightly_settlement,
    reconciliation_job,
    import_settlement_report,
    payment_confirmation,
    submit_payouts,
    create_and_submit_payouts,
    retry_payouts,
    cancel_payouts,
    payee_hold,
    payout_status,
    refund_processing,
    approve_refunds,
    reject_refunds,
    retry_refunds,
    dispatch_notifications,
    add_fee_schedule,
    fee_what_if,
]
