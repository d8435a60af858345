"""The SQL twins of the ledger's names and the reconciliation's ids and charges compute exactly what
the Python does, on any input."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.ledger.accounts import account_payee, account_type_of, entry_key, payable_account
from domain.reconciliation.rules import BREAK_CLASSES, exception_id, expected_charges

parts = st.text(alphabet=st.characters(blacklist_characters=":\x00", blacklist_categories=("Cs",)), min_size=1)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["seller", "scout"]), parts)
def test_account_names(engine: sa.Engine, payee_type: str, payee_id: str) -> None:
    account = payable_account(payee_type, payee_id)  # type: ignore[arg-type]
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT payable_account(:t, :p) AS a, account_type_of(:a) AS kind, account_payee(:a) AS payee"),
            {"t": payee_type, "p": payee_id, "a": account},
        ).one()
    assert (row.a, row.kind, row.payee) == (account, account_type_of(account), account_payee(account))


@settings(max_examples=200, deadline=None)
@given(parts, st.lists(parts, min_size=1, max_size=4))
def test_entry_keys(engine: sa.Engine, kind: str, key_parts: list[str]) -> None:
    sql = sa.text("SELECT entry_key(:kind, VARIADIC CAST(:parts AS text[]))")
    with engine.connect() as conn:
        assert conn.execute(sql, {"kind": kind, "parts": key_parts}).scalar_one() == entry_key(kind, *key_parts)


def test_unowned_accounts_have_no_payee(conn: sa.Connection) -> None:
    row = conn.execute(sa.text("SELECT account_type_of('bank') AS kind, account_payee('bank') AS payee")).one()
    assert (row.kind, row.payee) == ("bank", None) == (account_type_of("bank"), account_payee("bank"))


@settings(max_examples=200, deadline=None)
@given(st.dates(), st.sampled_from(BREAK_CLASSES), st.sampled_from(["PAYMENT", "REFUND", "BATCH"]), parts,
       st.integers(min_value=1, max_value=1000))  # fmt: skip
def test_exception_ids(engine: sa.Engine, day: dt.date, klass: str, kind: str, reference: str, occurrence: int) -> None:
    sql = sa.text("SELECT recon_exception_id(:day, :class, :kind, :ref, :n)")
    params = {"day": day, "class": klass, "kind": kind, "ref": reference, "n": occurrence}
    with engine.connect() as conn:
        assert conn.execute(sql, params).scalar_one() == exception_id(str(day), klass, kind, reference, occurrence)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**12), st.integers(0, 10_000), st.integers(0, 10_000))
def test_expected_charges(engine: sa.Engine, amount: int, fee_bps: int, gst_bps: int) -> None:
    """The classification's fee and GST (bps_of twice, in SQL) are the rules' `expected_charges`."""
    sql = sa.text("SELECT bps_of(:a, :f) AS fee, bps_of(bps_of(:a, :f), :g) AS gst")
    with engine.connect() as conn:
        row = conn.execute(sql, {"a": amount, "f": fee_bps, "g": gst_bps}).one()
    assert (row.fee, row.gst) == expected_charges(amount, fee_bps, gst_bps)
