"""Headless Chromium (Debian's `chromium` package) driven over the DevTools protocol: open a page, wait
until it shows a text, click a button, photograph the viewport.

`chromium --screenshot` alone photographs whatever is on screen when its time budget ends, a loading
spinner included, and cannot click (the Dagster UI's plots sit behind a Table/Plots toggle); waiting
for a page's own text is what makes a screenshot show the data.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import requests
from websockets.sync.client import ClientConnection, connect

from cli.processes import free_port

INSTALL_HINT = (
    "Chromium is not installed. Install Debian's package as root (apt-get install -y chromium), or run "
    "`make screenshots` as root, which installs it."
)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--mute-audio")
WAIT_S = 90.0
POLL_S = 0.5


def find_chromium() -> str:
    """The chromium executable on PATH, or a ClickException saying how to install it."""
    found = shutil.which("chromium")
    if found is None:
        raise click.ClickException(INSTALL_HINT)
    return found


def chromium_command(executable: str, port: int, profile: Path) -> list[str]:
    return [executable, *FLAGS, f"--remote-debugging-port={port}", f"--user-data-dir={profile}", "about:blank"]


class Page:
    """One browser tab over its DevTools websocket: each command waits for its own answer."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:  # events arrive between answers; only our answer counts
            message = json.loads(self.socket.recv())
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def open(self, url: str, width: int, height: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        self.call("Page.navigate", url=url)

    def wait_for_text(self, *texts: str) -> None:
        """Until the page's visible text contains every one of `texts`."""
        check = " && ".join(f"document.body.innerText.includes({json.dumps(text)})" for text in texts)
        self.wait_until(f"!!document.body && {check}", ", ".join(texts))

    def wait_until(self, expression: str, what: str, timeout_s: float = WAIT_S) -> None:
        """Until `expression` is true in the page; `what` names it in the error."""
        deadline = time.monotonic() + timeout_s
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise click.ClickException(f"the page never showed {what}")
            time.sleep(POLL_S)

    def click_button(self, label: str) -> None:
        script = (
            f"(() => {{ const b = [...document.querySelectorAll('button')].find(b => b.innerText.trim() === "
            f"{json.dumps(label)}); if (b) b.click(); return !!b; }})()"
        )
        if not self.evaluate(script):
            raise click.ClickException(f"no button {label!r} on the page")

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))


def _page_socket(port: int, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(f"chromium exited with {process.returncode}")
        with contextlib.suppress(requests.RequestException, ValueError):
            targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=1).json()
            pages = [t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page"]
            if pages:
                return str(pages[0])
        time.sleep(0.2)
    raise click.ClickException("chromium did not open its DevTools port")


@contextlib.contextmanager
def browser(executable: str) -> Iterator[Page]:
    """A headless Chromium with a throwaway profile, stopped (and its profile removed) afterwards."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="settle-chromium-") as profile:
        process = subprocess.Popen(
            chromium_command(executable, port, Path(profile)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its renderers and zygote in one group, stopped together
        )
        try:
            with connect(_page_socket(port, process), max_size=None) as socket:
                page = Page(socket)
                page.call("Page.enable")
                yield page
        finally:
            _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
