"""Refunds meeting a real gateway's behaviour: webhooks believed only when the status API agrees, refunds
stuck at PENDING, refusals, transient errors, lost answers, and the Dagster jobs finance runs."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
from click.testing import CliRunner

from assets.resources import PostgresResource
from cli.main import main
from domain.platform.clock import IST
from domain.refunds import store
from gateways.phonepe.webhooks import v2_authorization
from pipelines.definitions import defs
from pipelines.sensors import refunds_sensor
from tests.scenarios import refunds
from tests.scenarios.books import Books, assert_books_sound, ist
from tests.scenarios.payouts import api

D = dt.date(2026, 11, 10)


def _paid(books: Books, amount_paise: int = 40_000) -> tuple[str, str, str]:
    buyer, seller = books.user("buyer"), books.user("seller")
    return buyer, seller, books.paid_order(buyer, seller, amount_paise, ist(D, 9), delivered_at=ist(D, 10))


def _webhook(books: Books, body: dict[str, object]) -> dict[str, object]:
    client, _ = api(books)
    settings = books.sandbox.settings
    auth = v2_authorization(settings.phonepe_webhook_username, settings.phonepe_webhook_password.get_secret_value())
    response = client.post("/v1/webhooks/phonepe", content=json.dumps(body),
                           headers={"Authorization": auth, "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


def test_a_forged_completion_webhook_moves_nothing_and_a_stuck_refund_alerts_finance_once(books: Books) -> None:
    _, _, order = _paid(books)
    refund = refunds.request(books, order, 10_000, ist(D, 12))
    books.sandbox.configure(refund_outcomes={refund.refund_id: "PENDING"})  # the bank never answers
    assert refunds.submit(books, ist(D, 12)).outcomes == {"submitted": 1}

    forged = {"event": "pg.refund.completed", "payload": {
        "merchantRefundId": refund.refund_id, "originalMerchantOrderId": order, "refundId": "OMR-FORGED",
        "amount": 10_000, "state": "COMPLETED"}}  # fmt: skip
    assert _webhook(books, forged)["reason"] == "stored_for_refund_pipeline"
    counts = refunds.bring_up_to_date(books, ist(D, 13))
    assert (counts["webhook_status_disagrees"], counts["stuck_alerted"]) == (1, 0)
    stored = books.one("SELECT verdict, reason, processed_at FROM webhook_events WHERE event_key LIKE :k",
                       k=f"pg.refund.completed:{refund.refund_id}:%")  # fmt: skip
    assert (stored.verdict, stored.reason, stored.processed_at is not None) == (
        "anomaly", "status_disagrees:pending", True,
    )  # fmt: skip
    row = books.one("SELECT status, gateway_state, status_checks FROM refunds WHERE refund_id = :r", r=refund.refund_id)
    assert (row.status, row.gateway_state) == ("submitted", "PENDING")
    assert books.balances() == {}  # the webhook moved no money
    assert books.one("SELECT count(*) AS n FROM order_refunds").n == 0

    two_days = ist(D, 12) + dt.timedelta(hours=49)
    assert refunds.bring_up_to_date(books, two_days)["stuck_alerted"] == 1
    assert refunds.bring_up_to_date(books, two_days + dt.timedelta(hours=1))["stuck_alerted"] == 0  # once
    alert = books.one("SELECT audience, payload FROM notifications WHERE event_type = 'refund_stuck'")
    assert (alert.audience, alert.payload["refund_id"], alert.payload["gateway_state"]) == (
        "finance", refund.refund_id, "PENDING",
    )  # fmt: skip
    later = books.one("SELECT status, status_checks FROM refunds WHERE refund_id = :r", r=refund.refund_id)
    assert later.status == "submitted" and later.status_checks > row.status_checks  # still polled


def test_the_gateway_refusing_the_create_fails_the_refund_and_tells_finance(books: Books) -> None:
    buyer, seller = books.user("buyer"), books.user("seller")
    unpaid_at_gateway = books.paid_order(buyer, seller, 30_000, ist(D, 9), gateway=None)  # PhonePe never took it
    refund = refunds.request(books, unpaid_at_gateway, 30_000, ist(D, 12))
    assert refunds.submit(books, ist(D, 12)).outcomes == {"rejected": 1}
    row = books.one("SELECT status, failure_reason FROM refunds WHERE refund_id = :r", r=refund.refund_id)
    assert row.status == "failed" and row.failure_reason.startswith("rejected by the gateway")
    attempts = books.rows("SELECT outcome, http_status FROM refund_attempts WHERE refund_id = :r", r=refund.refund_id)
    assert [(a.outcome, a.http_status) for a in attempts] == [("rejected", 400)]
    told = books.rows("SELECT event_type, audience FROM notifications WHERE dedupe_key LIKE :k ORDER BY dedupe_key",
                      k=f"refund:{refund.refund_id}:failed%")  # fmt: skip
    assert [tuple(t) for t in told] == [("refund_failed", "user"), ("refund_failed", "finance")]
    assert books.balances() == {}


def test_a_transient_error_is_retried_after_its_backoff_and_the_refund_made_once(books: Books) -> None:
    _, _, order = _paid(books)
    refund = refunds.request(books, order, 10_000, ist(D, 12))
    books.sandbox.set_faults({"refund_create": {"error_rate": 1.0, "error_status": 503, "limit": 1}})
    assert refunds.submit(books, ist(D, 12)).outcomes == {"retry_scheduled": 1}
    assert refunds.submit(books, ist(D, 12)).outcomes == {}  # not due before its backoff
    assert refunds.submit(books, ist(D, 13)).outcomes == {"submitted": 1}
    attempts = books.rows("SELECT outcome FROM refund_attempts WHERE refund_id = :r ORDER BY attempt_number",
                          r=refund.refund_id)  # fmt: skip
    assert [a.outcome for a in attempts] == ["retriable", "accepted"]
    refunds.bring_up_to_date(books, ist(D, 13))
    [made] = refunds.witness(books)[refund.refund_id]
    assert (made["create_calls"], made["state"]) == (1, "COMPLETED")
    assert books.one("SELECT status FROM refunds WHERE refund_id = :r", r=refund.refund_id).status == "completed"
    assert_books_sound(books)


def test_a_lost_answer_is_resolved_by_status_never_by_a_second_create(books: Books) -> None:
    _, _, order = _paid(books)
    refund = refunds.request(books, order, 10_000, ist(D, 12))
    books.sandbox.set_faults({"refund_create": {"timeout_rate": 1.0, "timeout_ms": 3_000, "limit": 1}})
    assert refunds.submit(books, ist(D, 12), read_timeout_s=0.5).outcomes == {"outcome_unknown": 1}
    books.sandbox.set_faults({})
    books.sandbox.flush()
    assert refunds.submit(books, ist(D, 13)).outcomes == {"resolved_completed": 1}
    [made] = refunds.witness(books)[refund.refund_id]
    assert made["create_calls"] == 1
    attempts = books.rows("SELECT outcome FROM refund_attempts WHERE refund_id = :r", r=refund.refund_id)
    assert [a.outcome for a in attempts] == ["found"]
    assert books.balances()["gateway_clearing"] == -10_000
    assert_books_sound(books)


def test_creates_the_gateway_never_receives_fail_the_refund_after_the_last_attempt(books: Books) -> None:
    _, _, order = _paid(books)
    refund = refunds.request(books, order, 10_000, ist(D, 12))
    books.sandbox.set_faults({"refund_create": {"error_rate": 1.0, "error_status": 503}})
    outcomes = [dict(refunds.submit(books, ist(D, 12 + n), max_attempts=3).outcomes) for n in range(4)]
    assert outcomes == [{"retry_scheduled": 1}, {"retry_scheduled": 1}, {"retry_scheduled": 1}, {"failed": 1}]
    row = books.one("SELECT status, failure_reason, attempt_count FROM refunds WHERE refund_id = :r",
                    r=refund.refund_id)  # fmt: skip
    assert (row.status, row.attempt_count) == ("failed", 3)
    assert row.failure_reason.startswith("attempts exhausted, the gateway never received it")
    assert refunds.witness(books) == {}


def test_finance_jobs_approve_reject_and_retry_in_bulk(books: Books) -> None:
    _, _, order = _paid(books, 900_000)
    waiting = [refunds.request(books, order, 200_000, ist(D, 12), refund_approval_threshold_paise=100_000)
               for _ in range(3)]  # fmt: skip
    assert {w.status for w in waiting} == {"requested"}
    config = {"ops": {"approve_refunds_op": {"config": {"refund_ids": [waiting[0].refund_id, "rfd_missing"],
                                                        "actor": "asha"}}}}  # fmt: skip
    approved = defs.resolve_job_def("approve_refunds").execute_in_process(run_config=config, instance=books.instance)
    assert approved.output_for_node("approve_refunds_op") == {
        waiting[0].refund_id: "approved",
        "rfd_missing": "refused: refund_not_found: There is no refund rfd_missing.",
    }
    config = {"ops": {"reject_refunds_op": {"config": {"refund_ids": [w.refund_id for w in waiting],
                                                       "actor": "asha", "reason": "duplicate request"}}}}  # fmt: skip
    rejected = defs.resolve_job_def("reject_refunds").execute_in_process(run_config=config, instance=books.instance)
    answers = rejected.output_for_node("reject_refunds_op")
    assert answers[waiting[0].refund_id].startswith("refused: refund_not_awaiting_approval")
    assert [answers[w.refund_id] for w in waiting[1:]] == ["rejected", "rejected"]
    audit = books.rows("SELECT actor, action FROM audit_log WHERE target_type = 'refund' AND actor = 'asha'")
    assert sorted(a.action for a in audit) == ["refund.approve", "refund.reject", "refund.reject"]

    books.sandbox.configure(refund_outcomes={waiting[0].refund_id: "FAILED"})
    processed = defs.resolve_job_def("refund_processing").execute_in_process(instance=books.instance)
    assert processed.success
    books.sandbox.flush()
    refunds.bring_up_to_date(books, dt.datetime.now(IST))
    assert books.one("SELECT status FROM refunds WHERE refund_id = :r", r=waiting[0].refund_id).status == "failed"
    config = {"ops": {"retry_refunds_op": {"config": {"refund_ids": [waiting[0].refund_id], "actor": "asha"}}}}
    retried = defs.resolve_job_def("retry_refunds").execute_in_process(run_config=config, instance=books.instance)
    new_id = retried.output_for_node("retry_refunds_op")[waiting[0].refund_id]
    assert new_id.startswith("rfd_")
    assert books.one("SELECT status, retry_of_refund_id FROM refunds WHERE refund_id = :r", r=new_id) == (
        "approved", waiting[0].refund_id,
    )  # fmt: skip


def _sensor(books: Books) -> dg.SensorResult:
    url = books.engine.url.render_as_string(hide_password=False)
    with dg.build_sensor_context(instance=books.instance, resources={"db": PostgresResource(url=url)}) as context:
        result = refunds_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_the_sensor_launches_a_run_when_refund_work_is_due_and_the_command_runs_it(books: Books) -> None:
    assert _sensor(books).skip_reason.skip_message == "no refund work is due"  # type: ignore[union-attr]
    _, _, order = _paid(books)
    now = dt.datetime.now(dt.UTC)
    with books.engine.begin() as conn:  # a refund requested now through the API: due at once
        first, _ = store.request_refund(
            conn, store.RefundRequest(order, 5_000, "other", None, "tests"), store.policy_from(books.sandbox.settings),
            now,
        )  # fmt: skip
    (run_request,) = _sensor(books).run_requests or []
    assert run_request.run_key is not None and run_request.run_key.startswith("refunds-")
    unfinished = books.instance.create_run_for_job(job_def=defs.resolve_job_def("refund_processing"))
    assert _sensor(books).skip_reason.skip_message == "a refunds run is still in progress"  # type: ignore[union-attr]
    books.instance.report_run_canceled(unfinished)

    env = {"DATABASE_URL": books.engine.url.render_as_string(hide_password=False),
           "PHONEPE_BASE_URL": books.sandbox.settings.phonepe_base_url, "ENVIRONMENT": "test"}  # fmt: skip
    submitted = CliRunner().invoke(main, ["refunds", "submit"], env=env)
    assert submitted.exit_code == 0, submitted.output
    assert "'submitted': 1" in submitted.output
    books.sandbox.flush()
    refunds.store_webhooks(books)
    status = CliRunner().invoke(main, ["refunds", "status"], env=env)
    assert (status.exit_code, "'webhook_applied': 1" in status.output) == (0, True), status.output
    assert books.one("SELECT status FROM refunds WHERE refund_id = :r", r=first["refund_id"]).status == "completed"
    assert _sensor(books).skip_reason.skip_message == "no refund work is due"  # type: ignore[union-attr]
