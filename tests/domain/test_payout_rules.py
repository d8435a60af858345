"""Payout rules without a database: lifecycle paths, backoff with jitter, withdrawal limits, wiring."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from domain.payouts.rules import (
    PayeeBalance,
    attempt_key,
    path_to,
    require_transition,
    target_for_gateway_status,
    withdrawal_problem,
)
from domain.platform.retry import backoff_delay_s, next_attempt_at


@pytest.mark.parametrize(
    ("current", "target", "steps"),
    [
        ("pending", "processing", ("processing",)),
        ("pending", "completed", ("completed",)),
        ("processing", "completed", ("completed",)),
        ("processing", "reversed", ("completed", "reversed")),  # reversed arrived before processed
        ("completed", "reversed", ("reversed",)),
        ("reversed", "completed", ()),  # a late processed after reversed changes nothing
        ("completed", "processing", ()),
        ("failed", "completed", ()),
        ("cancelled", "processing", ()),
        ("completed", "completed", ()),
    ],
)
def test_paths_only_move_forward(current: str, target: str, steps: tuple[str, ...]) -> None:
    assert path_to(current, target) == steps


def test_illegal_transition_has_a_code() -> None:
    with pytest.raises(Exception, match="cannot become") as error:
        require_transition("completed", "cancelled")
    assert error.value.code == "illegal_payout_transition"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("gateway", "ours"),
    [("processed", "completed"), ("reversed", "reversed"), ("rejected", "failed"), ("failed", "failed"),
     ("cancelled", "failed"), ("queued", "processing"), ("pending", "processing"), ("whatever", "processing")],
)  # fmt: skip
def test_gateway_states(gateway: str, ours: str) -> None:
    assert target_for_gateway_status(gateway) == ours


def test_backoff_doubles_with_jitter_and_honours_retry_after() -> None:
    rng = random.Random(1)
    for attempt in range(1, 12):
        ceiling = min(3600.0, 30.0 * 2 ** (attempt - 1))
        delays = [backoff_delay_s(attempt, 30.0, 3600.0, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 150  # jittered, not lock-step
    assert backoff_delay_s(1, 30.0, 3600.0, rng, retry_after_s=120.0) == 120.0
    assert backoff_delay_s(1, 30.0, 3600.0, rng, retry_after_s=1.0) >= 15.0
    now = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)
    assert next_attempt_at(now, 1, 30.0, 3600.0, rng) >= now + dt.timedelta(seconds=15)
    with pytest.raises(ValueError):
        backoff_delay_s(0, 30.0, 3600.0, rng)


def test_withdrawal_limits() -> None:
    balance = PayeeBalance(
        available_paise=25_000, held_paise=0, in_flight_paise=0, paid_paise=0, requested_paise=10_000
    )
    assert withdrawal_problem(15_000, balance, 10_000) is None
    assert withdrawal_problem(15_001, balance, 10_000).code == "insufficient_balance"  # type: ignore[union-attr]
    assert withdrawal_problem(9_999, balance, 10_000).code == "payout_below_minimum"  # type: ignore[union-attr]
    assert withdrawal_problem(0, balance, 10_000).code == "validation_error"  # type: ignore[union-attr]
    negative = PayeeBalance(-500, 0, 0, 0)
    assert negative.withdrawable_paise == 0


def test_attempt_keys_fit_the_gateway() -> None:
    assert attempt_key("pay_" + "0" * 32, 20) == "pay_" + "0" * 32 + "-a20"
    with pytest.raises(ValueError):
        attempt_key("x" * 70, 1)


def test_payout_jobs_and_sensor_are_wired() -> None:
    from pipelines.definitions import defs

    repository = defs.get_repository_def()
    jobs = {job.name for job in repository.get_all_jobs()}
    assert {"submit_payouts", "create_and_submit_payouts", "retry_payouts", "cancel_payouts", "payee_hold",
            "payout_status"} <= jobs  # fmt: skip
    assert "payout_status_sensor" in {sensor.name for sensor in repository.sensor_defs}
    keys = {key.to_user_string() for key in repository.asset_graph.get_all_asset_keys()}
    assert {"payout_batch", "payout_submission", "analytics/payout_health_daily"} <= keys
