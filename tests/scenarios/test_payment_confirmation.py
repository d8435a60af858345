"""Payment confirmation through the day, against the sandbox over HTTP: what each gateway answer does
to a payment, pacing (workers, requests per second, Retry-After), expiry, the sensor, the job and the
command. `Recorder` wraps the real PhonePe client to see every status call the workflow makes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pytest
from click.testing import CliRunner

from assets.resources import PostgresResource, SettingsResource
from cli.main import main
from domain.platform.clock import Day
from domain.platform.gateway_errors import GatewayError
from domain.platform.retry import next_attempt_at
from domain.platform.sql import statement
from domain.settlement.gateway import OrderStatus
from gateways.phonepe.client import PhonePeClient
from gateways.phonepe.webhooks import v2_authorization
from pipelines.definitions import defs
from pipelines.sensors import payment_confirmation_sensor
from tests.scenarios.books import Books, ist
from tests.scenarios.payouts import api
from tests.scenarios.refunds import check_strays

D = dt.date(2026, 11, 16)
NOW = ist(D, 12)
PACE = {"requests_per_second": 1000.0, "backoff_base_s": 60.0, "backoff_max_s": 3600.0}


@dataclass
class Call:
    order_id: str
    started: float
    ended: float
    error: str | None


@dataclass
class Recorder:
    """The PhonePe client, recording each status call (order, start, end, error) and the most in flight."""

    client: PhonePeClient
    calls: list[Call] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def order_status(self, merchant_order_id: str) -> OrderStatus:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        started, error = time.monotonic(), None
        try:
            return self.client.order_status(merchant_order_id)
        except GatewayError as exc:
            error = f"{type(exc).__name__} {exc.http_status}"
            raise
        finally:
            with self._lock:
                self.in_flight -= 1
                self.calls.append(Call(merchant_order_id, started, time.monotonic(), error))

    def order_statuses(self, merchant_order_ids: Any, *, concurrency: int | None = None) -> Any:
        raise AssertionError("the workflow paces single calls itself")

    def asked(self) -> list[str]:
        return sorted(call.order_id for call in self.calls)


@pytest.fixture
def recorder(books: Books) -> Any:
    client = books.sandbox.phonepe_client(read_retries=0)
    yield Recorder(client)
    client.close()


def confirmation(books: Books, order_id: str) -> Any:
    return books.one("SELECT * FROM payment_confirmations WHERE order_id = :o", o=order_id)


def notifications(books: Books, event_type: str) -> list[Any]:
    return books.rows(
        "SELECT dedupe_key, audience, user_id, payload FROM notifications WHERE event_type = :t ORDER BY dedupe_key",
        t=event_type,
    )


def parties(books: Books) -> tuple[str, str]:
    return books.user("buyer"), books.user("seller")


# -- what each answer does --------------------------------------------------------------------------


def test_each_gateway_answer_and_a_rerun_that_asks_only_what_is_not_final(books: Books, recorder: Recorder) -> None:
    buyer, seller = parties(books)
    good = books.paid_order(buyer, seller, 10_000, ist(D, 9))
    pending = books.paid_order(buyer, seller, 11_000, ist(D, 9, 5), gateway="PENDING")
    unknown = books.paid_order(buyer, seller, 12_000, ist(D, 9, 10), gateway=None)
    refused = books.paid_order(buyer, seller, 13_000, ist(D, 9, 15), gateway="FAILED")
    short = books.paid_order(buyer, seller, 14_000, ist(D, 9, 20), gateway_amount_paise=1_400)
    genuine_failure = books.failed_order(buyer, seller, 15_000, ist(D, 9, 25))

    summary = books.confirm(NOW, gateway=recorder, rng=random.Random(3), **PACE)
    assert dict(summary.verdicts) == {"confirmed": 1, "retry": 2, "refused": 2, "failure_confirmed": 1}
    assert (summary.gateway_calls, summary.busy) == (6, False)
    rows = {
        row.order_id: (row.confirmed, row.reason, row.gateway_state, row.gateway_amount_paise, row.attempts)
        for row in books.rows("SELECT * FROM payment_confirmations")
    }
    assert rows == {
        good: (True, "confirmed", "COMPLETED", 10_000, 1),
        pending: (False, "gateway_state_pending", "PENDING", 11_000, 1),
        unknown: (False, "status_unavailable", None, None, 1),
        refused: (False, "gateway_state_failed", "FAILED", 13_000, 1),
        short: (False, "amount_mismatch", "COMPLETED", 1_400, 1),
        genuine_failure: (False, "gateway_state_failed", "FAILED", 15_000, 1),
    }
    # Recorded by the database when it recorded them; asked again only where the answer is not final.
    row = confirmation(books, good)
    assert (row.confirmed_at, row.next_check_at) == (row.checked_at, None)
    final = {r.order_id for r in books.rows("SELECT order_id FROM payment_confirmations WHERE next_check_at IS NULL")}
    assert final == {good, refused, short, genuine_failure}
    rng = random.Random(3)  # the workflow drew the two retries' jitter in due order: pending, then unknown
    expected = [next_attempt_at(NOW, 1, 60.0, 3600.0, rng) for _ in range(2)]
    assert [confirmation(books, o).next_check_at for o in (pending, unknown)] == expected
    # The order our side marked failed stays failed; no order changed status.
    statuses = dict(books.rows("SELECT order_id, status FROM orders"))
    assert statuses[genuine_failure] == "payment_failed"
    assert statuses[refused] == statuses[short] == "paid"
    alerts = notifications(books, "payment_unconfirmed")
    assert [(a.dedupe_key, a.audience, a.user_id, a.payload) for a in alerts] == sorted(
        [
            (f"payment_unconfirmed:{refused}", "finance", None,
             {"order_id": refused, "amount_paise": 13_000, "reason": "gateway_state_failed",
              "gateway_state": "FAILED", "gateway_amount_paise": 13_000, "attempts": 1}),
            (f"payment_unconfirmed:{short}", "finance", None,
             {"order_id": short, "amount_paise": 14_000, "reason": "amount_mismatch",
              "gateway_state": "COMPLETED", "gateway_amount_paise": 1_400, "attempts": 1}),
        ]
    )  # fmt: skip

    recorder.calls.clear()
    books.sandbox.pay(pending, 11_000, "COMPLETED")  # the gateway finishes the pending payment
    again = books.confirm(NOW + dt.timedelta(hours=3), gateway=recorder, **PACE)
    assert recorder.asked() == sorted([pending, unknown])  # nothing final is asked about again
    assert dict(again.verdicts) == {"confirmed": 1, "retry": 1}
    assert (confirmation(books, pending).confirmed, confirmation(books, pending).attempts) == (True, 2)
    assert (confirmation(books, unknown).reason, confirmation(books, unknown).attempts) == ("status_unavailable", 2)

    recorder.calls.clear()
    assert dict(books.confirm(NOW + dt.timedelta(hours=3), gateway=recorder, **PACE).verdicts) == {}
    assert recorder.calls == []  # the unknown one is not due yet: its backoff has not run out


def test_a_forged_failure_webhook_cannot_block_a_real_payment(books: Books) -> None:
    client, headers = api(books)
    users = [client.post("/v1/users", json={"role": role, "name": role, "email": "u@example.in"},
                         headers={**headers, "Idempotency-Key": f"register-{role}"})
             for role in ("buyer", "seller")]  # fmt: skip
    buyer, seller = (user.json()["user_id"] for user in users)
    order = client.post(
        "/v1/orders",
        json={"buyer_id": buyer, "seller_id": seller, "listing_id": "lst_1", "amount_paise": 25_000, "currency": "INR"},
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    ).json()["order_id"]
    paid_at = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=30)
    books.sandbox.pay(order, 25_000, "COMPLETED", paidAtMs=int(paid_at.timestamp() * 1000))
    books.sandbox.flush()
    # Someone who knows the static v2 header posts a failure before the genuine success arrives.
    stamp = int(paid_at.timestamp() * 1000)
    detail = {"transactionId": "TX-FORGED", "paymentMode": "UPI_QR", "state": "FAILED", "timestamp": stamp}
    forged = {
        "event": "checkout.order.failed",
        "payload": {"merchantOrderId": order, "orderId": "OMO-FORGED", "state": "FAILED", "amount": 25_000,
                    "paymentDetails": [{**detail, "amount": 25_000}]},
    }  # fmt: skip
    settings = books.sandbox.settings
    auth = v2_authorization(settings.phonepe_webhook_username, settings.phonepe_webhook_password.get_secret_value())
    webhook_headers = {"Authorization": auth, "Content-Type": "application/json"}
    answer = client.post("/v1/webhooks/phonepe", content=json.dumps(forged), headers=webhook_headers)
    assert (answer.json()["status"], answer.json()["reason"]) == ("accepted", "applied")
    (genuine,) = books.sandbox.receiver.for_path("/phonepe")
    late = client.post("/v1/webhooks/phonepe", content=genuine.body, headers=webhook_headers)
    assert (late.json()["status"], late.json()["reason"]) == ("anomaly", "paid_after_failure")  # a webhook cannot
    assert books.one("SELECT status FROM orders WHERE order_id = :o", o=order).status == "payment_failed"
    assert books.one("SELECT status FROM stray_payments WHERE order_id = :o", o=order).status == "reported"

    summary = books.confirm(dt.datetime.now(dt.UTC), **PACE)
    assert dict(summary.verdicts) == {"recovered": 1}
    row = books.one("SELECT * FROM orders WHERE order_id = :o", o=order)
    gateway = books.sandbox.phonepe.order_status(order)
    assert (row.status, row.paid_at, row.gateway_order_id, row.gateway_transaction_id) == (
        "paid",
        paid_at,
        gateway.gateway_order_id,
        gateway.transaction_id,
    )
    assert (confirmation(books, order).confirmed, confirmation(books, order).reason) == (True, "confirmed")
    assert check_strays(books, dt.datetime.now(dt.UTC)) == {"paid_order": 1}  # the order is paid: nothing to return
    changes = books.rows(
        "SELECT dedupe_key, event_type, payload FROM notifications WHERE payload->>'order_id' = :o "
        "AND event_type IN ('order_status_changed', 'payment_succeeded') ORDER BY notification_id",
        o=order,
    )
    assert [(c.dedupe_key, c.event_type) for c in changes][-2:] == [
        (f"order_status:{order}:paid", "order_status_changed"),
        (f"payment:{order}:succeeded", "payment_succeeded"),
    ]
    assert changes[-2].payload == {"order_id": order, "previous_status": "payment_failed", "status": "paid"}
    # Capturable: exactly what the nightly captures step reads (confirmed since the day began, paid
    # before its end, status paid or delivered).
    day = Day.containing(paid_at)
    capturable = books.rows(
        "SELECT o.order_id FROM payment_confirmations c JOIN orders o USING (order_id) WHERE c.confirmed "
        "AND c.confirmed_at >= :day_start AND o.paid_at < :day_end AND o.status IN ('paid', 'delivered')",
        day_start=day.start,
        day_end=day.end,
    )
    assert [r.order_id for r in capturable] == [order]


def test_expiry_alerts_finance_once_and_stops_asking(books: Books, recorder: Recorder) -> None:
    buyer, seller = parties(books)
    paid_at = ist(D, 9)
    order = books.paid_order(buyer, seller, 30_000, paid_at, gateway="PENDING")
    failed_at = ist(D, 10)
    failure = books.failed_order(buyer, seller, 31_000, failed_at, gateway=None)  # the gateway never heard of it

    for hours in (1, 71):
        assert dict(books.confirm(paid_at + dt.timedelta(hours=hours), gateway=recorder, **PACE).verdicts) == {
            "retry": 2
        }
    assert notifications(books, "payment_unconfirmed") == []
    late = books.confirm(paid_at + dt.timedelta(hours=72), gateway=recorder, **PACE)  # the failure is 71 h old
    assert dict(late.verdicts) == {"expired": 1, "retry": 1}
    row = confirmation(books, order)
    assert (row.confirmed, row.reason, row.gateway_state, row.attempts, row.next_check_at) == (
        False,
        "expired",
        "PENDING",
        3,
        None,
    )
    assert dict(books.confirm(failed_at + dt.timedelta(hours=72), gateway=recorder, **PACE).verdicts) == {"expired": 1}
    assert confirmation(books, failure).reason == "expired"
    asked = len(recorder.calls)
    for hours in (73, 100, 500):
        assert books.confirm(paid_at + dt.timedelta(hours=hours), gateway=recorder, **PACE).gateway_calls == 0
    assert len(recorder.calls) == asked == 3 + 4
    alerts = notifications(books, "payment_unconfirmed")
    assert [(a.dedupe_key, a.payload) for a in alerts] == sorted(
        [
            (f"payment_unconfirmed:{order}",
             {"order_id": order, "amount_paise": 30_000, "reason": "expired", "gateway_state": "PENDING",
              "gateway_amount_paise": 30_000, "attempts": 3}),
            (f"payment_unconfirmed:{failure}",
             {"order_id": failure, "amount_paise": 31_000, "reason": "expired", "gateway_state": None,
              "gateway_amount_paise": None, "attempts": 4}),
        ]
    )  # fmt: skip
    assert books.one("SELECT status FROM orders WHERE order_id = :o", o=failure).status == "payment_failed"


def test_never_asked_payments_are_looked_for_within_twice_their_age_limit(books: Books) -> None:
    buyer, seller = parties(books)
    now = ist(D, 9) + dt.timedelta(hours=100)  # the sensor was down for four days
    completed = books.paid_order(buyer, seller, 20_000, ist(D, 9))
    pending = books.paid_order(buyer, seller, 21_000, ist(D, 9), gateway="PENDING")
    older = books.paid_order(buyer, seller, 22_000, now - dt.timedelta(hours=145))
    # Within 2 x 72 h: still asked once, and past its age the pending one is expired at once.
    assert dict(books.confirm(now, **PACE).verdicts) == {"confirmed": 1, "expired": 1}
    assert (confirmation(books, completed).reason, confirmation(books, pending).reason) == ("confirmed", "expired")
    # Beyond it, not looked for: that bound keeps every run's query on recent orders, not on history.
    assert books.rows("SELECT * FROM payment_confirmations WHERE order_id = :o", o=older) == []


# -- pacing --------------------------------------------------------------------------------------------


def test_workers_are_bounded_by_the_concurrency(books: Books, recorder: Recorder) -> None:
    buyer, seller = parties(books)
    orders = [books.paid_order(buyer, seller, 10_000 + n, ist(D, 9, n)) for n in range(16)]
    books.sandbox.set_faults({"order_status": {"latency_ms": 200}})
    started = time.monotonic()
    summary = books.confirm(NOW, gateway=recorder, concurrency=4, **PACE)
    elapsed = time.monotonic() - started
    assert dict(summary.verdicts) == {"confirmed": 16}
    assert recorder.asked() == sorted(orders)
    assert recorder.most_in_flight == 4
    assert 16 / 4 * 0.2 <= elapsed < 16 * 0.2  # four at a time: neither one by one nor all at once


def test_requests_per_second_are_capped_across_workers(books: Books, recorder: Recorder) -> None:
    buyer, seller = parties(books)
    for n in range(21):
        books.paid_order(buyer, seller, 10_000 + n, ist(D, 9, n))
    summary = books.confirm(NOW, gateway=recorder, concurrency=8, **{**PACE, "requests_per_second": 10.0})
    assert dict(summary.verdicts) == {"confirmed": 21}
    starts = sorted(call.started for call in recorder.calls)
    assert len(starts) == 21
    # Ten a second across eight workers: the k-th call never starts sooner than k/10 s after the first
    # (so no second holds more than ten), and 21 calls take about 2 s, not much more.
    assert all(later - starts[0] >= k / 10.0 - 0.01 for k, later in enumerate(starts))
    assert 2.0 - 0.01 <= starts[-1] - starts[0] < 3.5


def test_retry_after_holds_every_worker_off_and_that_payment_waits_at_least_as_long(
    books: Books, recorder: Recorder
) -> None:
    buyer, seller = parties(books)
    orders = [books.paid_order(buyer, seller, 10_000 + n, ist(D, 9, n)) for n in range(6)]
    books.sandbox.set_faults({"order_status": {"rate_limit_rate": 1.0, "retry_after_s": 2, "limit": 1}})
    pace = {**PACE, "requests_per_second": 5.0, "backoff_base_s": 0.5, "backoff_max_s": 1.0}
    summary = books.confirm(NOW, gateway=recorder, concurrency=4, **pace)
    assert dict(summary.verdicts) == {"confirmed": 5, "retry": 1}
    (limited,) = [call for call in recorder.calls if call.error]
    assert limited.error == "RetriableError 429"
    others = [call for call in recorder.calls if call is not limited]
    assert len(others) == 5
    # Workers that had already taken their slot waited too: nothing was sent during the 2 s.
    assert all(call.started >= limited.ended + 2.0 for call in others)
    row = confirmation(books, limited.order_id)
    assert (row.reason, row.attempts, row.next_check_at) == ("status_unavailable", 1, NOW + dt.timedelta(seconds=2))
    assert {o for o in orders if confirmation(books, o).confirmed} == set(orders) - {limited.order_id}


def test_a_second_run_while_one_holds_the_lock_does_nothing(books: Books, recorder: Recorder) -> None:
    buyer, seller = parties(books)
    order = books.paid_order(buyer, seller, 10_000, ist(D, 9))
    with books.engine.connect() as conn, conn.begin():
        assert conn.execute(statement("settlement/confirmations_lock")).scalar_one() is True
        summary = books.confirm(NOW, gateway=recorder, **PACE)
    assert (summary.busy, summary.gateway_calls, recorder.calls) == (True, 0, [])
    assert books.rows("SELECT * FROM payment_confirmations") == []
    assert dict(books.confirm(NOW, gateway=recorder, **PACE).verdicts) == {"confirmed": 1}
    assert confirmation(books, order).confirmed


# -- the sensor, the job, the command ---------------------------------------------------------------


def _sensor(books: Books) -> dg.SensorResult:
    url = books.engine.url.render_as_string(hide_password=False)
    resources = {"db": PostgresResource(url=url), "settings": SettingsResource()}
    with dg.build_sensor_context(instance=books.instance, resources=resources) as context:
        result = payment_confirmation_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_the_sensor_skips_when_nothing_is_due_and_launches_the_job_that_confirms(books: Books) -> None:
    assert _sensor(books).skip_reason is not None
    assert _sensor(books).skip_reason.skip_message == "no payment is due for confirmation"  # type: ignore[union-attr]

    buyer, seller = parties(books)
    order = books.paid_order(buyer, seller, 10_000, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    requested = _sensor(books)
    assert requested.skip_reason is None
    (run_request,) = requested.run_requests or []
    assert run_request.run_key is not None and run_request.run_key.startswith("payment-confirmation-")

    job = defs.resolve_job_def("payment_confirmation")
    unfinished = books.instance.create_run_for_job(job_def=job)
    assert _sensor(books).skip_reason.skip_message == (  # type: ignore[union-attr]
        "a payment confirmation run is still in progress"
    )
    books.instance.report_run_canceled(unfinished)

    result = job.execute_in_process(instance=books.instance)
    assert result.success
    assert result.output_for_node("confirm_payments_op")["confirmed"] == 1
    assert (confirmation(books, order).confirmed, confirmation(books, order).reason) == (True, "confirmed")
    assert _sensor(books).skip_reason.skip_message == "no payment is due for confirmation"  # type: ignore[union-attr]


def test_settle_payments_confirm_runs_the_workflow_in_process(
    books: Books, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    buyer, seller = parties(books)
    order = books.paid_order(buyer, seller, 10_000, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    failed = books.failed_order(buyer, seller, 11_000, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=4))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOG_FORMAT", "console")
    result = CliRunner().invoke(main, ["payments", "confirm", "--concurrency", "2", "--requests-per-second", "50"])
    assert result.exit_code == 0, result.output
    assert "'confirmed': 1, 'failure_confirmed': 1, 'gateway_calls': 2" in result.output
    assert confirmation(books, order).confirmed
    assert (confirmation(books, failed).reason, confirmation(books, failed).next_check_at) == (
        "gateway_state_failed",
        None,
    )
    again = CliRunner().invoke(main, ["payments", "confirm"])
    assert "'gateway_calls': 0" in again.output


def test_the_nightly_job_reads_confirmations_and_asks_the_gateway_nothing() -> None:
    nightly = defs.resolve_job_def("nightly_settlement")
    assert "payment_confirmations_asset" not in nightly.graph.node_names()
    # PhonePe is asked for one thing only: the day's settlement report, which payouts wait for.
    asking = {node.name for node in nightly.graph.node_defs if "phonepe" in node.required_resource_keys}
    assert asking == {"settlement_report"}
    graph = defs.get_repository_def().asset_graph
    (check,) = [key for key in graph.asset_check_keys if key.name == "day_orders_expectations"]
    assert check.asset_key == dg.AssetKey("day_orders")  # checked before any money moves
