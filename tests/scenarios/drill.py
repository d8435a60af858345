"""Crash drills in real processes: wait until a submission reaches its pause point."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


def wait_for_pause(path: Path, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> str:
    """The id the paused submission wrote to `path`; fails if the process exits or never gets there."""
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else "exited"
        assert time.monotonic() < deadline, "the submission never reached the pause point"
        time.sleep(0.02)
    return path.read_text()
