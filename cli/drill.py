"""Crash drills: SETTLE_<FEATURE>_PAUSE_AT names a point of a submission protocol (`attempt_recorded`,
`gateway_call`, `gateway_answered`) where the process writes the id of the row it is working on to
SETTLE_<FEATURE>_PAUSE_FILE and then stops (at `gateway_call` it carries on into the call), so a test
or an operator can kill it there and prove nothing is lost or sent twice."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

PAUSE_S = 3600


def pause_hook(feature: str) -> Callable[[str, str], None] | None:
    """The crash-drill hook of `feature` (PAYOUTS, REFUNDS) from the environment, or None."""
    point, marker = os.environ.get(f"SETTLE_{feature}_PAUSE_AT"), os.environ.get(f"SETTLE_{feature}_PAUSE_FILE")
    if not point or not marker:
        return None

    def hook(at: str, row_id: str) -> None:
        if at != point:
            return
        partial = Path(f"{marker}.partial")
        partial.write_text(row_id)
        partial.replace(marker)  # whole or absent: a waiting test never reads a half-written id
        if at != "gateway_call":
            time.sleep(PAUSE_S)

    return hook
