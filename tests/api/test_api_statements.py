"""`GET /v1/payees/{id}/statement`: what it refuses and with which code, its three formats and their
content types, and what the OpenAPI schema publishes. A month of real activity, where the lines and
balances are checked to the paisa, is in tests/scenarios/test_payee_statements.py."""

from __future__ import annotations

import csv
import io
from typing import Any, get_args

import pytest
from click.testing import CliRunner

from cli.main import main
from domain.statements.rules import LINE_KINDS
from ingest_api.schemas.statements import LineKind

URL = "/v1/payees/{}/statement"
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def seller(make_user) -> str:  # type: ignore[no-untyped-def]
    return str(make_user("seller", payout_destination={"vpa": "ravi@okaxis"})["user_id"])


def _get(client: Any, headers: dict[str, str], payee_id: str, **params: str) -> Any:
    return client.get(URL.format(payee_id), params=params, headers=headers)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2026-11-30", "to": "2026-11-01"}, "statement_period_invalid"),  # from after to
        ({"from": "1999-12-31", "to": "2000-01-31"}, "statement_period_invalid"),  # before any ledger
        ({"from": "2999-12-31", "to": "3000-01-01"}, "statement_period_invalid"),  # beyond the supported range
        ({"from": "2026-01-01", "to": "2027-01-02"}, "statement_period_too_long"),  # 367 days
        ({"from": "2026-11-01"}, "validation_error"),  # no `to`
        ({"from": "2026-11-01", "to": "2026-11-31"}, "validation_error"),  # no such day
        ({"from": "2026-11-1", "to": "2026-11-30"}, "validation_error"),  # not YYYY-MM-DD
        ({"from": "2026-11-01T00:00:00+05:30", "to": "2026-11-30"}, "validation_error"),  # a time, not a day
        ({**NOVEMBER, "format": "pdf"}, "validation_error"),
    ],
)
def test_a_bad_period_or_format_is_refused_with_its_code(client, client_headers, seller, params, code) -> None:  # type: ignore[no-untyped-def]
    response = _get(client, client_headers, seller, **params)
    assert (response.status_code, response.json()["error"]["code"]) == (422, code)


def test_the_longest_period_is_a_leap_year(client, client_headers, seller) -> None:  # type: ignore[no-untyped-def]
    response = _get(client, client_headers, seller, **{"from": "2028-01-01", "to": "2028-12-31"})  # 366 days
    assert response.status_code == 200, response.text


def test_unknown_payee_buyer_and_no_key(client, client_headers, make_user) -> None:  # type: ignore[no-untyped-def]
    unknown = _get(client, client_headers, "usr_nobody", **NOVEMBER)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "user_not_found")
    buyer = _get(client, client_headers, str(make_user("buyer")["user_id"]), **NOVEMBER)
    assert (buyer.status_code, buyer.json()["error"]["code"]) == (422, "not_a_payee")
    assert buyer.json()["error"]["message"] == "Only sellers and scouts have statements; this user is a buyer."
    keyless = client.get(URL.format("usr_nobody"), params=NOVEMBER)
    assert (keyless.status_code, keyless.json()["error"]["code"]) == (401, "unauthorized")


def test_a_quiet_period_in_each_format(client, client_headers, make_user) -> None:  # type: ignore[no-untyped-def]
    scout = make_user("scout", payout_destination={"vpa": "asha@okaxis"})
    body = _get(client, client_headers, scout["user_id"], **NOVEMBER).json()
    assert {
        key: body[key] for key in ("payee_id", "payee_type", "payee_name", "account_id", "from_date", "to_date")
    } == {
        "payee_id": scout["user_id"],
        "payee_type": "scout",
        "payee_name": scout["name"],
        "account_id": f"scout_payable:{scout['user_id']}",
        "from_date": "2026-11-01",
        "to_date": "2026-11-30",
    }
    assert (body["opening_paise"], body["closing_paise"], body["lines"]) == (0, 0, [])
    assert body["totals"]["by_kind"] == [{"kind": kind, "lines": 0, "amount_paise": 0} for kind in LINE_KINDS]
    assert body["generated_at"].endswith("Z")

    as_csv = _get(client, client_headers, scout["user_id"], **NOVEMBER, format="csv")
    assert (as_csv.status_code, as_csv.headers["content-type"]) == (200, "text/csv; charset=utf-8")
    assert as_csv.headers["content-disposition"] == (
        f'attachment; filename="statement_{scout["user_id"]}_2026-11-01_2026-11-30.csv"'
    )
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert [row[1:3] + row[-1:] for row in rows[1:]] == [
        ["2026-11-01", "opening_balance", "0"],
        ["2026-11-30", "closing_balance", "0"],
    ]
    assert as_csv.text.endswith("\r\n")  # RFC 4180 line ends, from the csv module

    as_html = _get(client, client_headers, scout["user_id"], **NOVEMBER, format="html")
    assert (as_html.status_code, as_html.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert "content-disposition" not in as_html.headers
    assert "01 Nov 2026 to 30 Nov 2026 (IST days)" in as_html.text
    assert as_html.text.count(">Rs 0.00<") == 4  # opening and closing, in the summary and in the lines


def test_the_schema_publishes_the_three_formats_and_the_period(client) -> None:  # type: ignore[no-untyped-def]
    operation = client.get("/openapi.json").json()["paths"]["/v1/payees/{payee_id}/statement"]["get"]
    ok = operation["responses"]["200"]
    assert sorted(ok["content"]) == ["application/json", "text/csv", "text/html"]
    assert "Content-Disposition" in ok["headers"]
    assert sorted(operation["responses"]) == ["200", "401", "404", "422", "429", "503"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert (params["from"]["required"], params["to"]["required"], params["format"]["required"]) == (True, True, False)
    assert params["format"]["schema"]["enum"] == ["json", "csv", "html"]
    assert operation["security"] == [{"ApiKey": []}]


def test_the_schema_names_every_kind_of_line() -> None:
    assert get_args(LineKind) == LINE_KINDS


def test_the_cli_refuses_with_the_same_codes(database_url, make_user, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOG_FORMAT", "console")
    buyer = str(make_user("buyer")["user_id"])
    cases = [
        ([buyer, "2026-11-01", "2026-11-30"], "Error: not_a_payee: Only sellers and scouts have statements"),
        (["usr_nobody", "2026-11-01", "2026-11-30"], "Error: user_not_found: No such user."),
        ([buyer, "2026-11-30", "2026-11-01"], "Error: statement_period_invalid: `from` must not be after `to`."),
    ]
    for (payee_id, start, end), message in cases:
        result = CliRunner().invoke(main, ["statement", "--payee", payee_id, "--from", start, "--to", end])
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr.startswith(message), result.stderr
