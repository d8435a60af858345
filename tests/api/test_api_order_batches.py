"""Group commit of `POST /v1/orders`: orders that arrive while an insert runs share the next one,
and each keeps its own outcome."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import gc
import time
import uuid
from collections.abc import Callable, Iterator

import psycopg2.errors
import pytest
import sqlalchemy as sa

from domain.platform.database import create_engine
from ingest_api.metrics import ORDERS_PER_INSERT
from ingest_api.order_batches import OrderBatches

API_KEY_ID = 990_001
Order = dict[str, object]


@pytest.fixture
def order(make_user) -> Callable[..., Order]:  # type: ignore[no-untyped-def]
    buyer, seller = make_user("buyer")["user_id"], make_user("seller")["user_id"]

    def make(idempotency_key: str | None = None, **fields: object) -> Order:
        return {
            "order_id": f"ord_{uuid.uuid4().hex}",
            "buyer_id": buyer,
            "seller_id": seller,
            "listing_id": "lst_batch",
            "title": None,
            "amount_paise": 25_000,
            "created_at": dt.datetime.now(dt.UTC),
            "api_key_id": API_KEY_ID,
            "idempotency_key": idempotency_key or uuid.uuid4().hex,
            "request_hash": "h",
            **fields,
        }

    return make


@pytest.fixture
def autocommit_engine(database_url: str) -> Iterator[sa.Engine]:
    """As the API builds its own: raw connections, which the inserts use, are in autocommit too."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def batches(autocommit_engine: sa.Engine) -> OrderBatches:
    return OrderBatches(autocommit_engine, concurrency=1)


@pytest.fixture
def claim(engine: sa.Engine, order) -> Iterator[Callable[[str], sa.Connection]]:  # type: ignore[no-untyped-def]
    """Claim an Idempotency-Key in an open transaction: an insert of it waits until that ends."""
    open_transactions: list[sa.Connection] = []

    def claim_key(key: str) -> sa.Connection:
        conn = engine.connect()
        open_transactions.append(conn)
        conn.execute(
            sa.text(
                "INSERT INTO orders (order_id, buyer_id, seller_id, listing_id, amount_paise, api_key_id, "
                "idempotency_key, request_hash) VALUES (:order_id, :buyer_id, :seller_id, :listing_id, "
                ":amount_paise, :api_key_id, :idempotency_key, :request_hash)"
            ),
            order(key),
        )
        return conn

    yield claim_key
    for conn in open_transactions:
        conn.close()


def _wait_until_an_insert_waits_for_a_lock(engine: sa.Engine) -> None:
    sql = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%create_orders%'"
    for _ in range(400):
        with engine.connect() as conn:
            if conn.execute(sa.text(sql)).scalar_one():
                return
        time.sleep(0.025)
    raise AssertionError("no insert waited for the claimed key")


def _inserts() -> tuple[float, float]:
    """(create_orders() calls, orders in them) so far, from the batch size histogram."""
    samples = {s.name: s.value for s in ORDERS_PER_INSERT.collect()[0].samples}
    return samples["ingest_orders_per_insert_count"], samples["ingest_orders_per_insert_sum"]


def _keys_stored(engine: sa.Engine, orders: list[Order]) -> set[object]:
    with engine.connect() as conn:
        sql = "SELECT idempotency_key FROM orders WHERE idempotency_key = ANY(:keys)"
        return set(conn.execute(sa.text(sql), {"keys": [o["idempotency_key"] for o in orders]}).scalars())


def test_orders_arriving_during_an_insert_share_the_next_one(batches, order, claim, engine) -> None:  # type: ignore[no-untyped-def]
    blocker = claim(key := uuid.uuid4().hex)
    later = [order() for _ in range(5)]
    calls_before, orders_before = _inserts()

    async def scenario() -> list[bool]:
        first = asyncio.ensure_future(batches.create(order(key)))
        await asyncio.to_thread(_wait_until_an_insert_waits_for_a_lock, engine)
        rest = [asyncio.ensure_future(batches.create(o)) for o in later]
        await asyncio.sleep(0.1)
        assert not first.done() and not any(r.done() for r in rest)  # queued behind the one insert allowed
        await asyncio.to_thread(blocker.commit)
        return [await first, *[await r for r in rest]]

    assert asyncio.run(scenario()) == [False, True, True, True, True, True]  # the claimed key had an order
    calls, orders = _inserts()
    assert (calls - calls_before, orders - orders_before) == (2, 6)
    assert _keys_stored(engine, later) == {o["idempotency_key"] for o in later}


def test_an_idle_worker_inserts_at_once_up_to_its_concurrency(autocommit_engine, engine, order, claim) -> None:  # type: ignore[no-untyped-def]
    batches = OrderBatches(autocommit_engine, concurrency=2)
    blocker = claim(key := uuid.uuid4().hex)

    async def scenario() -> bool:
        stuck = asyncio.ensure_future(batches.create(order(key)))
        await asyncio.to_thread(_wait_until_an_insert_waits_for_a_lock, engine)
        assert await asyncio.wait_for(batches.create(order()), timeout=5) is True  # the second slot
        assert not stuck.done()
        await asyncio.to_thread(blocker.commit)
        return await stuck

    assert asyncio.run(scenario()) is False


def test_an_order_breaking_a_constraint_fails_alone(batches, order, engine) -> None:  # type: ignore[no-untyped-def]
    good, bad, also_good = order(), order(amount_paise=0), order()
    outcomes = batches.insert([good, bad, also_good])
    assert outcomes[0] is True and outcomes[2] is True
    assert isinstance(outcomes[1], psycopg2.errors.CheckViolation)
    assert _keys_stored(engine, [good, bad, also_good]) == {good["idempotency_key"], also_good["idempotency_key"]}

    async def through_the_queue() -> None:
        await batches.create(order(amount_paise=0))

    with pytest.raises(psycopg2.errors.CheckViolation):
        asyncio.run(through_the_queue())


def test_a_replay_and_an_invalid_party_are_not_inserted(batches, order, make_user, engine) -> None:  # type: ignore[no-untyped-def]
    first = order()
    inactive_seller = make_user("seller")["user_id"]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET status = 'suspended' WHERE user_id = :u"), {"u": inactive_seller})
    replay = {**first, "order_id": f"ord_{uuid.uuid4().hex}"}
    invalid = order(seller_id=inactive_seller)
    scout_as_buyer = order(buyer_id=make_user("scout")["user_id"])
    assert batches.insert([first, replay, invalid, scout_as_buyer]) == [True, False, False, False]
    with engine.connect() as conn:
        sql = "SELECT order_id FROM orders WHERE api_key_id = :a AND idempotency_key = :k"
        stored = conn.execute(sa.text(sql), {"a": API_KEY_ID, "k": first["idempotency_key"]}).scalar_one()
    assert stored == first["order_id"]


def test_batches_claiming_the_same_keys_in_opposite_orders_do_not_wait_on_each_other(  # type: ignore[no-untyped-def]
    batches, order, claim, engine
) -> None:
    """Inserted sorted by key: a batch waiting on its first key holds none of the later ones."""
    first_key, second_key = sorted(uuid.uuid4().hex for _ in range(2))
    blocker = claim(first_key)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        waiting = pool.submit(batches.insert, [order(second_key), order(first_key)])
        _wait_until_an_insert_waits_for_a_lock(engine)
        other = pool.submit(batches.insert, [order(second_key)])
        assert other.result(timeout=5) == [True]
        assert not waiting.done()
        blocker.commit()
        assert waiting.result(timeout=5) == [False, False]


def test_a_request_that_goes_away_leaves_the_others_and_its_order(batches, order, claim, engine) -> None:  # type: ignore[no-untyped-def]
    blocker = claim(key := uuid.uuid4().hex)
    gone, staying = order(), order()

    async def scenario() -> bool:
        first = asyncio.ensure_future(batches.create(order(key)))
        await asyncio.to_thread(_wait_until_an_insert_waits_for_a_lock, engine)
        going_away = asyncio.ensure_future(batches.create(gone))
        waiting = asyncio.ensure_future(batches.create(staying))
        await asyncio.sleep(0.05)
        going_away.cancel()
        await asyncio.to_thread(blocker.commit)
        assert await first is False
        with pytest.raises(asyncio.CancelledError):
            await going_away
        return await waiting

    assert asyncio.run(scenario()) is True
    assert _keys_stored(engine, [gone, staying]) == {gone["idempotency_key"], staying["idempotency_key"]}


def test_orders_read_in_the_same_turn_of_the_event_loop_go_together(batches, order, engine) -> None:  # type: ignore[no-untyped-def]
    orders = [order() for _ in range(3)]
    calls_before, orders_before = _inserts()

    async def together() -> list[bool]:
        return list(await asyncio.gather(*(batches.create(o) for o in orders)))

    assert asyncio.run(together()) == [True, True, True]
    calls, inserted = _inserts()
    assert (calls - calls_before, inserted - orders_before) == (1, 3)
    assert _keys_stored(engine, orders) == {o["idempotency_key"] for o in orders}


def test_a_finished_event_loop_leaves_no_queue_behind(batches, order) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):  # as successive test clients, each with its own loop, serve one app
        assert asyncio.run(batches.create(order())) is True
    gc.collect()
    assert len(batches._per_loop) == 0
