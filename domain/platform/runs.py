"""What one run of a gateway workflow did, shared by the payout and refund submissions."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunSummary:
    """What one run did, by outcome (`submitted`, `completed`, `retry_scheduled`, ...)."""

    outcomes: Counter[str] = field(default_factory=Counter)
    gateway_calls: int = 0
    elapsed_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**dict(sorted(self.outcomes.items())), "gateway_calls": self.gateway_calls, "elapsed_s": self.elapsed_s}
