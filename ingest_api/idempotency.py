"""Answers of the POSTs that create something (`domain.platform.idempotency`): the request's claim, and
the first answer, sent again as it was (status and body) on a replay, with `Idempotent-Replayed: true`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Response
from pydantic import BaseModel

from domain.platform.idempotency import Claim, request_hash
from domain.users.api_keys import ApiKey
from ingest_api.metrics import IDEMPOTENT_REPLAYS


def claim_of(key: ApiKey, idempotency_key: str, path: Mapping[str, str], body: BaseModel) -> Claim:
    """The claim of a request: its API key, its Idempotency-Key, and a hash of its path ids and body."""
    return Claim(key.api_key_id, idempotency_key, request_hash({**path, "body": body.model_dump(mode="json")}))


def answer(model: type[BaseModel], first: Mapping[str, Any], replayed: bool, status_code: int = 201) -> Response:
    headers = None
    if replayed:
        IDEMPOTENT_REPLAYS.labels("replayed").inc()
        headers = {"Idempotent-Replayed": "true"}
    content = model.model_validate(first).model_dump_json()
    return Response(content, status_code=status_code, media_type="application/json", headers=headers)
