"""`settle demo` end to end: real sandbox and API processes, the nightly job, the summary."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from cli.main import main
from domain.money import round_half_up, rupees_to_paise
from tests.cli.conftest import DemoDay


def test_demo_settles_a_simulated_day(demo_day: DemoDay) -> None:
    assert demo_day.exit_code == 0, demo_day.output
    out = demo_day.output
    assert "simulated: {'orders': 60, 'paid': 56, 'payment_failed': 3, " in out
    assert "(duplicate answered 200, forged answered 401)" in out
    assert "Checks: all passed (21/21 in check_results)" in out
    assert "rejected   bad_signature                 1" in out
    assert "duplicate  already_accepted              1" in out
    assert "retried after a transient gateway error: 2" in out
    assert "(the money is back in the payee's balance)" in out  # seller 4's bank refuses
    assert [line for line in out.splitlines() if "Warning" in line] == []  # a summary, not Dagster's notes
    assert "  settled  " in out and "  refunded                  3" in out and "  partially_refunded        1" in out
    assert "refunds before the night: 5 asked by buyers, 1 retried by finance, 1 stray payment" in out
    assert "waits for finance (order_settled, order_paid_out)" in out
    refunds = re.findall(r"^  (order|stray) ord_\S+ +Rs ([\d,.]+) (\w+) +(\w+)(?: +(.*))?$", out, flags=re.MULTILINE)
    assert [(kind, status) for kind, _, status, _, _ in refunds] == [
        ("order", "completed"),  # in full, before the night
        *[("order", "completed")] * 3,  # in three pieces
        ("order", "failed"),  # the gateway failed it ...
        ("stray", "completed"),  # paid after it was cancelled
        ("order", "completed"),  # ... and finance retried it
        ("order", "completed"),  # after payout: a clawback
    ]
    for kind, amount, status, _, parts in refunds:  # 10% of each refund's amount is platform fee given back
        if (kind, status) == ("order", "completed"):
            paise = _paise(amount)
            fee, seller = (_paise(x) for x in re.findall(r"Rs ([\d,.]+)", parts))
            assert (fee, seller) == (round_half_up(paise * 1000, 10_000), paise - fee), (amount, parts)
    assert re.search(r"seller usr_\S+ balance -Rs [\d,.]+ after a clawback of Rs [\d,.]+: not paid", out)
    # Reconciliation of the day: every report row classified, the stray payment its one break (Rs 250
    # less the 1.5% fee, 375 paise, and 18% GST on it, 68 paise: Rs 245.57), nothing unexplained, and
    # the bank's transfer posted with nothing left in suspense.
    assert "| Paid after cancellation or failure | 1 | Rs 0.00 | Rs 245.57 | Rs 245.57 | yes |" in out
    assert "Residual (unexplained): **Rs 0.00**" in out and "New breaks: 1 paid_after_cancellation." in out
    [(report, books, difference)] = re.findall(
        r"Report total: \*\*Rs ([\d,.]+)\*\*\n- Our books expected: \*\*Rs ([\d,.]+)\*\*\n"
        r"- Difference: \*\*Rs ([\d,.]+)",
        out,
    )
    assert (_paise(report) - _paise(books), _paise(difference)) == (24_557, 24_557)
    assert re.search(r"- Batch SBIN\w+: the bank received Rs [\d,.]+ against Rs [\d,.]+ in the report; Rs 0.00", out)
    _assert_notifications(out)


def _assert_notifications(out: str) -> None:
    """The day's outbox delivered to the demo's sink: every delivery sent or suppressed, none left to
    retry; the first paying buyer's payment emails suppressed (payments by email switched off); one statement email
    and one in-app statement per seller with its sums right."""
    (emails,) = re.findall(r"^Notifications \(email to the demo's SMTP sink, (\d+) messages in ", out, re.MULTILINE)
    rows = re.findall(r"^  ([a-z_]+) +(email|in_app) +(\d+) +(\d+) +(\d+)$", out, flags=re.MULTILINE)
    table = {(event, channel): (int(sent), int(dropped), int(other)) for event, channel, sent, dropped, other in rows}
    assert sum(sent for (_, channel), (sent, _, _) in table.items() if channel == "email") == int(emails)
    assert [key for key, (_, _, other) in table.items() if other] == []
    assert table[("order_status_changed", "in_app")][0] > 0 and ("order_status_changed", "email") not in table
    paid_email, suppressed, _ = table[("payment_succeeded", "email")]
    assert suppressed > 0 and paid_email + suppressed == table[("payment_succeeded", "in_app")][0]
    assert table[("settlement_statement", "email")] == table[("settlement_statement", "in_app")] == (10, 0, 0)
    assert table[("payout_failed", "email")] == (2, 0, 0)  # seller 4 and finance
    sums = re.search(
        r"Sales \(gross\) +Rs ([\d,.]+)\n  Platform fee +Rs ([\d,.]+)\n  Gateway fee +Rs ([\d,.]+)\n"
        r"  Net earned +Rs ([\d,.]+)\n\n  Refunds completed +\d+\n  Refunded to buyers +Rs [\d,.]+\n"
        r"  Taken back from you +Rs ([\d,.]+)\n\n  (?:Paid out +Rs ([\d,.]+) \(payout pay_\w+\)|No payout today\.)\n\n"
        r"  Balance after the day +Rs ([\d,.]+)",
        out,
    )
    assert sums is not None, "the statement email is printed"
    gross, platform, gateway, net, clawback, paid, balance = (_paise(value or "0") for value in sums.groups())
    assert gross - platform - gateway == net and net - clawback == paid + balance


def _paise(rupees: str) -> int:
    return rupees_to_paise(rupees.replace(",", ""))


def test_the_demo_day_replays_to_identical_books(demo_day: DemoDay, monkeypatch: pytest.MonkeyPatch) -> None:
    """`settle ledger verify` rebuilds the demo day's subledger and ledger from its raw facts: no difference."""
    monkeypatch.setenv("DATABASE_URL", demo_day.url)
    result = CliRunner().invoke(main, ["ledger", "verify", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["passed"], report["differences"], report["first_differences"]) == (True, 0, [])
    assert report["compared"]["entry"] > 0 and report["compared"]["capture"] == 56
