"""API keys, users and referrals, admin recruiter corrections with audit, and the error catalogue."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from cli.main import main
from domain.users import store as user_store
from domain.users.api_keys import ApiKey, hash_key
from ingest_api.app import create_app
from ingest_api.deps import ConnectionSlots
from ingest_api.errors import ERROR_CODES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def test_error_catalogue_is_documented() -> None:
    documented = {}
    for line in DOCS.read_text().splitlines():
        match = re.match(r"^\| `([a-z_]+)` \| (\d{3}) \|", line)
        if match:
            documented[match.group(1)] = int(match.group(2))
    assert documented == {code: status for code, (status, _) in ERROR_CODES.items()}


def test_missing_unknown_and_revoked_keys_are_401(client, engine, new_key, database_url) -> None:  # type: ignore[no-untyped-def]
    body = {"role": "buyer", "name": "Ravi", "email": "r@example.in"}
    for headers in ({}, {"Authorization": "Bearer sk_nope"}, {"Authorization": "Basic abc"}):
        response = client.post("/v1/users", json=body, headers=headers)
        assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized")
        assert response.headers["WWW-Authenticate"] == "Bearer"
    key = new_key("client")
    with engine.begin() as conn:
        name = conn.execute(sa.text("SELECT name FROM api_keys WHERE key_hash = :h"), {"h": hash_key(key)}).scalar_one()
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["api-key", "revoke", "--name", name],
        env={"DATABASE_URL": str(engine.url.render_as_string(hide_password=False))},
    )
    assert result.exit_code == 0, result.output
    response = client.post("/v1/users", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401  # the test settings cache keys for 5 s, but this key was never looked up


def test_a_key_not_in_the_cache_is_looked_up_once_for_concurrent_requests(asgi_client, settings, new_key) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    cache = app.state.api_key_cache
    looked_up: list[str] = []
    look_up = cache.load

    def slow_look_up(key_hash: str) -> ApiKey | None:
        looked_up.append(key_hash)
        time.sleep(0.1)  # the look-up is still running when the other requests arrive
        return look_up(key_hash)

    cache.load = slow_look_up
    known, unknown = new_key(), "sk_not_a_key"

    async def burst(key: str) -> list[int]:
        async with asgi_client(app) as http:
            headers = {"Authorization": f"Bearer {key}"}
            responses = await asyncio.gather(*(http.get("/v1/orders?limit=1", headers=headers) for _ in range(20)))
        return [response.status_code for response in responses]

    assert asyncio.run(burst(known)) == [200] * 20
    assert asyncio.run(burst(unknown)) == [401] * 20
    assert looked_up == [hash_key(known), hash_key(unknown)]
    assert asyncio.run(burst(known)) == [200] * 20  # now from the cache
    assert len(looked_up) == 2


def test_a_look_up_left_by_a_stopped_event_loop_is_not_awaited(asgi_client, settings, new_key) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    cache = app.state.api_key_cache
    key = new_key()
    stopped = asyncio.new_event_loop()
    cache._loading[hash_key(key)] = stopped.create_future()  # a look-up its loop never finished
    stopped.close()

    async def one_request() -> int:
        async with asgi_client(app) as http:
            response = await http.get("/v1/orders?limit=1", headers={"Authorization": f"Bearer {key}"})
        return response.status_code

    assert asyncio.run(one_request()) == 200
    assert cache._loading == {}


def test_every_route_authenticates_before_it_takes_a_connection(asgi_client, settings) -> None:  # type: ignore[no-untyped-def]
    """With the one connection slot busy, a request without a key is still a 401, not a 503 after
    waiting: an unauthenticated or rate-limited flood never holds transactions."""
    app = create_app(settings)
    app.state.connection_slots = ConnectionSlots(1, timeout_s=0.2)
    routes = [
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/v1/") and "/webhooks/" not in path
        for method in operations
    ]

    async def without_a_key() -> dict[tuple[str, str], int]:
        async with asgi_client(app) as http:
            slot = await app.state.connection_slots.take()
            try:
                return {(m, p): (await http.request(m, p, json={})).status_code for m, p in routes}
            finally:
                slot.release()

    statuses = asyncio.run(without_a_key())
    assert len(statuses) >= 10  # users, orders, payouts, admin
    assert statuses == dict.fromkeys(statuses, 401)


def test_client_key_on_admin_route_is_403(client, client_headers, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("buyer")
    response = client.patch(
        f"/v1/admin/users/{user['user_id']}/recruiter", json={"recruiter_id": None}, headers=client_headers
    )
    assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden")


def test_cli_creates_keys_shown_once_and_stores_only_the_hash(engine, database_url: str) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {"DATABASE_URL": database_url, "LOG_FORMAT": "console"}
    result = runner.invoke(main, ["api-key", "create", "--name", "cli-made", "--role", "admin"], env=env)
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("sk_") and len(key) > 40
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT role, key_hash, key_prefix FROM api_keys WHERE name = 'cli-made'")).one()
        assert (row.role, row.key_hash, row.key_prefix) == ("admin", hash_key(key), key[:10])
        assert conn.execute(sa.text("SELECT count(*) FROM api_keys WHERE key_hash = :k"), {"k": key}).scalar_one() == 0
    again = runner.invoke(main, ["api-key", "create", "--name", "cli-made", "--role", "client"], env=env)
    assert again.exit_code == 1 and "already exists" in again.output
    assert runner.invoke(main, ["api-key", "revoke", "--name", "cli-made"], env=env).exit_code == 0
    assert runner.invoke(main, ["api-key", "revoke", "--name", "cli-made"], env=env).exit_code == 1


def test_register_scout_buyer_by_code_and_seller_by_link(make_user) -> None:  # type: ignore[no-untyped-def]
    scout = make_user("scout", payout_destination={"vpa": "scout.one@okaxis"})
    assert re.match(r"^[A-Z2-9]{10}$", scout["referral_code"])
    assert scout["payout_destination"]["vpa"] == "sc*******@okaxis"
    assert (scout["status"], scout["referral_source"], scout["recruiter_id"]) == ("active", "none", None)
    buyer = make_user("buyer", referral_code=scout["referral_code"])
    assert (buyer["recruiter_id"], buyer["referral_source"], buyer["referral_code"]) == (scout["user_id"], "code", None)
    seller = make_user(
        "seller",
        recruiter_id=scout["user_id"],
        payout_destination={"account_number": "001234567890", "ifsc": "SBIN0001234", "account_name": "Shop"},
    )
    assert (seller["recruiter_id"], seller["referral_source"]) == (scout["user_id"], "link")
    assert seller["payout_destination"]["account_number"] == "XXXXXXXX7890"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"recruiter_id": "usr_missing"}, "recruiter_invalid"),
        ({"referral_code": "ABCDEFGHJK"}, "recruiter_invalid"),
        ({"recruiter_id": "usr_x", "referral_code": "ABCDEFGHJK"}, "referral_conflict"),
        ({"referral_source": "link"}, "referral_conflict"),
        ({"payout_destination": {"vpa": "buyer@okaxis"}}, "validation_error"),
        ({"name": "Robert'); DROP TABLE users;--"}, "validation_error"),
        ({"name": "<script>alert(1)</script>"}, "validation_error"),
        ({"name": "Bad\u0000Name"}, "validation_error"),
        ({"email": "not-an-email"}, "validation_error"),
        ({"role": "admin"}, "validation_error"),
        ({"unknown": 1}, "validation_error"),
        ({"name": 5}, "validation_error"),
    ],
)
def test_invalid_registrations(client, client_headers, fields, code) -> None:  # type: ignore[no-untyped-def]
    body = {"role": "buyer", "name": "Ravi", "email": "r@example.in", **fields}
    response = client.post("/v1/users", json=body, headers={**client_headers, "Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == ERROR_CODES[code][0]
    assert response.json()["error"]["code"] == code
    assert "Traceback" not in response.text and "users" not in response.json()["error"]["message"].lower().split()


def test_a_user_being_changed_does_not_hold_up_their_new_orders(engine, make_user) -> None:  # type: ignore[no-untyped-def]
    buyer, seller = make_user("buyer")["user_id"], make_user("seller")["user_id"]
    order_id = f"ord_{uuid.uuid4().hex}"
    with engine.connect() as admin, admin.begin():
        user_store.get_user(admin, buyer, lock=True)  # as a recruiter change holds it until commit
        with engine.connect() as api, api.begin():
            api.execute(sa.text("SET LOCAL lock_timeout = '500ms'"))
            created = api.execute(
                sa.text(
                    "SELECT create_orders(ARRAY[:o], ARRAY[:b], ARRAY[:s], ARRAY['lst_1'], ARRAY[NULL], "
                    "ARRAY[1000], ARRAY[now()], ARRAY[NULL::bigint], ARRAY[NULL], ARRAY[NULL])"
                ),
                {"o": order_id, "b": buyer, "s": seller},
            ).scalar_one()
    assert created == order_id


def test_recruiter_must_be_an_active_scout(client, client_headers, make_user) -> None:  # type: ignore[no-untyped-def]
    seller = make_user("seller")
    body = {"role": "buyer", "name": "Ravi", "email": "r@example.in", "recruiter_id": seller["user_id"]}
    response = client.post("/v1/users", json=body, headers={**client_headers, "Idempotency-Key": uuid.uuid4().hex})
    assert response.json()["error"]["code"] == "recruiter_invalid"


def test_admin_sets_fixes_and_clears_recruiter_with_audit(client, admin_headers, make_user, engine) -> None:  # type: ignore[no-untyped-def]
    first, second = make_user("scout"), make_user("scout")
    buyer = make_user("buyer", recruiter_id=first["user_id"])
    url = f"/v1/admin/users/{buyer['user_id']}/recruiter"
    response = client.patch(
        url, json={"referral_code": second["referral_code"]}, headers={**admin_headers, "X-Request-ID": "fix-1"}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["recruiter_id"], response.json()["referral_source"]) == (second["user_id"], "admin")
    cleared = client.patch(url, json={"recruiter_id": None}, headers=admin_headers).json()
    assert (cleared["recruiter_id"], cleared["referral_source"]) == (None, "none")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT actor, before, after, request_id FROM audit_log WHERE target_id = :u ORDER BY audit_id"),
            {"u": buyer["user_id"]},
        ).all()
    assert len(rows) == 2
    assert rows[0].before == {"recruiter_id": first["user_id"], "referral_source": "link"}
    assert rows[0].after == {"recruiter_id": second["user_id"], "referral_source": "admin"}
    assert rows[0].request_id == "fix-1" and rows[0].actor.startswith("test-admin-")


def test_admin_refuses_cycles_self_and_unknown_users(client, admin_headers, make_user) -> None:  # type: ignore[no-untyped-def]
    a = make_user("scout")
    b = make_user("scout", recruiter_id=a["user_id"])
    c = make_user("scout", recruiter_id=b["user_id"])
    cycle = client.patch(
        f"/v1/admin/users/{a['user_id']}/recruiter", json={"recruiter_id": c["user_id"]}, headers=admin_headers
    )
    assert (cycle.status_code, cycle.json()["error"]["code"]) == (409, "referral_cycle")
    itself = client.patch(
        f"/v1/admin/users/{a['user_id']}/recruiter", json={"recruiter_id": a["user_id"]}, headers=admin_headers
    )
    assert itself.json()["error"]["code"] == "recruiter_invalid"
    both = client.patch(
        f"/v1/admin/users/{a['user_id']}/recruiter",
        json={"recruiter_id": c["user_id"], "referral_code": c["referral_code"]},
        headers=admin_headers,
    )
    assert both.json()["error"]["code"] == "referral_conflict"
    missing = client.patch(
        "/v1/admin/users/usr_nobody/recruiter", json={"recruiter_id": a["user_id"]}, headers=admin_headers
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "user_not_found")
    injected = client.patch(
        "/v1/admin/users/1;DROP TABLE users/recruiter", json={"recruiter_id": None}, headers=admin_headers
    )
    assert injected.status_code in (404, 422)


def _audit(engine, user_id: str) -> list[Any]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text("SELECT actor, action, before, after, request_id FROM audit_log WHERE target_id = :u "
                        "ORDER BY audit_id"),
                {"u": user_id},
            )
        )  # fmt: skip


def _stored_destination(engine, user_id: str) -> Any:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT payout_destination FROM users WHERE user_id = :u"), {"u": user_id}
        ).scalar_one()


def test_get_user_shows_it_as_registered_with_the_destination_masked(client, client_headers, make_user) -> None:  # type: ignore[no-untyped-def]
    seller = make_user("seller", phone="+919812345678", payout_destination={"vpa": "asha.shop@okhdfc"})
    got = client.get(f"/v1/users/{seller['user_id']}", headers=client_headers)
    assert (got.status_code, got.json()) == (200, seller)
    assert got.json()["payout_destination"] == {"type": "vpa", "vpa": "as*******@okhdfc", "account_number": None,
                                                 "ifsc": None, "account_name": None}  # fmt: skip
    missing = client.get("/v1/users/usr_nobody", headers=client_headers)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "user_not_found")
    assert client.get(f"/v1/users/{seller['user_id']}").status_code == 401


def test_a_registration_without_destination_stores_none(engine, make_user) -> None:  # type: ignore[no-untyped-def]
    """SQL NULL, not JSON null: the payout batch takes any non-NULL value for a destination."""
    seller = make_user("seller")
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT payout_destination IS NULL FROM users WHERE user_id = :u"), {"u": seller["user_id"]}
        ).scalar_one()
    assert (seller["payout_destination"], stored) == (None, True)


def test_patch_changes_only_the_given_fields_and_audits_each_change_masked(  # type: ignore[no-untyped-def]
    client, client_headers, make_user, engine
) -> None:
    seller = make_user("seller", phone="+919812345678", payout_destination={"vpa": "asha.shop@okhdfc"})
    url = f"/v1/users/{seller['user_id']}"
    bank = {"account_number": "001234567890", "ifsc": "SBIN0001234", "account_name": "Asha Stores"}
    changed = client.patch(url, json={"payout_destination": bank}, headers={**client_headers, "X-Request-ID": "fix-7"})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["payout_destination"] == {"type": "bank_account", "vpa": None, "account_number": "XXXXXXXX7890",
                                          "ifsc": "SBIN0001234", "account_name": "Asha Stores"}  # fmt: skip
    unchanged = {k: v for k, v in seller.items() if k not in ("payout_destination", "updated_at")}
    assert {k: v for k, v in body.items() if k in unchanged} == unchanged
    assert body["updated_at"] > seller["updated_at"]
    # Stored in full for the payout pipeline, shown and audited masked.
    stored = {"type": "bank_account", "account_number": "001234567890", "ifsc": "SBIN0001234",
              "account_name": "Asha Stores"}  # fmt: skip
    assert _stored_destination(engine, seller["user_id"]) == stored
    [audit] = _audit(engine, seller["user_id"])
    assert (audit.action, audit.request_id, audit.actor.startswith("test-client-")) == (
        "user.profile_update",
        "fix-7",
        True,
    )
    assert audit.before == {"payout_destination": {"type": "vpa", "vpa": "as*******@okhdfc"}}
    assert audit.after == {"payout_destination": {"type": "bank_account", "account_number": "XXXXXXXX7890",
                                                  "ifsc": "SBIN0001234", "account_name": "Asha Stores"}}  # fmt: skip

    renamed = client.patch(url, json={"name": "Asha Devi", "phone": None}, headers=client_headers).json()
    assert (renamed["name"], renamed["phone"], renamed["payout_destination"]) == (
        "Asha Devi", None, body["payout_destination"]
    )  # fmt: skip
    again = client.patch(url, json={"name": "Asha Devi"}, headers=client_headers)  # nothing changes: no audit row
    assert (again.status_code, again.json()) == (200, renamed)
    removed = client.patch(url, json={"payout_destination": None}, headers=client_headers).json()
    assert (removed["payout_destination"], _stored_destination(engine, seller["user_id"])) == (None, None)
    audits = _audit(engine, seller["user_id"])
    assert [(a.before, a.after) for a in audits[1:]] == [
        ({"name": seller["name"], "phone": "+919812345678"}, {"name": "Asha Devi", "phone": None}),
        ({"payout_destination": audit.after["payout_destination"]}, {"payout_destination": None}),
    ]
    assert client.get(url, headers=client_headers).json() == removed


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({}, "validation_error", "Invalid request: give name, phone or payout_destination."),
        ({"name": None}, "validation_error", None),
        ({"email": "new@example.in"}, "validation_error", None),
        ({"phone": "12"}, "validation_error", None),
        ({"payout_destination": {"vpa": "nope"}}, "validation_error", None),
        ({"payout_destination": {"vpa": "x1@okaxis", "ifsc": "SBIN0001234"}}, "validation_error", None),
    ],
)
def test_patch_refusals_change_nothing(client, client_headers, make_user, engine, body, code, message) -> None:  # type: ignore[no-untyped-def]
    seller = make_user("seller", payout_destination={"vpa": "asha.shop@okhdfc"})
    response = client.patch(f"/v1/users/{seller['user_id']}", json=body, headers=client_headers)
    assert (response.status_code, response.json()["error"]["code"]) == (422, code)
    if message is not None:
        assert response.json()["error"]["message"] == message
    assert client.get(f"/v1/users/{seller['user_id']}", headers=client_headers).json() == seller
    assert _audit(engine, seller["user_id"]) == []


def test_a_buyer_gets_no_destination_and_an_unknown_user_is_404(client, client_headers, make_user, engine) -> None:  # type: ignore[no-untyped-def]
    buyer = make_user("buyer")
    refused = client.patch(
        f"/v1/users/{buyer['user_id']}", json={"payout_destination": {"vpa": "ravi@okaxis"}}, headers=client_headers
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "payout_destination_not_allowed")
    assert _stored_destination(engine, buyer["user_id"]) is None and _audit(engine, buyer["user_id"]) == []
    cleared = client.patch(f"/v1/users/{buyer['user_id']}", json={"payout_destination": None}, headers=client_headers)
    assert cleared.status_code == 200  # removing what a buyer never had changes nothing
    missing = client.patch("/v1/users/usr_nobody", json={"name": "Ravi"}, headers=client_headers)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "user_not_found")


def test_admin_suspends_and_reactivates_with_audit(client, client_headers, admin_headers, make_user, engine) -> None:  # type: ignore[no-untyped-def]
    seller = make_user("seller", payout_destination={"vpa": "asha.shop@okhdfc"})
    url = f"/v1/admin/users/{seller['user_id']}"
    forbidden = client.patch(url, json={"status": "suspended", "reason": "KYC"}, headers=client_headers)
    assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "forbidden")
    no_reason = client.patch(url, json={"status": "suspended"}, headers=admin_headers)
    assert (no_reason.status_code, no_reason.json()["error"]["code"]) == (422, "validation_error")
    closing = client.patch(url, json={"status": "closed", "reason": "gone"}, headers=admin_headers)
    assert (closing.status_code, closing.json()["error"]["code"]) == (422, "validation_error")
    assert _audit(engine, seller["user_id"]) == []

    suspended = client.patch(url, json={"status": "suspended", "reason": "KYC documents expired"},
                             headers={**admin_headers, "X-Request-ID": "susp-1"})  # fmt: skip
    assert (suspended.status_code, suspended.json()["status"]) == (200, "suspended")
    again = client.patch(url, json={"status": "suspended", "reason": "still"}, headers=admin_headers)
    assert (again.status_code, again.json()["status"]) == (200, "suspended")  # no change, no audit row
    assert client.get(f"/v1/users/{seller['user_id']}", headers=client_headers).json()["status"] == "suspended"
    active = client.patch(url, json={"status": "active"}, headers=admin_headers)
    assert (active.status_code, active.json()["status"]) == (200, "active")
    audits = _audit(engine, seller["user_id"])
    assert [(a.action, a.before, a.after) for a in audits] == [
        ("user.status_set", {"status": "active"}, {"status": "suspended", "reason": "KYC documents expired"}),
        ("user.status_set", {"status": "suspended"}, {"status": "active", "reason": None}),
    ]
    assert audits[0].request_id == "susp-1" and audits[0].actor.startswith("test-admin-")

    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET status = 'closed' WHERE user_id = :u"), {"u": seller["user_id"]})
    closed = client.patch(url, json={"status": "active"}, headers=admin_headers)
    assert (closed.status_code, closed.json()["error"]["code"]) == (409, "user_closed")
    missing = client.patch("/v1/admin/users/usr_nobody", json={"status": "active"}, headers=admin_headers)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "user_not_found")
