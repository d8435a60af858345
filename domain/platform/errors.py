"""`DomainError`: a change the business rules refuse, with a stable code from the API's catalogue.

Each subclass names the codes it can carry; a test holds them to `ingest_api.errors.ERROR_CODES`,
and the API turns any `DomainError` into its catalogued answer in one handler.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    codes: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, code: str, message: str) -> None:
        if code not in self.codes:
            raise ValueError(f"{type(self).__name__} cannot carry the code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message


def all_domain_errors() -> list[type[DomainError]]:
    """Every subclass of `DomainError` defined by the modules imported so far."""
    found: list[type[DomainError]] = []
    pending = list(DomainError.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found
