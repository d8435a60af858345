"""User fixes through the API against the real nightly run and the sandbox: a payout destination added or
changed, suspension and reactivation, and the payees finance sees held back, with every reason.

Defaults: platform fee 10%, gateway fee 1.5%, bounty Rs 10, minimum payout Rs 100. An order of Rs 1,000
nets its seller 100_000 - 10_000 - 1_500 = 88_500 paise.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from domain.payouts import store as payout_store
from domain.payouts.submission import create_batch
from domain.users.api_keys import create_key
from tests.scenarios import refunds
from tests.scenarios.books import Books, assert_books_sound, ist
from tests.scenarios.payouts import api, payee, payouts, settle_status, submit, witness

D = dt.date(2026, 11, 10)


def _register(books: Books, **body: Any) -> dict[str, Any]:
    client, admin = api(books)
    body = {"name": "Asha Stores", "email": "asha@example.in", **body}
    response = client.post("/v1/users", json=body, headers={**admin, "Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _patch(books: Books, path: str, body: dict[str, Any]) -> dict[str, Any]:
    client, admin = api(books)
    response = client.patch(path, json=body, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _held_back(books: Books, **params: Any) -> list[dict[str, Any]]:
    """Every page of GET /v1/admin/payees/held-back."""
    client, admin = api(books)
    items: list[dict[str, Any]] = []
    while True:
        page = client.get("/v1/admin/payees/held-back", params=params, headers=admin)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        if page.json()["next_cursor"] is None:
            return items
        params = {**params, "cursor": page.json()["next_cursor"]}


def _batch_held_back(night: Any) -> list[dict[str, Any]]:
    [batch] = night.asset_materializations_for_node("payout_batch")
    return batch.metadata["held_back_payees"].value  # type: ignore[no-any-return]


def _vpa_sent(books: Books, payout_id: str) -> str:
    [sent] = witness(books)[payout_id]
    return str(sent["fund_account"]["vpa"]["address"])


def test_a_seller_registered_without_destination_is_paid_by_the_next_batch_once_it_adds_one(books: Books) -> None:
    seller = _register(books, role="seller")["user_id"]  # no payout destination
    books.paid_order(books.user("buyer"), seller, 100_000, ist(D, 9), delivered_at=ist(D, 10))

    night = books.settle(D)
    assert night.success and payouts(books) == []
    assert _batch_held_back(night) == [
        {"payee_type": "seller", "payee_id": seller, "available_paise": 88_500, "reason": "no_payout_destination"}
    ]
    assert _held_back(books) == [
        {"payee_type": "seller", "payee_id": seller, "name": "Asha Stores", "available_paise": 88_500,
         "requested_paise": 0, "reasons": ["no_payout_destination"], "hold_reason": None, "due": True}
    ]  # fmt: skip

    _patch(books, f"/v1/users/{seller}", {"payout_destination": {"vpa": "asha.stores@okaxis"}})
    assert books.settle(D + dt.timedelta(days=1)).success  # nothing new that day: the next batch pays D's 88_500
    [payout] = payouts(books)
    assert (payout.payee_id, payout.amount_paise, payout.batch_date, payout.destination) == (
        seller, 88_500, D + dt.timedelta(days=1), {"type": "vpa", "vpa": "asha.stores@okaxis"}
    )  # fmt: skip
    assert _vpa_sent(books, payout.payout_id) == "asha.stores@okaxis"
    assert _held_back(books) == []
    settle_status(books)
    assert books.balances()[f"seller_payable:{seller}"] == 0
    assert_books_sound(books)


def test_a_payout_keeps_the_destination_it_was_created_with(books: Books) -> None:
    """Each payout snapshots the destination when the batch creates it: a change applies to payouts
    created after it, never to one already made, even one not yet sent."""
    seller = _register(books, role="seller")["user_id"]
    buyer = books.user("buyer")
    books.paid_order(buyer, seller, 100_000, ist(D, 9), delivered_at=ist(D, 10))
    assert books.settle(D).success  # held back: no destination yet

    _patch(books, f"/v1/users/{seller}", {"payout_destination": {"vpa": "old.shop@okaxis"}})
    with books.engine.begin() as conn:  # the batch runs, the submission has not yet
        create_batch(conn, D, settled_funds_only=False)
    [first] = payouts(books)
    assert (first.status, first.destination) == ("pending", {"type": "vpa", "vpa": "old.shop@okaxis"})

    _patch(books, f"/v1/users/{seller}", {"payout_destination": {"vpa": "new.shop@okaxis"}})
    submit(books)
    assert _vpa_sent(books, first.payout_id) == "old.shop@okaxis"

    next_day = D + dt.timedelta(days=1)
    books.paid_order(buyer, seller, 50_000, ist(next_day, 9), delivered_at=ist(next_day, 10))  # net 44_250
    assert books.settle(next_day).success
    first_again, second = payouts(books)
    assert first_again.destination == {"type": "vpa", "vpa": "old.shop@okaxis"}
    assert (second.amount_paise, second.destination) == (44_250, {"type": "vpa", "vpa": "new.shop@okaxis"})
    assert _vpa_sent(books, second.payout_id) == "new.shop@okaxis"
    audits = books.rows("SELECT actor, before, after FROM audit_log WHERE action = 'user.profile_update' "
                        "ORDER BY audit_id")  # fmt: skip
    old, new = ({"payout_destination": {"type": "vpa", "vpa": vpa}} for vpa in ("ol******@okaxis", "ne******@okaxis"))
    assert [(a.actor, a.before, a.after) for a in audits] == [
        ("payout-tests", {"payout_destination": None}, old),
        ("payout-tests", old, new),
    ]
    settle_status(books)
    assert_books_sound(books)


def test_a_suspended_payee_is_paid_nothing_until_reactivated(books: Books) -> None:
    seller = payee(books, "seller")
    books.paid_order(books.user("buyer"), seller, 100_000, ist(D, 9), delivered_at=ist(D, 10))
    _patch(books, f"/v1/admin/users/{seller}", {"status": "suspended", "reason": "KYC documents expired"})

    night = books.settle(D)
    assert night.success and payouts(books) == []
    assert _batch_held_back(night) == [
        {"payee_type": "seller", "payee_id": seller, "available_paise": 88_500, "reason": "payee_suspended"}
    ]
    assert [(p["payee_id"], p["reasons"]) for p in _held_back(books)] == [(seller, ["payee_suspended"])]

    _patch(books, f"/v1/admin/users/{seller}", {"status": "active"})
    with books.engine.begin() as conn:
        create_batch(conn, D + dt.timedelta(days=1), settled_funds_only=False)
    [payout] = payouts(books)
    assert (payout.amount_paise, payout.status) == (88_500, "pending")
    _patch(books, f"/v1/admin/users/{seller}", {"status": "suspended", "reason": "chargeback dispute"})
    submit(books)  # a suspended payee's pending payout waits
    assert (payouts(books)[0].status, witness(books)) == ("pending", {})

    _patch(books, f"/v1/admin/users/{seller}", {"status": "active"})
    submit(books)
    settle_status(books)
    assert [(p.payout_id, p.status) for p in payouts(books)] == [(payout.payout_id, "completed")]
    assert books.balances()[f"seller_payable:{seller}"] == 0
    statuses = books.rows("SELECT after FROM audit_log WHERE action = 'user.status_set' ORDER BY audit_id")
    assert [row.after["status"] for row in statuses] == ["suspended", "active", "suspended", "active"]
    assert_books_sound(books)


def test_held_back_payees_are_listed_with_every_reason_and_their_balance(books: Books) -> None:
    scout, idle_scout = payee(books, "scout"), books.user("scout")  # the idle scout has no destination
    busy = payee(books, "seller")
    recruits = [books.user("buyer", recruiter=scout) for _ in range(10)] + [books.user("buyer", recruiter=idle_scout)]
    orders = [books.paid_order(b, busy, 2_000, ist(D, 9), delivered_at=ist(D, 10)) for b in recruits]
    # busy: 11 x (2_000 - 200 - 30) = 19_470, paid tonight. Each recruit's first order earns a Rs 10 bounty.
    held, small, late = payee(books, "seller"), payee(books, "seller"), payee(books, "seller")
    suspended = books.user("seller")  # and without a destination
    buyer = books.user("buyer")
    books.paid_order(buyer, held, 50_000, ist(D, 9), delivered_at=ist(D, 10))  # net 44_250
    books.paid_order(buyer, suspended, 50_000, ist(D, 9), delivered_at=ist(D, 10))  # net 44_250
    books.paid_order(buyer, small, 11_000, ist(D, 9), delivered_at=ist(D, 10))  # net 11_000 - 1_100 - 165 = 9_735
    late_order = books.paid_order(buyer, late, 100_000, ist(D, 9), delivered_at=ist(D, 10))  # net 88_500
    books.sandbox.configure(report_anomalies={"late": [late_order]})  # the gateway has not paid it yet
    with books.engine.begin() as conn:
        payout_store.hold_payee(conn, held, "kyc review", "finance@test")
    _patch(books, f"/v1/admin/users/{suspended}", {"status": "suspended", "reason": "fraud review"})

    night = books.settle(D)
    assert night.success
    assert [(p.payee_id, p.amount_paise) for p in payouts(books)] == [(busy, 19_470)]
    # What the batch would have paid but for a reason: not the small seller, nor the scouts (no request yet).
    assert _batch_held_back(night) == sorted(
        [{"payee_type": "seller", "payee_id": held, "available_paise": 44_250, "reason": "on_hold"},
         {"payee_type": "seller", "payee_id": suspended, "available_paise": 44_250, "reason": "payee_suspended"},
         {"payee_type": "seller", "payee_id": late, "available_paise": 88_500,
          "reason": "awaiting_gateway_settlement"}],
        key=lambda row: row["payee_id"],
    )  # fmt: skip

    settle_status(books)
    next_day = D + dt.timedelta(days=1)
    refund = refunds.request(books, orders[0], 2_000, ist(next_day, 8))  # after busy's payout: a clawback
    refunds.approve(books, refund.refund_id, ist(next_day, 8))
    refunds.refund_now(books, ist(next_day, 8))
    client, admin = api(books)
    withdrawal = client.post(f"/v1/scouts/{scout}/payout-requests", json={"amount_paise": 10_000},
                             headers={**admin, "Idempotency-Key": "scout-withdrawal-1"})  # fmt: skip
    assert withdrawal.status_code == 201, withdrawal.text
    _patch(books, f"/v1/admin/users/{scout}", {"status": "suspended", "reason": "duplicate account"})

    def row(payee_id: str, payee_type: str, available: int, reasons: list[str], due: bool, **extra: Any) -> Any:
        return {"payee_type": payee_type, "payee_id": payee_id, "available_paise": available, "reasons": reasons,
                "due": due, "requested_paise": 0, "hold_reason": None, **extra}  # fmt: skip

    expected = sorted(
        [
            row(held, "seller", 44_250, ["on_hold"], True, hold_reason="kyc review"),
            row(suspended, "seller", 44_250, ["payee_suspended", "no_payout_destination"], True),
            row(small, "seller", 9_735, ["below_minimum"], False),
            row(late, "seller", 88_500, ["awaiting_gateway_settlement"], True),
            row(busy, "seller", -1_800, ["negative_balance"], False),  # gave back 2_000 - 200 platform fee
            row(scout, "scout", 10_000, ["payee_suspended"], True, requested_paise=10_000),
            row(idle_scout, "scout", 1_000, ["no_payout_destination"], False),
        ],
        key=lambda item: item["payee_id"],
    )
    listed = _held_back(books, limit=3)  # three pages
    assert [{k: v for k, v in item.items() if k != "name"} for item in listed] == expected
    assert [item["payee_id"] for item in _held_back(books, reason="below_minimum")] == [small]
    assert [item["payee_id"] for item in _held_back(books, payee_type="scout")] == sorted([scout, idle_scout])
    assert _held_back(books, reason="insufficient_balance") == []

    with books.engine.begin() as conn:
        client_key = create_key(conn, "held-back-client", "client")
    forbidden = client.get("/v1/admin/payees/held-back", headers={"Authorization": f"Bearer {client_key}"})
    assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "forbidden")
    bad = client.get("/v1/admin/payees/held-back", params={"cursor": "not a cursor"}, headers=admin)
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_cursor")
    assert_books_sound(books)
