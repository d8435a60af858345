"""The sandbox's settlement report: what PhonePe would settle for one day, with chosen anomalies.

Report date D lists the payments and completed refunds whose transaction time falls on D (IST),
settled on D + `settlement_lag_days`, except those chosen late, which the report of D + 1 lists.
Each payment row carries the gateway fee (fee_bps of the amount) and GST on that fee (gst_bps),
both negative; a refund row is a negative Amount with no fee. One bank transfer (one UTR) settles
a day.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import random
from dataclasses import dataclass

from domain.money import bps_of
from domain.platform.clock import IST
from gateways.phonepe.settlement_report import DATE_FORMAT, DATETIME_FORMAT, REPORT_COLUMNS
from gateways.sandbox.config import SandboxConfig


@dataclass(frozen=True, slots=True)
class Transaction:
    payment_type: str
    reference_id: str
    gateway_reference_id: str
    payer: str
    instrument: str
    created_at_ms: int
    transaction_at_ms: int
    amount_paise: int


def day_bounds_ms(day: dt.date) -> tuple[int, int]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=IST)
    return int(start.timestamp() * 1000), int((start + dt.timedelta(days=1)).timestamp() * 1000)


def rupees(paise: int) -> str:
    sign = "-" if paise < 0 else ""
    whole, rest = divmod(abs(paise), 100)
    return f"{sign}{whole}.{rest:02d}"


def _ist(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=IST).strftime(DATETIME_FORMAT)


def _chosen(config: SandboxConfig, day: dt.date, kind: str, reference_id: str, rate: float) -> bool:
    return rate > 0 and random.Random(f"{config.seed}:{day}:{kind}:{reference_id}").random() < rate


def is_late(config: SandboxConfig, day: dt.date, reference_id: str) -> bool:
    """Whether the transaction of `day` is left to the next day's report."""
    anomalies = config.report_anomalies
    return reference_id in anomalies.late or _chosen(config, day, "late", reference_id, anomalies.late_rate)


def build_report(
    day: dt.date, transactions: list[Transaction], config: SandboxConfig, carried: list[Transaction] | None = None
) -> str:
    """`transactions` of `day` and the late ones of the day before (`carried`), with the anomalies."""
    anomalies = config.report_anomalies
    settlement_date = (day + dt.timedelta(days=config.settlement_lag_days)).strftime(DATE_FORMAT)
    utr = "SBIN" + hashlib.sha256(f"{config.seed}:{day}".encode()).hexdigest()[:12].upper()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)

    def row(tx: Transaction, amount: int) -> list[str]:
        fee = bps_of(amount, config.fee_bps) if tx.payment_type == "PAYMENT" else 0
        if fee and tx.reference_id in anomalies.fee_diff:
            fee += anomalies.fee_diff[tx.reference_id]
        elif fee and _chosen(config, day, "fee", tx.reference_id, anomalies.fee_diff_rate):
            fee += anomalies.fee_diff_paise
        gst = bps_of(fee, config.gst_bps)
        if config.gst_split == "IGST":
            igst, cgst, sgst = gst, 0, 0
        else:
            igst, cgst = 0, gst // 2
            sgst = gst - cgst
        signed = amount if tx.payment_type == "PAYMENT" else -amount
        return [
            tx.payment_type,
            tx.reference_id,
            tx.gateway_reference_id,
            tx.payer,
            tx.instrument,
            _ist(tx.created_at_ms),
            rupees(signed),
            rupees(-fee),
            _ist(tx.transaction_at_ms),
            settlement_date,
            utr,
            rupees(-igst),
            rupees(-cgst),
            rupees(-sgst),
        ]

    listed = [tx for tx in transactions if not is_late(config, day, tx.reference_id)] + list(carried or [])
    for tx in sorted(listed, key=lambda t: (t.transaction_at_ms, t.reference_id)):
        ref = tx.reference_id
        if ref in anomalies.missing or _chosen(config, day, "missing", ref, anomalies.missing_rate):
            continue
        amount = tx.amount_paise
        if ref in anomalies.amount_diff:
            amount += anomalies.amount_diff[ref]
        elif _chosen(config, day, "amount", ref, anomalies.amount_diff_rate):
            amount += anomalies.amount_diff_paise
        amount = max(amount, 1)
        writer.writerow(row(tx, amount))
        if ref in anomalies.duplicate or _chosen(config, day, "duplicate", ref, anomalies.duplicate_rate):
            writer.writerow(row(tx, amount))
    start_ms, _ = day_bounds_ms(day)
    generator = random.Random(f"{config.seed}:{day}:unknown")
    for n in range(anomalies.unknown_count):
        at = start_ms + generator.randrange(86_400_000)
        tag = generator.getrandbits(48)
        unknown = Transaction(
            "PAYMENT",
            f"UNKNOWN_{n}_{tag:012x}",
            f"T{tag:016d}",
            "unknown",
            "UPI",
            at,
            at,
            generator.randint(100, 500_000),
        )
        writer.writerow(row(unknown, unknown.amount_paise))
    return out.getvalue()
