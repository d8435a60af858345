"""The acknowledgement of a verified webhook delivery."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class WebhookAck(BaseModel):
    status: Literal["accepted", "duplicate", "anomaly"]
    reason: str
    webhook_event_id: int
