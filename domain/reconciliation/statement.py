"""The day's reconciliation statement as finance reads it: the report's total, the books' total, and
the difference explained class by class down to the residual, which must be 0 paise."""

from __future__ import annotations

from domain.money import format_rupees
from domain.reconciliation.rules import BREAK_CLASSES
from domain.reconciliation.store import Reconciliation

TITLES = {
    "matched": "Matched",
    "amount_mismatch": "Amount differs",
    "fee_mismatch": "Fee or GST differs",
    "refund_mismatch": "Refund differs",
    "missing_in_report_pending": "Not in report yet (inside the settlement window)",
    "missing_in_report": "Missing in report (window passed)",
    "settled_later": "Settled in a later report",
    "late_settlement": "Late settlement of an earlier day",
    "missing_in_books": "Missing in our books",
    "duplicate": "Duplicate row",
    "paid_after_cancellation": "Paid after cancellation or failure",
}


def markdown(result: Reconciliation) -> str:
    """A printable statement: totals, one line per class with items, then the residual."""
    report = result.report
    lines = [
        f"### Reconciliation of {report.report_date} (report version {report.version}, {report.rows} rows)",
        "",
        f"- Report total: **{format_rupees(result.report_total_paise)}**",
        f"- Our books expected: **{format_rupees(result.books_total_paise)}**",
        f"- Difference: **{format_rupees(result.difference_paise)}**",
        "",
        "| Class | Items | Expected | Reported | Difference | Break |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for line in result.lines:
        if line.items:
            lines.append(
                f"| {TITLES[line.klass]} | {line.items} | {format_rupees(line.expected_paise)} | "
                f"{format_rupees(line.reported_paise)} | {format_rupees(line.difference_paise)} | "
                f"{'yes' if line.klass in BREAK_CLASSES else ''} |"
            )
    lines += ["", f"Residual (unexplained): **{format_rupees(result.residual_paise)}**"]
    if result.new_exceptions:
        opened = ", ".join(f"{count} {klass}" for klass, count in sorted(result.new_exceptions.items()))
        lines.append(f"New breaks: {opened}.")
    return "\n".join(lines)
