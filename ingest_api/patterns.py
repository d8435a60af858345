"""Input text rules shared by every API field: what an identifier, a name or free text may contain.

Patterns are plain regular expressions so the API can publish them in its OpenAPI schema.
Control characters (C0, DEL, C1) and angle brackets never get into the database: the text ends up
in e-mails, CSV exports and the Dagster UI.
"""

from __future__ import annotations

from typing import Final

IDENTIFIER: Final = r"^[A-Za-z0-9_-]{1,64}$"
NAME: Final = r"^[\w][\w .,'&()/-]*$"
FREE_TEXT: Final = r"^[^\x00-\x1f\x7f-\x9f<>]*$"
EMAIL: Final = r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$"
PHONE: Final = r"^\+?[0-9]{10,15}$"
IDEMPOTENCY_KEY: Final = r"^[\x21-\x7e]{1,128}$"
FULL_DATE: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DATE_TIME: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
"""RFC 3339, what OpenAPI's `date` and `date-time` formats mean: pydantic alone also reads Unix times
("0.5"), bare dates and times without an offset, which the published formats do not allow."""
