"""The dispatcher against a real SMTP server on localhost: what is sent, to whom, once; what is
suppressed, retried, given up on; and two dispatchers at once, and one killed mid-send."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from domain.notifications.dispatch import claim, dispatch, record
from domain.outbox import events, outbox
from gateways.smtp.client import SmtpChannel
from gateways.smtp.sink import free_port
from tests.scenarios.drill import wait_for_pause


def statement_payload(balance_paise: int = 26_550, **changes: object) -> dict[str, object]:
    # 3 orders of Rs 100: platform fee 10% = 3,000, gateway fee 1.5% = 450, net 30,000 - 3,450 = 26,550.
    return {
        "settlement_date": "2026-11-30",
        "statement_id": "stm_2026-11-30_1",
        "orders": 3,
        "gross_paise": 30_000,
        "platform_fee_paise": 3_000,
        "gateway_fee_paise": 450,
        "net_paise": 26_550,
        "refunds": 0,
        "refund_paise": 0,
        "clawback_paise": 0,
        "payout_id": None,
        "payout_paise": 0,
        "balance_paise": balance_paise,
        **changes,
    }


def write_statements(engine: sa.Engine, user_ids: list[str], **changes: object) -> None:
    with engine.begin() as conn:
        outbox.write(
            conn,
            [
                events.OutboxRow(
                    f"statement:{user_id}", "settlement_statement", "user", user_id, statement_payload(**changes)
                )
                for user_id in user_ids
            ],
        )


def deliveries(engine: sa.Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT d.*, n.event_type FROM notification_deliveries d "
                "JOIN notifications n USING (notification_id) ORDER BY delivery_id"
            )
        )
        return [dict(row._mapping) for row in rows]


def test_a_statement_is_one_email_and_one_in_app_notification(notify_engine, channels, options, add_user, mailbox):
    seller = add_user(email="asha@example.in", name="Asha Traders")
    write_statements(notify_engine, [seller])

    summary = dispatch(notify_engine, channels, options)

    assert summary.as_dict() == {"routed": 1, "sent": 2, "suppressed": 0}
    assert summary.by_event == Counter(
        {("settlement_statement", "email", "sent"): 1, ("settlement_statement", "in_app", "sent"): 1}
    )
    [message] = mailbox.messages
    email, in_app = deliveries(notify_engine)
    assert message["To"] == "asha@example.in"
    assert message["From"] == "Marketplace Settlements <settlements@marketplace.example>"
    assert message["Subject"] == "Your statement for 30 Nov 2026: Rs 265.50 earned"
    assert message["Message-ID"] == f"<delivery-{email['delivery_id']}.email@marketplace.example>"
    assert message["X-Notification-Event"] == "settlement_statement"
    assert message["X-Notification-Id"] == str(email["notification_id"])
    text = message.get_body(("plain",)).get_content()
    assert "Hello Asha Traders," in text
    assert "Net earned              Rs 265.50" in text
    assert "Platform fee            Rs 30.00" in text
    assert "Gateway fee             Rs 4.50" in text
    html = message.get_body(("html",)).get_content()
    assert "<strong>Rs 265.50</strong>" in html
    assert (email["channel"], email["status"], email["attempts"], email["address"]) == (
        "email",
        "sent",
        1,
        "asha@example.in",
    )
    assert email["message_id"] == message["Message-ID"]
    assert email["template"] == "email/settlement_statement.v1"
    assert email["lease_token"] is None and email["sent_at"] is not None
    assert (in_app["channel"], in_app["status"], in_app["recipient"], in_app["address"]) == (
        "in_app",
        "sent",
        seller,
        None,
    )
    assert in_app["subject"] == "Statement for 30 Nov 2026: Rs 265.50 earned"
    assert in_app["body"].startswith("3 orders, Rs 300.00 gross, Rs 30.00 platform fee, Rs 4.50 gateway fee;")
    with notify_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM notifications")).scalars().all() == ["routed"]


def test_a_second_dispatch_sends_nothing_again(notify_engine, channels, options, add_user, mailbox):
    write_statements(notify_engine, [add_user(), add_user()])
    assert dispatch(notify_engine, channels, options).as_dict() == {"routed": 2, "sent": 4, "suppressed": 0}

    assert dispatch(notify_engine, channels, options).as_dict() == {"routed": 0, "suppressed": 0}
    assert len(mailbox.messages) == 2


def set_preference(engine: sa.Engine, user_id: str, category: str, channel: str, enabled: bool) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO notification_preferences (user_id, category, channel, enabled) VALUES (:u, :c, :ch, :e)"
            ),
            {"u": user_id, "c": category, "ch": channel, "e": enabled},
        )


def test_a_switched_off_channel_is_recorded_as_suppressed(notify_engine, channels, options, add_user, mailbox):
    seller = add_user()
    set_preference(notify_engine, seller, "statements", "email", False)
    write_statements(notify_engine, [seller])

    assert dispatch(notify_engine, channels, options).as_dict() == {"routed": 1, "sent": 1, "suppressed": 1}

    assert mailbox.messages == []
    assert [(d["channel"], d["status"], d["attempts"], d["critical"]) for d in deliveries(notify_engine)] == [
        ("email", "suppressed", 0, False),
        ("in_app", "sent", 1, False),
    ]


def test_a_negative_balance_statement_cannot_be_switched_off(notify_engine, channels, options, add_user, mailbox):
    seller = add_user()
    set_preference(notify_engine, seller, "statements", "email", False)
    set_preference(notify_engine, seller, "statements", "in_app", False)
    write_statements(notify_engine, [seller], balance_paise=-12_345, clawback_paise=38_895)

    assert dispatch(notify_engine, channels, options).as_dict() == {"routed": 1, "sent": 2, "suppressed": 0}

    [message] = mailbox.messages
    assert "Balance after the day   -Rs 123.45" in message.get_body(("plain",)).get_content()
    assert [(d["status"], d["critical"]) for d in deliveries(notify_engine)] == [("sent", True), ("sent", True)]


def unreachable(options_port: int | None = None) -> SmtpChannel:
    return SmtpChannel("127.0.0.1", options_port or free_port(), "Settlements <s@marketplace.example>", timeout_s=1)


def test_a_failed_send_backs_off_then_is_undelivered_and_finance_is_alerted(
    notify_engine, channels, options, add_user, mailbox
):
    seller = add_user()
    write_statements(notify_engine, [seller])
    down = {**channels, "email": unreachable()}
    # Backoff of 0.2-0.4 s: long enough that one dispatch does not retry its own failure.
    retrying = dataclasses.replace(options, max_attempts=3, backoff_base_s=0.4, backoff_max_s=0.4)

    first = dispatch(notify_engine, down, retrying)
    assert first.as_dict() == {"routed": 1, "failed": 1, "sent": 1, "suppressed": 0}
    email = deliveries(notify_engine)[0]
    assert (email["status"], email["attempts"]) == ("failed", 1)
    assert email["last_error"].startswith("SMTP connection to 127.0.0.1:")
    assert email["next_attempt_at"] > email["last_attempt_at"]

    for attempt in (2, 3):
        time.sleep(0.45)
        dispatch(notify_engine, down, retrying)
        assert deliveries(notify_engine)[0]["attempts"] == attempt
    assert deliveries(notify_engine)[0]["status"] == "undelivered"

    time.sleep(0.45)
    summary = dispatch(notify_engine, channels, retrying)
    assert summary.as_dict() == {"routed": 0, "sent": 1, "suppressed": 0}
    [alert] = mailbox.messages
    assert alert["To"] == "finance-alerts@marketplace.example"
    assert alert["X-Notification-Event"] == "notification_undelivered"
    with notify_engine.connect() as conn:
        payload = conn.execute(
            sa.text("SELECT payload FROM notifications WHERE event_type = 'notification_undelivered'")
        ).scalar_one()
    assert payload == {
        "delivery_id": email["delivery_id"],
        "notification_id": email["notification_id"],
        "event_type": "settlement_statement",
        "recipient": seller,
        "channel": "email",
        "attempts": 3,
        "last_error": payload["last_error"],
    }
    assert payload["last_error"].startswith("SMTP connection to 127.0.0.1:")


def test_an_address_the_server_refuses_is_undelivered_at_once(notify_engine, channels, options, add_user, smtp_server):
    class Refusing:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 no such mailbox"

    controller = Controller(Refusing(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        write_statements(notify_engine, [add_user()])
        refusing = {**channels, "email": SmtpChannel("127.0.0.1", controller.port, "S <s@marketplace.example>")}
        summary = dispatch(notify_engine, refusing, options)
    finally:
        controller.stop()
    # The statement's email is refused, and so is finance's alert about it (the same server refuses
    # everyone); an undelivered alert raises no alert of its own.
    assert summary.as_dict() == {"routed": 2, "sent": 1, "suppressed": 0, "undelivered": 2}
    email, in_app, alert = deliveries(notify_engine)
    assert (email["status"], email["attempts"], email["last_error"]) == ("undelivered", 1, "recipient refused (550)")
    assert (in_app["status"], alert["event_type"], alert["status"]) == (
        "sent",
        "notification_undelivered",
        "undelivered",
    )


def test_a_lost_lease_cannot_overwrite_the_new_claimers_outcome(notify_engine, options, add_user):
    from domain.notifications.dispatch import DispatchSummary, route_pending

    write_statements(notify_engine, [add_user()])
    short = dataclasses.replace(options, lease_s=0.2)
    route_pending(notify_engine, short, DispatchSummary())
    first = claim(notify_engine, short, "00000000-0000-0000-0000-00000000000a")
    assert len(first) == 2
    assert claim(notify_engine, short, "00000000-0000-0000-0000-00000000000b") == []
    time.sleep(0.3)
    second = claim(notify_engine, short, "00000000-0000-0000-0000-00000000000b")
    assert [c.attempts for c in second] == [2, 2]

    def sent(batch):
        return [{"delivery_id": c.delivery_id, "status": "sent", "next_attempt_at": None, "error": None,
                 "template": "t", "subject": "s", "body": None, "message_id": "m"} for c in batch]  # fmt: skip

    assert record(notify_engine, "00000000-0000-0000-0000-00000000000a", sent(first)) == []
    assert [row["status"] for row in record(notify_engine, "00000000-0000-0000-0000-00000000000b", sent(second))] == [
        "sent",
        "sent",
    ]


def dispatcher_env(settings, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SMTP_HOST": settings.smtp_host,
        "SMTP_PORT": str(settings.smtp_port),
        "ENVIRONMENT": "test",
        "LOG_FORMAT": "console",
        "NOTIFICATION_BATCH_SIZE": "25",
    }
    env.update(extra)
    return env


def settle(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli", *args]


def test_two_dispatchers_at_once_send_each_message_once(notify_engine, notify_settings, add_user, mailbox):
    sellers = [add_user(email=f"seller{i}@example.in") for i in range(300)]
    write_statements(notify_engine, sellers)

    env = dispatcher_env(notify_settings)
    processes = [
        subprocess.Popen(settle("notifications", "dispatch"), env=env, stdout=subprocess.PIPE) for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120)[0].decode() for process in processes]

    assert all(process.returncode == 0 for process in processes), outputs
    ids = Counter(message["Message-ID"] for message in mailbox.messages)
    assert len(ids) == 300 and set(ids.values()) == {1}
    assert {message["To"] for message in mailbox.messages} == {f"seller{i}@example.in" for i in range(300)}
    rows = deliveries(notify_engine)
    assert Counter((d["channel"], d["status"], d["attempts"]) for d in rows) == Counter(
        {("email", "sent", 1): 300, ("in_app", "sent", 1): 300}
    )


@pytest.mark.parametrize(
    ("point", "messages_before_kill"),
    [("claimed", 0), ("channel_answered", 1)],
)
def test_a_dispatcher_killed_mid_send_leaves_the_delivery_to_be_claimed_after_its_lease(
    notify_engine, notify_settings, channels, options, add_user, mailbox, tmp_path, point, messages_before_kill
):
    seller = add_user(email="asha@example.in")
    write_statements(notify_engine, [seller])
    marker = tmp_path / "paused"
    env = dispatcher_env(
        notify_settings,
        NOTIFICATION_LEASE_S="6",
        NOTIFICATION_CONCURRENCY="1",  # one worker: the delivery it pauses on is the one in flight
        SETTLE_NOTIFICATIONS_PAUSE_AT=point,
        SETTLE_NOTIFICATIONS_PAUSE_FILE=str(marker),
    )
    process = subprocess.Popen(settle("notifications", "dispatch"), env=env, stderr=subprocess.PIPE)
    delivery_id = int(wait_for_pause(marker, process))
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    assert len(mailbox.messages) == messages_before_kill
    [email] = [d for d in deliveries(notify_engine) if d["delivery_id"] == delivery_id]
    assert (email["channel"], email["status"], email["attempts"]) == ("email", "sending", 1)

    assert dispatch(notify_engine, channels, options).as_dict() == {"routed": 0, "suppressed": 0}
    assert len(mailbox.messages) == messages_before_kill, "the lease still holds: nobody may send"

    deadline = email["lease_expires_at"] + dt.timedelta(milliseconds=50)
    time.sleep(max(0.0, (deadline - dt.datetime.now(dt.UTC)).total_seconds()))
    # The killed round had claimed both deliveries of the statement: both are sent now.
    assert dispatch(notify_engine, channels, options).as_dict() == {"routed": 0, "sent": 2, "suppressed": 0}

    assert len(mailbox.messages) == messages_before_kill + 1
    assert {message["Message-ID"] for message in mailbox.messages} == {
        f"<delivery-{delivery_id}.email@marketplace.example>"
    }
    [email] = [d for d in deliveries(notify_engine) if d["delivery_id"] == delivery_id]
    assert (email["status"], email["attempts"]) == ("sent", 2)


def test_a_critical_event_is_sent_whatever_the_preferences(notify_engine, channels, options, add_user, mailbox):
    seller = add_user(email="asha@example.in")
    for channel in ("email", "in_app"):
        set_preference(notify_engine, seller, "payouts", channel, False)
    change = events.PayoutChange(
        payout_id="pay_1", payee_type="seller", payee_id=seller, amount_paise=13_775_38, status="failed",
        failure_reason="beneficiary bank refused the transfer",
    )  # fmt: skip
    completed = events.PayoutChange(**{**change, "payout_id": "pay_2", "status": "completed", "failure_reason": None})
    with notify_engine.begin() as conn:
        outbox.write(conn, [*events.payout_changed(change), *events.payout_changed(completed)])

    assert dispatch(notify_engine, channels, options).as_dict() == {"routed": 3, "sent": 3, "suppressed": 2}

    rows = [(d["event_type"], d["recipient"], d["channel"], d["status"]) for d in deliveries(notify_engine)]
    assert sorted(rows) == sorted(
        [
            ("payout_failed", seller, "email", "sent"),
            ("payout_failed", seller, "in_app", "sent"),
            ("payout_failed", "finance", "email", "sent"),
            ("payout_completed", seller, "email", "suppressed"),
            ("payout_completed", seller, "in_app", "suppressed"),
        ]
    )
    recipients = sorted(message["To"] for message in mailbox.messages)
    assert recipients == ["asha@example.in", "finance-alerts@marketplace.example"]
    assert all("Rs 13,775.38" in message.get_body(("plain",)).get_content() for message in mailbox.messages)
