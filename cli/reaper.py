"""Stop whole process groups (SIGTERM, a grace period, SIGKILL), and the watchdog that does it for
`settle dev` when `settle dev` itself dies.

`settle dev` starts each child in a session of its own, and nothing below a child leaves the child's
process group (uvicorn's workers, Dagster's webserver, daemon, code servers and runs), so signalling
a group reaches that child's whole subtree whether or not the child passes signals on.

If `settle dev` is SIGKILLed it can clean nothing up. `PR_SET_PDEATHSIG` would not be enough: the
kernel clears it on fork, so it reaches only the direct children, and the processes Dagster and
uvicorn start would be orphaned together with their SIGKILLed parents. Keeping the children in
`settle dev`'s own process group would not help either: a supervisor signals the pid it started. So
`settle dev` first starts this watchdog (`python -m cli.reaper GRACE_S`), in a session of its own,
and writes each child's process group to its stdin, one a line, and `stop` when it starts stopping
them itself. The kernel closes that pipe however `settle dev` ends; at end of file the watchdog stops
every group still running, by the same deadline `settle dev` was keeping if it had begun. Only
stdlib is imported: the watchdog starts in milliseconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

POLL_S = 0.1


def signal_groups(pgids: Iterable[int], signum: int) -> None:
    for pgid in pgids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signum)


def running_groups(pgids: Iterable[int]) -> set[int]:
    """The groups among `pgids` with a live process in them.

    Zombies do not count: they are dead, waiting for a parent (perhaps an init that never reaps) to
    collect them. Without /proc, the kernel is asked, and a zombie counts until it is reaped.
    """
    wanted = set(pgids)
    if not Path("/proc").is_dir():
        return {pgid for pgid in wanted if _group_exists(pgid)}
    alive = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            state, _, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
            if int(pgrp) in wanted and state != "Z":
                alive.add(int(pgrp))
    return alive


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def kill_at_deadline(pgids: Iterable[int], deadline: float, reap: Callable[[], None] = lambda: None) -> set[int]:
    """Wait until `deadline` (time.monotonic) for the groups to end, then SIGKILL the ones left.

    Returns the groups that had to be killed. `reap` runs on every poll: the parent of the direct
    children collects them there, so their zombies do not keep a group waiting.
    """
    while left := running_groups(pgids):
        if time.monotonic() >= deadline:
            signal_groups(left, signal.SIGKILL)
            return left
        reap()
        time.sleep(POLL_S)
    return set()


def watch(lines: Iterable[str], grace_s: float) -> None:
    """Read the groups to guard until end of file, then stop those still running."""
    pgids: list[int] = []
    stopping_since = None
    for line in lines:
        if line.strip() == "stop":
            stopping_since = time.monotonic()
        else:
            pgids.append(int(line))
    if stopping_since is None:
        signal_groups(pgids, signal.SIGTERM)
        stopping_since = time.monotonic()
    kill_at_deadline(pgids, stopping_since + grace_s)


def main() -> None:
    # The watchdog's job is to outlive `settle dev`; it ends by itself once the groups have gone.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    watch(sys.stdin, float(sys.argv[1]))


if __name__ == "__main__":
    main()
