"""`settle dev`: the API, the gateway sandbox, the Dagster UI and a local mail sink (SMTP_HOST:SMTP_PORT,
keeping every message in DATA_DIR/mail) together, until Ctrl-C or SIGTERM.

Each child runs in a session of its own, so a signal meant for `settle dev` (Ctrl-C reaches the
terminal's foreground group) is not also delivered to them half-way through their start, and the
child's whole subtree can be stopped as one process group. Stopping is one pass, however it was
asked for: SIGTERM to every group, SIGKILL to any group still running after STOP_GRACE_S. A watchdog
(cli/reaper.py) does the same if `settle dev` dies without stopping them, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from types import FrameType

import click

from cli.context import settings_or_exit
from cli.migrate import migrate_to_head
from cli.reaper import kill_at_deadline, signal_groups
from domain.platform.database import database_url
from pipelines.instance import prepare_dagster_home, resource_environment

# Dagster dev took 5 to 9 s to stop its webserver, daemon and code servers on two cores, and more than
# 30 s once while the test suite (under coverage) loaded both cores; 45 s leaves room before SIGKILL.
STOP_GRACE_S = 45.0
POLL_S = 0.2
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# We run `dagster dev` deliberately: `dg`, which supersedes it, is not among our dependencies.
DAGSTER_WARNINGS = "ignore:Function `dev_command` is superseded"


class StopRequest:
    """Records the first SIGINT, SIGTERM or SIGHUP instead of raising KeyboardInterrupt.

    An exception raised by a signal could land anywhere, including in the middle of stopping the
    children, which is how a second SIGTERM used to abort the cleanup and orphan Dagster. Recording
    it leaves the one place that looks (the wait loop) in charge; later signals change nothing.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        for signum in STOP_SIGNALS:
            signal.signal(signum, self)

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum

    def ignore_further(self) -> None:
        """Once everything is stopped: the interpreter's shutdown restores default handlers for the
        ones Python installed, and a late second SIGTERM would then kill us instead of being ignored."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)


class Children:
    """The child processes of `settle dev`, each leading its own process group, and their watchdog."""

    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.reaper = subprocess.Popen(
            [sys.executable, "-m", "cli.reaper", str(grace_s)], stdin=subprocess.PIPE, start_new_session=True
        )

    def start(self, name: str, args: Sequence[str], env: Mapping[str, str]) -> None:
        self.processes[name] = process = subprocess.Popen(args, env=env, start_new_session=True)
        self._tell_reaper(str(process.pid))

    def wait(self, stop: StopRequest) -> list[str]:
        """Until a stop is requested or a child exits; return the children that exited by themselves."""
        while stop.signum is None:
            exited = [name for name, process in self.processes.items() if process.poll() is not None]
            if exited:
                return exited
            time.sleep(POLL_S)
        return []

    def stop(self) -> list[str]:
        """SIGTERM every group, SIGKILL those left after the grace period; return the killed ones' names."""
        self._tell_reaper("stop")
        deadline = time.monotonic() + self.grace_s
        groups = {process.pid: name for name, process in self.processes.items()}
        signal_groups(groups, signal.SIGTERM)
        killed = kill_at_deadline(groups, deadline, reap=self._reap)
        for process in self.processes.values():
            process.wait()
        self._release_reaper()
        return sorted(groups[pgid] for pgid in killed)

    def _reap(self) -> None:
        for process in self.processes.values():
            process.poll()

    def _tell_reaper(self, line: str) -> None:
        assert self.reaper.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # a dead watchdog must not stop `settle dev` stopping
            self.reaper.stdin.write(f"{line}\n".encode())
            self.reaper.stdin.flush()

    def _release_reaper(self) -> None:
        """End of file: the watchdog finds every group gone and exits at once."""
        assert self.reaper.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.reaper.stdin.close()
        self.reaper.wait()


def commands(api_port: int, sandbox_port: int, ui_port: int) -> dict[str, list[str]]:
    return {
        "sandbox": [sys.executable, "-m", "cli", "sandbox", "--port", str(sandbox_port)],
        "api": [sys.executable, "-m", "cli", "api", "--port", str(api_port), "--workers", "2"],
        "dagster": [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml", "-p", str(ui_port)],
        "mail": [sys.executable, "-m", "cli", "notifications", "sink"],
    }


def dagster_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with Dagster's note about `dagster dev` silenced, keeping any PYTHONWARNINGS already set."""
    filters = [env.get("PYTHONWARNINGS", ""), DAGSTER_WARNINGS]
    return {**env, "PYTHONWARNINGS": ",".join(f for f in filters if f)}


@click.command()
@click.option("--ui-port", type=int, default=3000, show_default=True)
def dev(ui_port: int) -> None:
    """Serve API (API_PORT), sandbox (SANDBOX_PORT), Dagster UI and mail sink (SMTP_PORT) to explore."""
    settings = settings_or_exit()
    migrate_to_head(database_url(settings), settings)
    sandbox = f"http://127.0.0.1:{settings.sandbox_port}"
    env = {
        **os.environ,
        **resource_environment(settings),
        "PHONEPE_BASE_URL": f"{sandbox}/phonepe",
        "RAZORPAYX_BASE_URL": f"{sandbox}/razorpayx",
        "API_PUBLIC_URL": f"http://127.0.0.1:{settings.api_port}",
        "DAGSTER_HOME": str(prepare_dagster_home(settings)),
    }
    stop = StopRequest()
    children = Children(STOP_GRACE_S)
    try:
        for name, args in commands(settings.api_port, settings.sandbox_port, ui_port).items():
            children.start(name, args, dagster_env(env) if name == "dagster" else env)
        click.echo(f"API     http://127.0.0.1:{settings.api_port}/docs")
        click.echo(f"sandbox {sandbox}/sandbox/health")
        click.echo(
            f"mail    smtp://{settings.smtp_host}:{settings.smtp_port}: the notifications sensor dispatches every "
            f"30 s; read the mail in {(settings.data_dir / 'mail' / 'new').resolve()} (one file per message)"
        )
        click.echo(f"Dagster http://127.0.0.1:{ui_port}  (Ctrl-C stops everything)")
        exited = children.wait(stop)
    finally:
        killed = children.stop()
        stop.ignore_further()
    if killed:
        click.echo(f"killed after {STOP_GRACE_S:.0f} s without stopping: {', '.join(killed)}", err=True)
    if exited:
        raise click.ClickException(f"stopped unexpectedly: {', '.join(exited)}")
    click.echo("stopped everything")
