"""Crash safety of refund submission, proved with real processes: `settle refunds submit` is SIGKILLed
at each step of the protocol and restarted; the sandbox's own refunds are the witness that each refund
reached the gateway at most once (one refund per merchantRefundId, created by one call), none was lost,
and the books balance. Two submission processes started together refund nothing twice.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.scenarios import refunds
from tests.scenarios.books import Books, assert_books_sound
from tests.scenarios.drill import wait_for_pause

D = dt.date(2026, 11, 10)
SUBMIT = [sys.executable, "-c", "from cli.main import main; main()", "refunds", "submit"]


def _prepare(books: Books, count: int) -> list[str]:
    """`count` paid orders of 20_000 paise, each with an approved refund of 5_000 waiting to be sent."""
    buyer, seller = books.user("buyer"), books.user("seller")
    now = dt.datetime.now(dt.UTC)
    orders = [books.paid_order(buyer, seller, 20_000, now - dt.timedelta(hours=1)) for _ in range(count)]
    return [refunds.request(books, order, 5_000, now).refund_id for order in orders]


def _env(books: Books, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": books.engine.url.render_as_string(hide_password=False),
        "DATA_DIR": str(tmp_path),
        "PHONEPE_BASE_URL": books.sandbox.settings.phonepe_base_url,
        "REFUND_CONCURRENCY": "1",
        "REFUND_BACKOFF_BASE_S": "0.01",
        "REFUND_BACKOFF_MAX_S": "0.05",
        "REFUND_POLL_BASE_S": "0.01",
        "REFUND_REQUESTS_PER_SECOND": "1000",
        "GATEWAY_READ_TIMEOUT_S": "10",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def _rerun_until_settled(books: Books, tmp_path: Path) -> None:
    """Restart the submission (twice: the first may only find the victim's backoff pending), then
    bring everything up to date by status, as the refunds job does."""
    for _ in range(2):
        time.sleep(0.1)
        rerun = subprocess.run(SUBMIT, env=_env(books, tmp_path), capture_output=True, timeout=120, check=False)
        assert rerun.returncode == 0, rerun.stderr.decode()
    refunds.bring_up_to_date(books, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))


@pytest.mark.parametrize("point", ["attempt_recorded", "gateway_call", "gateway_answered"])
def test_killed_at_each_step_and_restarted_refunds_each_exactly_once(books: Books, tmp_path: Path, point: str) -> None:
    ids = _prepare(books, 3)
    if point == "gateway_call":  # the gateway takes the refund, then holds the answer while we die
        books.sandbox.set_faults({"refund_create": {"timeout_rate": 1.0, "timeout_ms": 5_000, "limit": 1}})
    marker = tmp_path / "paused"
    env = _env(books, tmp_path, SETTLE_REFUNDS_PAUSE_AT=point, SETTLE_REFUNDS_PAUSE_FILE=str(marker))
    first = subprocess.Popen(SUBMIT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    victim = wait_for_pause(marker, first)
    if point == "gateway_call":
        time.sleep(0.5)  # the request is at the gateway, the answer not yet back
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)

    attempt = books.one("SELECT outcome FROM refund_attempts WHERE refund_id = :r", r=victim)
    assert attempt.outcome is None  # the attempt row survived; its answer died with the process
    assert len(refunds.witness(books).get(victim, [])) == (0 if point == "attempt_recorded" else 1)

    books.sandbox.set_faults({})
    _rerun_until_settled(books, tmp_path)

    made = refunds.witness(books)
    assert set(made) == set(ids)  # none lost, none unknown to us
    for refund in refunds.refunds(books):
        [gateway_refund] = made[refund.refund_id]  # exactly one refund at the gateway per refund
        assert (refund.status, gateway_refund["amount"], gateway_refund["state"]) == ("completed", 5_000, "COMPLETED")
        assert gateway_refund["create_calls"] == 1  # the victim too: found by status, or never received before
    outcomes = [a.outcome for a in books.rows(
        "SELECT outcome FROM refund_attempts WHERE refund_id = :r ORDER BY attempt_number", r=victim)]  # fmt: skip
    if point == "attempt_recorded":  # the gateway never heard of it: sent again under the same merchantRefundId
        assert outcomes == ["not_found", "accepted"]
    else:  # the gateway had it: found by the status query, never sent again
        assert outcomes == ["found"]
    # 3 refunds of 5_000 on orders of 20_000: fee reversed 500 each, the seller gives back 4_500 each.
    balances = books.balances()
    assert (balances["gateway_clearing"], balances["platform_revenue"]) == (-15_000, 1_500)
    assert books.one("SELECT count(*) AS n FROM order_refunds").n == 3
    assert_books_sound(books)


def test_two_submission_processes_at_once_refund_nothing_twice(books: Books, tmp_path: Path) -> None:
    _prepare(books, 12)
    books.sandbox.set_faults({"refund_create": {"latency_ms": 30}})
    env = _env(books, tmp_path, REFUND_CONCURRENCY="2")
    runs = [subprocess.Popen(SUBMIT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read().decode() if run.stderr else ""
    refunds.bring_up_to_date(books, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    made = refunds.witness(books)
    assert len(made) == 12
    assert all(len(calls) == 1 and calls[0]["create_calls"] == 1 for calls in made.values())
    assert books.one("SELECT count(*) AS n FROM refund_attempts").n == 12
    assert {row.status for row in refunds.refunds(books)} == {"completed"}
    assert_books_sound(books)
