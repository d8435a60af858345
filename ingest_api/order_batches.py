"""Group commit for `POST /v1/orders`: the orders that arrive while a worker's inserts run share one.

Each worker runs at most `concurrency` order inserts at a time. A request that finds one free
starts it without waiting, together with the requests read in the same turn of the event loop;
requests that arrive while all are busy wait in a queue, and the next insert to finish takes the
whole queue (up to `max_batch`) in one `create_orders()` call (migration 0006). Under load one round trip, one
worker thread and one commit then serve many orders instead of one each. A request still gets its
answer only after its own order has committed, and every order keeps its own outcome: an order
that breaks a constraint fails alone, as the batch is then retried one order at a time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import weakref
from dataclasses import dataclass, field
from typing import Any

import psycopg2
import sqlalchemy as sa

from ingest_api.metrics import ORDERS_PER_INSERT

# create_orders() parameters, one array each, in its argument order.
_COLUMN_TYPES = {
    "order_id": "text",
    "buyer_id": "text",
    "seller_id": "text",
    "listing_id": "text",
    "title": "text",
    "amount_paise": "bigint",
    "created_at": "timestamptz",
    "api_key_id": "bigint",
    "idempotency_key": "text",
    "request_hash": "text",
}
_CREATE = "SELECT create_orders({})".format(
    ", ".join(f"%({name})s::{type_}[]" for name, type_ in _COLUMN_TYPES.items())
)

Order = dict[str, Any]
Outcome = bool | BaseException


@dataclass(slots=True)
class _Queue:
    """One event loop's waiting orders (futures belong to the loop that made them) and its inserts in
    flight. It holds no reference to its loop, which keys it weakly."""

    waiting: list[tuple[Order, asyncio.Future[bool]]] = field(default_factory=list)
    running: int = 0


class OrderBatches:
    """No task per insert: an insert runs in a thread of its own pool, and its completion callback
    answers the batch's requests on the event loop and starts the next insert. A request that goes
    away cancels only its own answer; the order stands, and a retry replays it."""

    def __init__(self, engine: sa.Engine, concurrency: int, max_batch: int = 100) -> None:
        self._engine = engine
        self.concurrency = concurrency
        self.max_batch = max_batch
        self._threads = concurrent.futures.ThreadPoolExecutor(concurrency, thread_name_prefix="order-insert")
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = weakref.WeakKeyDictionary()

    async def create(self, order: Order) -> bool:
        """True once the order has been inserted; False if it was not, because an order under its
        (API key, Idempotency-Key) exists or a party is not active in its role."""
        loop = asyncio.get_running_loop()
        queue = self._per_loop.get(loop)
        if queue is None:
            queue = self._per_loop[loop] = _Queue()
        created: asyncio.Future[bool] = loop.create_future()
        queue.waiting.append((order, created))
        if queue.running < self.concurrency:
            queue.running += 1
            # Started on the loop's next turn, so the requests read in this turn go in with this one.
            loop.call_soon(self._insert_waiting, queue)
        return await created

    def _insert_waiting(self, queue: _Queue) -> None:
        """Start one insert of the waiting orders, or free the insert slot if none wait. Runs on the
        queue's event loop, as a callback."""
        if not queue.waiting:
            queue.running -= 1
            return
        batch = queue.waiting[: self.max_batch]
        del queue.waiting[: self.max_batch]
        inserting = asyncio.get_running_loop().run_in_executor(
            self._threads, self.insert, [order for order, _ in batch]
        )
        inserting.add_done_callback(functools.partial(self._answer, queue, batch))

    def _answer(
        self, queue: _Queue, batch: list[tuple[Order, asyncio.Future[bool]]], inserting: asyncio.Future[list[Outcome]]
    ) -> None:
        try:
            outcomes = inserting.result()
        except BaseException as exc:  # insert() answers each order itself; this is not an order's outcome
            outcomes = [exc] * len(batch)
        for (_, created), outcome in zip(batch, outcomes, strict=True):
            if created.done():
                continue
            if isinstance(outcome, BaseException):
                created.set_exception(outcome)
            else:
                created.set_result(outcome)
        self._insert_waiting(queue)

    def insert(self, orders: list[Order]) -> list[Outcome]:
        """Per order, in the order given: inserted, not inserted, or the error that refused it.

        A constraint an order breaks fails that order alone: the batch is retried one order at a
        time. Anything else (no pooled connection in time, a lost connection, a deadlock) fails the
        whole batch, whose requests answer 503 and whose retries then replay or insert.
        """
        try:
            created = self._call(orders)
        except psycopg2.Error as exc:
            if len(orders) == 1 or isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError):
                return [exc] * len(orders)
            return [outcome for order in orders for outcome in self.insert([order])]
        except Exception as exc:  # handed to each request, whose error handlers answer it
            return [exc] * len(orders)
        return [order["order_id"] in created for order in orders]

    def _call(self, orders: list[Order]) -> set[str]:
        ORDERS_PER_INSERT.observe(len(orders))
        # Sorted by (API key, Idempotency-Key), so two batches that claim the same pairs take their
        # index locks in the same order and one waits for the other instead of deadlocking.
        ordered = sorted(orders, key=lambda order: (order["api_key_id"], order["idempotency_key"]))
        arrays = {name: [order[name] for order in ordered] for name in _COLUMN_TYPES}
        raw = self._engine.raw_connection()
        try:
            with contextlib.closing(raw.cursor()) as cursor:
                cursor.execute(_CREATE, arrays)
                created = {order_id for (order_id,) in cursor.fetchall()}
            raw.commit()  # nothing to do on the API's autocommit pool; any other engine commits here
            return created
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            raw.invalidate()  # a lost connection must not go back to the pool
            raise
        finally:
            raw.close()
