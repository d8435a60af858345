"""Every code a `DomainError` can carry is in the API's catalogue, so a refusal never becomes a 500."""

from __future__ import annotations

import importlib
import pkgutil

import domain
from domain.platform.errors import DomainError, all_domain_errors
from ingest_api.errors import ERROR_CODES


def _import_domain() -> None:
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)


def test_every_domain_error_code_is_catalogued() -> None:
    _import_domain()
    errors = all_domain_errors()
    assert {cls.__name__ for cls in errors} >= {"PayoutRuleError", "ReferralError", "IllegalTransition"}
    uncatalogued = {
        cls.__name__: sorted(cls.codes - ERROR_CODES.keys()) for cls in errors if cls.codes - ERROR_CODES.keys()
    }
    assert uncatalogued == {}
    assert all(cls.codes for cls in errors)


def test_a_domain_error_refuses_a_code_it_does_not_declare() -> None:
    class Narrow(DomainError):
        codes = frozenset({"payout_busy"})

    assert Narrow("payout_busy", "busy").code == "payout_busy"
    try:
        Narrow("internal_error", "no")
    except ValueError as exc:
        assert "internal_error" in str(exc)
    else:
        raise AssertionError("an undeclared code was accepted")
