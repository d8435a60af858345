"""Crash safety, proved with real processes: `settle payouts submit` is SIGKILLed at each step of the
submission protocol and restarted; the sandbox's own records are the witness that every payout was
made exactly once (one gateway payout per payout, one create call), none was lost, and the books balance.
Two submission processes started together pay nothing twice.
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
import sqlalchemy as sa

from domain.payouts.submission import create_batch
from domain.users.tables import users
from tests.scenarios.books import Books, assert_books_sound, ist
from tests.scenarios.drill import wait_for_pause
from tests.scenarios.payouts import payouts, settle_status, witness

D = dt.date(2026, 11, 10)
SUBMIT = [sys.executable, "-c", "from cli.main import main; main()", "payouts", "submit"]


def _prepare(books: Books, sellers: int) -> list[str]:
    """`sellers` payouts of 17_700 paise each, created but not yet submitted."""
    buyer = books.user("buyer")
    ids = [books.user("seller") for _ in range(sellers)]
    for seller in ids:
        books.paid_order(buyer, seller, 20_000, ist(D, 9), delivered_at=ist(D, 10))
    assert books.settle(D).success  # no destinations yet: settled, nothing paid
    with books.engine.begin() as conn:
        for seller in ids:
            conn.execute(
                sa.update(users)
                .where(users.c.user_id == seller)
                .values(payout_destination={"type": "vpa", "vpa": f"{seller[-10:]}@okaxis"})
            )
        assert create_batch(conn, D, settled_funds_only=False)["payouts_created"] == sellers
    return ids


def _env(books: Books, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": books.engine.url.render_as_string(hide_password=False),
        "DATA_DIR": str(tmp_path),
        "RAZORPAYX_BASE_URL": books.sandbox.settings.razorpayx_base_url,
        "PAYOUT_CONCURRENCY": "1",
        "PAYOUT_BACKOFF_BASE_S": "0.01",
        "PAYOUT_BACKOFF_MAX_S": "0.05",
        "PAYOUT_REQUESTS_PER_SECOND": "1000",
        "GATEWAY_READ_TIMEOUT_S": "10",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


@pytest.mark.parametrize("point", ["attempt_recorded", "gateway_call", "gateway_answered"])
def test_killed_at_each_step_and_restarted_pays_each_payout_exactly_once(
    books: Books, tmp_path: Path, point: str
) -> None:
    _prepare(books, 3)
    if point == "gateway_call":  # the gateway makes the payout, then holds the answer while we die
        books.sandbox.set_faults({"payout_create": {"timeout_rate": 1.0, "timeout_ms": 5_000, "limit": 1}})
    marker = tmp_path / "paused"
    env = _env(books, tmp_path, SETTLE_PAYOUTS_PAUSE_AT=point, SETTLE_PAYOUTS_PAUSE_FILE=str(marker))
    first = subprocess.Popen(SUBMIT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    victim = wait_for_pause(marker, first)
    if point == "gateway_call":
        time.sleep(0.5)  # the request is at the gateway, the answer not yet back
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)

    attempt = books.one("SELECT outcome, idempotency_key FROM payout_attempts WHERE payout_id = :p", p=victim)
    assert attempt.outcome is None  # the attempt row survived; its answer died with the process
    made_before_restart = len(witness(books).get(victim, []))
    assert made_before_restart == (0 if point == "attempt_recorded" else 1)

    books.sandbox.set_faults({})
    second = subprocess.run(SUBMIT, env=_env(books, tmp_path), capture_output=True, timeout=120, check=False)
    assert second.returncode == 0, second.stderr.decode()
    settle_status(books)

    made = witness(books)
    rows = payouts(books)
    assert {row.payout_id for row in rows} == set(made)  # none lost, none unknown to us
    for row in rows:
        [gateway_payout] = made[row.payout_id]  # exactly one payout at the gateway per payout
        assert gateway_payout["create_calls"] == 1
        assert (row.status, gateway_payout["amount"]) == ("completed", 17_700)
    victim_attempts = books.rows(
        "SELECT outcome, idempotency_key FROM payout_attempts WHERE payout_id = :p ORDER BY attempt_number", p=victim
    )
    if point == "attempt_recorded":  # the gateway never heard of it: sent again under the same key
        assert [(a.outcome, a.idempotency_key) for a in victim_attempts] == [
            ("not_found", attempt.idempotency_key),
            ("accepted", attempt.idempotency_key),
        ]
    else:  # the gateway had made it: found by the status query, never sent again
        assert [a.outcome for a in victim_attempts] == ["found"]
    assert books.balances()["bank"] == -3 * 17_700
    assert_books_sound(books)


def test_two_submission_processes_at_once_pay_nothing_twice(books: Books, tmp_path: Path) -> None:
    _prepare(books, 16)
    books.sandbox.set_faults({"payout_create": {"latency_ms": 30}})
    env = _env(books, tmp_path, PAYOUT_CONCURRENCY="2")
    runs = [subprocess.Popen(SUBMIT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read().decode() if run.stderr else ""
    settle_status(books)
    made = witness(books)
    assert len(made) == 16
    assert all(len(calls) == 1 and calls[0]["create_calls"] == 1 for calls in made.values())
    assert books.one("SELECT count(*) AS n FROM payout_attempts").n == 16
    assert {row.status for row in payouts(books)} == {"completed"}
    assert_books_sound(books)
