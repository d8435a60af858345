"""Payee statements: a seller's or scout's account over IST days, as JSON, CSV or a printable HTML page,
all three from the one statement (`domain.statements`), next to the balance in `routers/payouts.py`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from domain.statements import render, store
from ingest_api.deps import CurrentKey, SessionDep
from ingest_api.errors import error_responses
from ingest_api.schemas.common import PathId, QueryDate
from ingest_api.schemas.statements import StatementFormat, StatementOut

router = APIRouter(prefix="/v1", tags=["statements"])

CSV_TYPE = "text/csv; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"

_OTHER_FORMATS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The statement: JSON by default; `format=csv` or `format=html` for the same lines as CSV "
        "(with `Content-Disposition: attachment`) or a printable page.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
        },
        "headers": {
            "Content-Disposition": {
                "description": 'With `format=csv`: `attachment; filename="statement_<payee>_<from>_<to>.csv"`.',
                "schema": {"type": "string"},
            }
        },
    }
}


@router.get(
    "/payees/{payee_id}/statement",
    response_model=StatementOut,
    responses={**_OTHER_FORMATS, **error_responses(401, 404, 422, 429)},
)
def payee_statement(
    payee_id: PathId,
    _key: CurrentKey,
    conn: SessionDep,
    from_date: Annotated[QueryDate, Query(alias="from", description="The first IST day, included.")],
    to_date: Annotated[QueryDate, Query(alias="to", description="The last IST day, included.")],
    format_: Annotated[StatementFormat, Query(alias="format")] = "json",
) -> StatementOut | Response:
    """A seller's or scout's statement: opening balance, every order, refund, bounty and payout, closing balance.

    At most 366 days (`statement_period_too_long`), `from` not after `to` (`statement_period_invalid`);
    a buyer has none (`not_a_payee`).
    """
    statement = store.payee_statement(conn, payee_id, from_date, to_date, now=dt.datetime.now(dt.UTC))
    if format_ == "csv":
        disposition = f'attachment; filename="{render.filename(statement, "csv")}"'
        return Response(render.csv_text(statement), media_type=CSV_TYPE, headers={"Content-Disposition": disposition})
    if format_ == "html":
        return Response(render.html_text(statement), media_type=HTML_TYPE)
    return StatementOut.model_validate(render.document(statement))
