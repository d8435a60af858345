"""Notification dispatch throughput to a local SMTP sink, with its baseline in the same run.

Baseline: bare `smtplib` over the dispatcher's connection pattern: one connection (EHLO, the
messages, QUIT) per round's email share, sending messages built beforehand, the same as ours sends
(the same templates rendered for the same statements, MIME built by the same function). Ours:
`dispatch` end to end over the same number of settlement statements, each to a seller by email and in
the app: the outbox rows routed into deliveries, then per round of NOTIFICATION_BATCH_SIZE deliveries
a lease-claimed batch, the templates rendered, the email share sent over one SMTP connection, the
in-app share stored, and the outcomes recorded in one statement. Messages/s counts email messages on
both sides; ours did the in-app deliveries in the same time. Target: ours within 1.5x of the baseline.

The sink runs in a process of its own (it would otherwise share this one's GIL with the code
measured) and only counts: messages, and connections by their EHLOs. It is aiosmtpd as
`gateways.smtp.sink` runs it, but not its handler, which parses and keeps every message: that would
add the same milliseconds to every round trip of both sides and hide the difference measured.

Each pass, a fresh day of statements: the baseline, then ours; the figures are the best pass of each
side (a neighbour stealing CPU slows a pass, never speeds one up). The breakdown of ours times its
functions by wrapping them here, a few microseconds per call.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import smtplib
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.mime.base import MIMEBase
from typing import Any

import sqlalchemy as sa

from bench.common import report, scratch_database
from domain.notifications import dispatch as dispatcher
from domain.notifications import templates
from domain.notifications.channels import Channel, InAppChannel, Message
from domain.notifications.dispatch import DispatchOptions, DispatchSummary, dispatch
from domain.outbox import outbox
from domain.platform.database import create_engine
from gateways.smtp import client as smtp_client
from gateways.smtp.client import SmtpChannel, email_message
from gateways.smtp.sink import free_port

SELLERS = int(os.environ.get("BENCH_NOTIFICATIONS", "2000"))
PASSES = int(os.environ.get("BENCH_NOTIFICATIONS_PASSES", "3"))
FIRST_DAY = dt.date(2026, 12, 1)
WARM_UP = 20

SELLERS_SQL = """
INSERT INTO users (user_id, role, name, email)
SELECT 'usr_bench_seller_' || lpad(n::text, 6, '0'), 'seller', 'Seller ' || n,
       'seller' || n || '@example.in'
FROM generate_series(1, :count) n
"""

# Statements in the catalogue's shape (outbox.flush checks every row): every third seller paid out,
# every seventh left with a negative balance (always sent, whatever the preferences).
STATEMENTS_SQL = """
INSERT INTO pending_outbox (dedupe_key, event_type, audience, user_id, payload)
SELECT 'settlement_statement:' || :day || ':' || s.user_id, 'settlement_statement', 'user', s.user_id,
       jsonb_build_object('settlement_date', CAST(:day AS date), 'statement_id', :day || ':' || s.user_id,
                          'orders', s.n % 40 + 1, 'gross_paise', (s.n % 40 + 1) * 124900,
                          'platform_fee_paise', (s.n % 40 + 1) * 12490, 'gateway_fee_paise', (s.n % 40 + 1) * 2498,
                          'net_paise', (s.n % 40 + 1) * 109912, 'refunds', s.n % 3,
                          'refund_paise', (s.n % 3) * 124900, 'clawback_paise', (s.n % 3) * 109912,
                          'payout_id', CASE WHEN s.n % 3 = 0 THEN 'pay_bench_' || :day || '_' || s.n END,
                          'payout_paise', CASE WHEN s.n % 3 = 0 THEN (s.n % 40 + 1) * 109912 ELSE 0 END,
                          'balance_paise', CASE WHEN s.n % 7 = 0 THEN -(s.n % 3 + 1) * 109912
                                                WHEN s.n % 3 = 0 THEN 0 ELSE (s.n % 40 + 1) * 109912 END)
FROM (SELECT 'usr_bench_seller_' || lpad(n::text, 6, '0') AS user_id, n FROM generate_series(1, :count) n) s
"""

PENDING_SQL = """
SELECT n.notification_id, n.event_type, n.payload, n.created_at, u.name, u.email
FROM notifications n JOIN users u ON u.user_id = n.user_id
WHERE n.status = 'pending' ORDER BY n.notification_id
"""

SINK = """
import sys
from aiosmtpd.controller import Controller

class Counting:
    messages = connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        Counting.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        Counting.messages += 1
        return "250 Message accepted for delivery"

controller = Controller(Counting(), hostname="127.0.0.1", port=int(sys.argv[1]), server_hostname="localhost")
controller.start()
print("ready", flush=True)
for line in sys.stdin:
    print(Counting.messages, Counting.connections, flush=True)
controller.stop()
"""


class Sink:
    """The counting SMTP sink in its own process; `counts()` is (messages, connections) so far."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process, self.port = process, port

    def counts(self) -> tuple[int, int]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        messages, connections = self.process.stdout.readline().split()
        return int(messages), int(connections)


@contextlib.contextmanager
def sink_process() -> Iterator[Sink]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-c", SINK, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield Sink(process, port)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=15)


@dataclass
class Phases:
    """Seconds and calls per wrapped function of one dispatch."""

    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Counter[str] = field(default_factory=Counter)

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
                self.calls[name] += 1

        return timed


@contextlib.contextmanager
def phases_of_dispatch() -> Iterator[Phases]:
    """Time the dispatcher's steps by wrapping the functions it calls (restored afterwards)."""
    phases = Phases()
    targets: list[tuple[Any, str, str]] = [
        (dispatcher, "route_pending", "route"),
        (dispatcher, "claim", "claim"),
        (dispatcher, "send_round", "send_round"),
        (dispatcher, "record", "record"),
        (templates, "render", "render"),
        (smtp_client, "email_message", "mime"),
        (smtp_client._Session, "send", "smtp_send"),
    ]
    originals = [(owner, attribute, getattr(owner, attribute)) for owner, attribute, _ in targets]
    for owner, attribute, name in targets:
        setattr(owner, attribute, phases.wrap(name, getattr(owner, attribute)))
    try:
        yield phases
    finally:
        for owner, attribute, original in originals:
            setattr(owner, attribute, original)


def seed_statements(engine: sa.Engine, day: dt.date) -> None:
    with engine.begin() as conn:
        outbox.prepare(conn)
        conn.execute(sa.text(STATEMENTS_SQL), {"day": day.isoformat(), "count": SELLERS})
        assert outbox.flush(conn) == SELLERS


def bare_messages(engine: sa.Engine, options: DispatchOptions, sender: str) -> list[MIMEBase]:
    """The pending statements as ours will send them: rendered by the same templates, MIME built by
    the same function, under ids of their own."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(PENDING_SQL)).mappings().all()
    built = []
    for row in rows:
        context = {
            **row["payload"],
            "event_type": row["event_type"],
            "audience": "user",
            "recipient_role": "seller",
            "recipient_name": row["name"],
            "created_at": row["created_at"],
        }
        rendered = templates.render(row["event_type"], "email", context)
        headers = {"X-Notification-Event": row["event_type"], "X-Notification-Id": str(row["notification_id"])}
        message_id = f"<bare-{row['notification_id']}.email@{options.message_domain}>"
        message = Message(message_id, "email", row["email"], rendered.subject, rendered.text, rendered.html, headers)
        built.append(email_message(message, sender))
    return built


def send_bare(sink: Sink, messages: list[MIMEBase], per_connection: int, concurrency: int = 1) -> float:
    """smtplib as the email channel uses it, nothing else: connect, EHLO, send, QUIT, on as many
    connections at once as the dispatcher has workers, each taking the next connection's share."""
    chunks = iter(range(0, len(messages), per_connection))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                first = next(chunks, None)
            if first is None:
                return
            smtp = smtplib.SMTP("127.0.0.1", sink.port, timeout=10.0)
            smtp.ehlo()
            for message in messages[first : first + per_connection]:
                assert smtp.send_message(message) == {}
            smtp.quit()

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    return time.perf_counter() - started


@dataclass
class Pass:
    bare_s: float
    ours_s: float
    bare_cpu_s: float
    ours_cpu_s: float
    summary: DispatchSummary
    phases: Phases
    connections: int


def one_pass(engine: sa.Engine, sink: Sink, options: DispatchOptions, channel: SmtpChannel, day: dt.date) -> Pass:
    seed_statements(engine, day)
    messages = bare_messages(engine, options, channel.sender)
    assert len(messages) == SELLERS
    # A round claims batch_size deliveries, an email and an in-app one per statement: its email share.
    per_connection = options.batch_size // 2

    gc.collect()
    before = sink.counts()
    cpu = time.process_time()
    bare_s = send_bare(sink, messages, per_connection, options.concurrency)
    bare_cpu_s = time.process_time() - cpu
    after = sink.counts()
    bare_connections = -(-SELLERS // per_connection)
    assert (after[0] - before[0], after[1] - before[1]) == (SELLERS, bare_connections), (before, after)

    del messages  # alive, the baseline's messages would lengthen every collection the dispatch triggers
    gc.collect()
    channels: dict[str, Channel] = {"email": channel, "in_app": InAppChannel()}
    with phases_of_dispatch() as phases:
        started, cpu = time.perf_counter(), time.process_time()
        summary = dispatch(engine, channels, options)
        ours_s, ours_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    done = sink.counts()
    assert summary.routed == SELLERS, summary.as_dict()
    assert dict(summary.outcomes) == {"sent": 2 * SELLERS, "suppressed": 0}, summary.as_dict()
    assert done[0] - after[0] == SELLERS, (after, done)
    # The same connection pattern on both sides, or the comparison is not of like with like.
    assert done[1] - after[1] == bare_connections, (after, done, bare_connections)
    return Pass(bare_s, ours_s, bare_cpu_s, ours_cpu_s, summary, phases, done[1] - after[1])


def print_breakdown(best: Pass, bare_s: float) -> None:
    seconds, calls = best.phases.seconds, best.phases.calls
    rows: list[tuple[str, float, int]] = [
        ("route (outbox -> deliveries)", seconds["route"], calls["route"]),
        ("claim", seconds["claim"], calls["claim"]),
        ("render (email + in_app)", seconds["render"], calls["render"]),
        ("MIME build (email_message)", seconds["mime"], calls["mime"]),
        ("SMTP send_message, MIME build excluded", seconds["smtp_send"] - seconds["mime"], calls["smtp_send"]),
        (
            "send_round, rest (connect, EHLO, QUIT, Message, outcomes)",
            seconds["send_round"] - seconds["render"] - seconds["smtp_send"],
            calls["send_round"],
        ),
        ("record", seconds["record"], calls["record"]),
    ]
    rest = best.ours_s - sum(spent for _, spent, _ in rows)
    if rest >= 0:  # with several workers the phases overlap, and there is no rest to speak of
        rows.append(("dispatch loop, rest", rest, 1))
    print(
        "ours, where the time goes (its best pass; per email: per statement, its in-app twin included; "
        "with several workers the phases add up across them):"
    )
    for name, spent, count in rows:
        print(
            f"  {name:<58} {spent * 1000:8.1f} ms {spent / best.ours_s:6.1%} "
            f"{spent / SELLERS * 1e6:7.0f} us/email  ({count} calls)"
        )
    bare_name = "bare smtplib, all of it (its best pass)"
    print(f"  {bare_name:<58} {bare_s * 1000:8.1f} ms {'':6} {bare_s / SELLERS * 1e6:7.0f} us/email")


def main() -> None:
    with scratch_database("notifications") as (url, settings), sink_process() as sink:
        settings = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": sink.port})
        options = DispatchOptions.from_settings(settings)
        channel = SmtpChannel.from_settings(settings)
        engine = create_engine(url, pool_size=options.concurrency + 2)
        with engine.begin() as conn:
            conn.execute(sa.text(SELLERS_SQL), {"count": SELLERS})
        # Warm up: templates compiled, the sink's loop and this process's smtplib paths exercised.
        seed_statements(engine, FIRST_DAY - dt.timedelta(days=1))
        warm = bare_messages(engine, options, channel.sender)[:WARM_UP]
        send_bare(sink, warm, len(warm))
        dispatch(engine, {"email": channel, "in_app": InAppChannel()}, options)

        passes = [one_pass(engine, sink, options, channel, FIRST_DAY + dt.timedelta(days=n)) for n in range(PASSES)]
        with engine.connect() as conn:
            stored = conn.execute(
                sa.text("SELECT channel, status, count(*) FROM notification_deliveries GROUP BY 1, 2 ORDER BY 1, 2")
            ).all()
            assert outbox.nonconforming(conn) == []
        engine.dispose()
    total = (PASSES + 1) * SELLERS
    assert sorted(stored) == [("email", "sent", total), ("in_app", "sent", total)], stored

    bare_s = min(p.bare_s for p in passes)
    best = min(passes, key=lambda p: p.ours_s)
    in_app = sum(n for (_, name, status), n in best.summary.by_event.items() if name == "in_app" and status == "sent")
    print(
        f"{SELLERS} settlement statements per pass, {PASSES} passes, batch {options.batch_size} deliveries, "
        f"{best.connections} SMTP connections of {options.batch_size // 2} emails per pass, "
        f"{options.concurrency} at once (NOTIFICATION_CONCURRENCY), sink in its own process"
    )
    for n, p in enumerate(passes, 1):
        print(
            f"  pass {n}: bare {SELLERS / p.bare_s:,.0f} msg/s, ours {SELLERS / p.ours_s:,.0f} msg/s; "
            f"CPU of this process per email: bare {p.bare_cpu_s / SELLERS * 1e6:,.0f} us, "
            f"ours {p.ours_cpu_s / SELLERS * 1e6:,.0f} us"
        )
    print(f"baseline (bare smtplib send_message): {SELLERS / bare_s:,.0f} messages/s")
    print(f"ours (dispatch, end to end):          {SELLERS / best.ours_s:,.0f} messages/s (+ {in_app} in-app)")
    print_breakdown(best, bare_s)
    overhead_us = (best.ours_s - bare_s) / SELLERS * 1e6
    print(f"overhead per email: {overhead_us:.0f} us (routed, claimed, rendered, MIME built, recorded; in-app twin)")
    report(f"dispatch {SELLERS} statement emails", best.ours_s / SELLERS * 1e6, bare_s / SELLERS * 1e6, "us/msg")


if __name__ == "__main__":
    main()
