"""Reconciliation breaks over the API: the listing with its filters and cursor, each resolution, the
ledger entry of those that move money, the second admin a large write-off takes, and every refusal."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import uuid
from typing import Any, get_args

import pytest
import sqlalchemy as sa

from domain.ledger.tables import journal_entries, ledger_lines
from domain.platform.tables import audit_log
from domain.reconciliation import rules
from domain.reconciliation.tables import gateway_reports, recon_exceptions
from domain.users.api_keys import create_key
from ingest_api.schemas import recon as schemas

FIRST_SEEN = dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC)
_ids = itertools.count(1)


def _report(engine: sa.Engine, report_date: dt.date) -> int:
    """A minimal stored report, as every exception names the report version it was found in."""
    content = uuid.uuid4().bytes
    with engine.begin() as conn:
        version = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(gateway_reports.c.version), 0) + 1).where(
                gateway_reports.c.report_date == report_date
            )
        ).scalar_one()
        return int(
            conn.execute(
                sa.insert(gateway_reports)
                .values(
                    report_date=report_date,
                    version=version,
                    sha256=hashlib.sha256(content).hexdigest(),
                    source="file",
                    content=content,
                    row_count=0,
                    settled_paise=0,
                    received_by="test",
                )
                .returning(gateway_reports.c.report_id)
            ).scalar_one()
        )


def _break(engine: sa.Engine, report_date: dt.date, klass: str, expected: int, reported: int, **values: Any) -> str:
    reference_id = values.pop("reference_id", f"ord_recon{next(_ids)}")
    exception_id = rules.exception_id(report_date.isoformat(), klass, "PAYMENT", reference_id)
    row = {"exception_id": exception_id, "report_date": report_date, "class": klass, "payment_type": "PAYMENT",
           "reference_id": reference_id, "report_id": _report(engine, report_date), "line": 1,
           "expected_paise": expected, "reported_paise": reported, "first_seen_at": FIRST_SEEN,
           "last_seen_at": FIRST_SEEN, **values}  # fmt: skip
    with engine.begin() as conn:
        conn.execute(sa.insert(recon_exceptions).values(row))
    return exception_id


def _admin(engine: sa.Engine) -> tuple[str, dict[str, str]]:
    name = f"finance-{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        key = create_key(conn, name, "admin")
    return name, {"Authorization": f"Bearer {key}"}


def _resolve(client, headers, exception_id: str, action: str, reason: str = "checked the UTR", approver=None):  # type: ignore[no-untyped-def]
    extra = {"X-Approver-Key": approver} if approver else {}
    return client.post(
        f"/v1/admin/recon/exceptions/{exception_id}/resolve",
        json={"action": action, "reason": reason},
        headers={**headers, **extra},
    )


def _row(engine: sa.Engine, exception_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(sa.select(recon_exceptions).where(recon_exceptions.c.exception_id == exception_id)).one()
    return dict(row._mapping)


def _lines(engine: sa.Engine, exception_id: str) -> list[tuple[str, str, int]]:
    """The resolution entry's type and lines, by account."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(journal_entries.c.entry_type, ledger_lines.c.account_id, ledger_lines.c.amount_paise)
            .join(ledger_lines, ledger_lines.c.entry_id == journal_entries.c.entry_id)
            .where(journal_entries.c.idempotency_key == f"recon_resolution:{exception_id}")
            .order_by(ledger_lines.c.account_id)
        ).all()
    return [(entry_type, account, int(amount)) for entry_type, account, amount in rows]


def _audits(engine: sa.Engine, exception_id: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                sa.select(
                    audit_log.c.actor,
                    audit_log.c.action,
                    audit_log.c.target_type,
                    audit_log.c.before,
                    audit_log.c.after,
                )
                .where(audit_log.c.target_id == exception_id)
                .order_by(audit_log.c.audit_id)
            )
        ]


def _error(response) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    return response.status_code, response.json()["error"]["code"]


def test_the_schema_literals_are_the_rules() -> None:
    assert get_args(schemas.ReconClass) == rules.BREAK_CLASSES
    assert get_args(schemas.ReconStatus) == rules.EXCEPTION_STATUSES
    assert get_args(schemas.ReconAction) == tuple(rules.RESOLUTIONS)


def test_list_filters_and_pages_newest_report_date_first(client, admin_headers, engine) -> None:  # type: ignore[no-untyped-def]
    day1, day2, day3 = dt.date(2031, 1, 10), dt.date(2031, 1, 11), dt.date(2031, 1, 12)
    a = _break(engine, day1, "amount_mismatch", 10_000, 9_900)
    b = _break(engine, day2, "missing_in_books", 0, 5_000)
    c = _break(engine, day2, "fee_mismatch", 10_000, 9_998)
    d = _break(engine, day3, "missing_in_report", 7_000, 0, status="resolved", resolution="gateway_corrected",
               resolution_reason="late row", resolved_by="finance", resolved_at=FIRST_SEEN)  # fmt: skip
    window = {"report_date_from": "2031-01-10", "report_date_to": "2031-01-12"}
    url = "/v1/admin/recon/exceptions"

    def ids(**params: object) -> list[str]:
        response = client.get(url, params={**window, **params}, headers=admin_headers)
        assert response.status_code == 200, response.text
        return [item["exception_id"] for item in response.json()["items"]]

    assert ids() == [d, *sorted([b, c]), a]
    assert ids(status="open") == [*sorted([b, c]), a]
    assert ids(**{"class": "missing_in_books"}) == [b]
    assert ids(report_date_from="2031-01-11", report_date_to="2031-01-11") == sorted([b, c])
    assert ids(reference_id=_row(engine, a)["reference_id"]) == [a]
    assert ids(status="written_off") == []

    pages, cursor = [], None
    while True:
        params = {**window, "limit": 1} | ({"cursor": cursor} if cursor else {})
        page = client.get(url, params=params, headers=admin_headers).json()
        pages.append([item["exception_id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [[d], *[[x] for x in sorted([b, c])], [a]]
    first = client.get(url, params={**window, "limit": 1}, headers=admin_headers).json()
    assert first["next_cursor"] == f"2031-01-12.{d}"
    # Any cursor in the published format is a position, also a date no calendar has.
    after_all = client.get(url, params={**window, "cursor": "2031-01-99.zzz"}, headers=admin_headers).json()
    assert [item["exception_id"] for item in after_all["items"]] == [d, *sorted([b, c]), a]
    bad = client.get(url, params={"cursor": "yesterday"}, headers=admin_headers)
    assert _error(bad) == (400, "invalid_cursor")

    item = next(i for i in first["items"] if i["exception_id"] == d)
    age = (dt.datetime.now(dt.UTC) - FIRST_SEEN).days
    assert item == {
        "exception_id": d, "report_date": "2031-01-12", "class": "missing_in_report", "payment_type": "PAYMENT",
        "reference_id": _row(engine, d)["reference_id"], "report_id": _row(engine, d)["report_id"], "line": 1,
        "expected_paise": 7_000, "reported_paise": 0, "difference_paise": -7_000, "age_days": age,
        "status": "resolved", "first_seen_at": "2026-03-02T04:00:00Z", "last_seen_at": "2026-03-02T04:00:00Z",
        "resolution": "gateway_corrected", "resolution_reason": "late row", "resolved_by": "finance",
        "approved_by": None, "resolved_at": "2026-03-02T04:00:00Z", "entry_id": None,
    }  # fmt: skip


def test_list_refusals(client, client_headers, admin_headers) -> None:  # type: ignore[no-untyped-def]
    url = "/v1/admin/recon/exceptions"
    assert _error(client.get(url)) == (401, "unauthorized")
    assert _error(client.get(url, headers=client_headers)) == (403, "forbidden")
    assert _error(client.get(url, params={"class": "matched"}, headers=admin_headers)) == (422, "validation_error")
    assert _error(client.get(url, params={"report_date_from": "2031-1-1"}, headers=admin_headers)) == (
        422,
        "validation_error",
    )


@pytest.mark.parametrize(
    ("klass", "expected", "reported", "action", "status", "lines"),
    [
        ("amount_mismatch", 10_000, 9_850, "accept_gateway", "resolved",
         [("platform_revenue", 150), ("recon_suspense", -150)]),
        ("missing_in_books", 0, 4_321, "accept_gateway", "resolved",
         [("platform_revenue", -4_321), ("recon_suspense", 4_321)]),
        ("fee_mismatch", 10_000, 9_997, "write_off", "written_off",
         [("platform_revenue", 3), ("recon_suspense", -3)]),
        ("missing_in_report", 8_000, 0, "write_off", "written_off",
         [("gateway_clearing", -8_000), ("platform_revenue", 8_000)]),
    ],
)  # fmt: skip
def test_a_money_resolution_posts_the_difference_once(  # type: ignore[no-untyped-def]
    client, engine, klass, expected, reported, action, status, lines
) -> None:
    actor, headers = _admin(engine)
    exception_id = _break(engine, dt.date(2031, 2, 1), klass, expected, reported)
    response = _resolve(client, headers, exception_id, action)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(line[1], line[2]) for line in _lines(engine, exception_id)] == lines
    assert {line[0] for line in _lines(engine, exception_id)} == {"recon_resolved"}
    row = _row(engine, exception_id)
    assert (row["status"], row["resolution"], row["resolution_reason"], row["resolved_by"], row["approved_by"]) == (
        status, action, "checked the UTR", actor, None
    )  # fmt: skip
    assert row["resolved_at"] is not None and row["entry_id"] is not None
    assert (body["status"], body["entry_id"], body["difference_paise"]) == (
        status,
        row["entry_id"],
        reported - expected,
    )
    audits = _audits(engine, exception_id)
    assert [(a[0], a[1], a[2], a[3]) for a in audits] == [
        (actor, f"recon_exception.{action}", "recon_exception", {"status": "open"})
    ]
    assert {k: audits[0][4][k] for k in ("status", "resolution", "resolution_reason", "entry_id")} == {
        "status": status, "resolution": action, "resolution_reason": "checked the UTR", "entry_id": row["entry_id"]
    }  # fmt: skip

    posted = _lines(engine, exception_id)
    again = _resolve(client, headers, exception_id, "write_off", reason="twice")
    assert _error(again) == (409, "recon_exception_not_open")
    assert (_row(engine, exception_id), _lines(engine, exception_id)) == (row, posted)
    assert _audits(engine, exception_id) == audits


@pytest.mark.parametrize("action", ["gateway_corrected", "refund_issued"])
def test_a_resolution_without_money_posts_nothing(client, engine, action) -> None:  # type: ignore[no-untyped-def]
    actor, headers = _admin(engine)
    exception_id = _break(engine, dt.date(2031, 2, 2), "paid_after_cancellation", 0, 50_000)
    response = _resolve(client, headers, exception_id, action, reason="refunded the buyer")
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["resolution"], response.json()["entry_id"]) == (
        "resolved",
        action,
        None,
    )
    assert _lines(engine, exception_id) == []
    assert [(a[0], a[1]) for a in _audits(engine, exception_id)] == [(actor, f"recon_exception.{action}")]


def test_a_write_off_without_a_difference_posts_nothing(client, engine) -> None:  # type: ignore[no-untyped-def]
    _, headers = _admin(engine)
    exception_id = _break(engine, dt.date(2031, 2, 3), "duplicate", 5_000, 5_000)
    response = _resolve(client, headers, exception_id, "write_off")
    assert (response.status_code, response.json()["status"], response.json()["entry_id"]) == (200, "written_off", None)
    assert _lines(engine, exception_id) == []


def test_a_large_write_off_takes_a_second_admin(client, engine, new_key, settings) -> None:  # type: ignore[no-untyped-def]
    threshold = settings.recon_write_off_approval_paise
    actor, headers = _admin(engine)
    approver, approver_headers = _admin(engine)
    approver_key = approver_headers["Authorization"].removeprefix("Bearer ")
    exception_id = _break(engine, dt.date(2031, 2, 4), "amount_mismatch", 100_000, 100_000 - threshold - 1)
    before = _row(engine, exception_id)

    refused = [
        _resolve(client, headers, exception_id, "write_off"),
        _resolve(client, headers, exception_id, "write_off", approver=headers["Authorization"].removeprefix("Bearer ")),
        _resolve(client, headers, exception_id, "write_off", approver=new_key("client")),
        _resolve(client, headers, exception_id, "write_off", approver="sk_not_a_key"),
    ]
    assert [_error(r) for r in refused] == [
        (403, "recon_write_off_needs_approval"),
        (403, "recon_approver_invalid"),
        (403, "recon_approver_invalid"),
        (403, "recon_approver_invalid"),
    ]
    assert (_row(engine, exception_id), _lines(engine, exception_id), _audits(engine, exception_id)) == (before, [], [])

    approved = _resolve(client, headers, exception_id, "write_off", approver=approver_key)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["resolved_by"], approved.json()["approved_by"]) == (actor, approver)
    assert [(a, p) for _, a, p in _lines(engine, exception_id)] == [
        ("platform_revenue", threshold + 1),
        ("recon_suspense", -(threshold + 1)),
    ]
    assert _audits(engine, exception_id)[0][4]["approved_by"] == approver


def test_a_write_off_at_the_threshold_needs_no_approver(client, engine, settings) -> None:  # type: ignore[no-untyped-def]
    threshold = settings.recon_write_off_approval_paise
    _, headers = _admin(engine)
    exception_id = _break(engine, dt.date(2031, 2, 5), "missing_in_books", 0, threshold)
    response = _resolve(client, headers, exception_id, "write_off")
    assert (response.status_code, response.json()["approved_by"]) == (200, None)


def test_resolve_refusals(client, client_headers, admin_headers, engine) -> None:  # type: ignore[no-untyped-def]
    exception_id = _break(engine, dt.date(2031, 2, 6), "amount_mismatch", 1_000, 900)
    before = _row(engine, exception_id)
    url = f"/v1/admin/recon/exceptions/{exception_id}/resolve"
    body = {"action": "accept_gateway", "reason": "ok"}
    assert _error(_resolve(client, admin_headers, "rex_missing", "accept_gateway")) == (
        404,
        "recon_exception_not_found",
    )
    assert _error(client.post(url, json=body)) == (401, "unauthorized")
    assert _error(client.post(url, json=body, headers=client_headers)) == (403, "forbidden")
    for wrong in ({"action": "cleared", "reason": "x"}, {"action": "write_off"}, {**body, "reason": ""},
                  {**body, "amount_paise": 1}, {**body, "reason": "<b>"}):  # fmt: skip
        assert _error(client.post(url, json=wrong, headers=admin_headers)) == (422, "validation_error"), wrong
    assert _error(client.post(url, content=b"{", headers={**admin_headers, "Content-Type": "application/json"})) == (
        400,
        "malformed_json",
    )
    assert (_row(engine, exception_id), _lines(engine, exception_id), _audits(engine, exception_id)) == (before, [], [])
