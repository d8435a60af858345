"""`settle dev` as a real process tree: however it is stopped, nothing it started outlives it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.dev import STOP_GRACE_S
from cli.processes import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
PROC = Path("/proc")
pytestmark = pytest.mark.skipif(not PROC.is_dir(), reason="reads the process tree from /proc")
# What the tree holds once the Dagster UI answers: the sandbox, the API's supervisor and its two
# workers, Dagster dev with its webserver, daemon, code server and that server's gRPC process.
EXPECTED = [
    "cli sandbox", "cli api", "cli notifications sink", "multiprocessing.spawn", "multiprocessing.spawn", "dagster dev",
    "dagster_webserver", "dagster._daemon", "dagster code-server", "dagster api grpc",
]  # fmt: skip


def _stat(pid: int) -> tuple[str, int]:
    """State and parent of a process (OSError once it has gone)."""
    state, ppid = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[:2]
    return state, int(ppid)


def _descendants(root: int) -> dict[int, str]:
    """Every process below `root`, with its command line."""
    children: dict[int, list[int]] = {}
    for entry in PROC.glob("[0-9]*"):
        try:
            children.setdefault(_stat(int(entry.name))[1], []).append(int(entry.name))
        except OSError:
            continue
    found, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = (PROC / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            todo.append(child)
    return found


def _alive(pids: dict[int, str]) -> dict[int, str]:
    """The ones still running: zombies are dead, whatever reaps them (or not)."""
    alive = {}
    for pid, command in pids.items():
        try:
            if _stat(pid)[0] != "Z":
                alive[pid] = command
        except OSError:
            continue
    return alive


def _left_after(pids: dict[int, str], deadline: float) -> dict[int, str]:
    while (alive := _alive(pids)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive


def _complete_tree(root: int, timeout_s: float = 30) -> dict[int, str]:
    """The descendants, once every expected process has started (the gRPC server comes last)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        tree = _descendants(root)
        if all(sum(marker in command for command in tree.values()) >= EXPECTED.count(marker) for marker in EXPECTED):
            return tree
        time.sleep(0.2)
    raise AssertionError(f"not every process started: {sorted(tree.values())}")


@dataclass
class Dev:
    process: subprocess.Popen[bytes]
    tree: dict[int, str]
    log: Path


@pytest.fixture
def settle_dev(make_database, tmp_path: Path) -> Iterator[Dev]:  # type: ignore[no-untyped-def]
    """`settle dev` on free ports and a database of its own (it migrates it; its daemon may run sensors)."""
    ui_port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": make_database("dev"),
        "DATA_DIR": str(tmp_path / "data"),
        "API_PORT": str(free_port()),
        "SANDBOX_PORT": str(free_port()),
        "SMTP_PORT": str(free_port()),
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
    }
    log = tmp_path / "dev.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "dev", "--ui-port", str(ui_port)],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    tree: dict[int, str] = {}
    try:
        wait_healthy(f"http://127.0.0.1:{ui_port}/server_info", process, timeout_s=60)
        tree = _complete_tree(process.pid)
        yield Dev(process, tree, log)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        for pid in _alive(tree):  # whatever the test left, so that no later test meets it
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_two_sigterms_stop_the_whole_tree_cleanly(settle_dev: Dev) -> None:
    """The second SIGTERM, while the first one's stop is under way, changes nothing."""
    deadline = time.monotonic() + STOP_GRACE_S + 10
    settle_dev.process.send_signal(signal.SIGTERM)
    time.sleep(2)
    settle_dev.process.send_signal(signal.SIGTERM)
    assert settle_dev.process.wait(timeout=STOP_GRACE_S + 10) == 0
    assert _left_after(settle_dev.tree, deadline) == {}
    output = settle_dev.log.read_text()
    assert "Aborted!" not in output and "killed after" not in output
    assert output.rstrip().endswith("stopped everything")
    assert "read the mail in " in output


def test_sigkill_of_settle_dev_takes_the_tree_down(settle_dev: Dev) -> None:
    """Nothing `settle dev` can do on SIGKILL: its watchdog stops the groups (SIGKILL after the grace)."""
    deadline = time.monotonic() + STOP_GRACE_S + 10
    settle_dev.process.kill()
    assert settle_dev.process.wait() == -signal.SIGKILL
    assert _left_after(settle_dev.tree, deadline) == {}
