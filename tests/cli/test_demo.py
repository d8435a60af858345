"""`settle demo` end to end: real sandbox and API processes, the nightly job, the summary."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from cli.main import main


def test_demo_settles_a_simulated_day(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "environ", os.environ.copy())  # the nightly runner exports its resources
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["demo", "--orders", "60", "--seed", "3"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "simulated: {'orders': 60, 'paid': 56, 'payment_failed': 3, " in out
    assert "(duplicate answered 200, forged answered 401)" in out
    assert "Checks: all passed (15/15 in check_results)" in out
    assert "rejected   bad_signature                 1" in out
    assert "duplicate  already_accepted              1" in out
    assert "retried after a transient gateway error: 2" in out
    assert "(the money is back in the payee's balance)" in out  # seller 4's bank refuses
