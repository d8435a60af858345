"""`settle screenshots` without a browser: the pages it photographs, the message when Chromium is
missing, and that every screenshot it takes is committed and shown in the docs. Taking them (a demo,
`settle dev` and Chromium, a few minutes) is `make screenshots`, not part of the test suite."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import browser
from cli.main import main
from cli.screenshots import ROOT, SCREENSHOTS, SHOTS, Shot

DAY = dt.date(2026, 12, 1)


def test_pages_are_the_partition_day_and_the_nightly_run() -> None:
    urls = {shot.file: shot.url("http://127.0.0.1:3123/", DAY, "run-1") for shot in SHOTS}
    assert urls == {
        "nightly-run.png": "http://127.0.0.1:3123/runs/run-1?logs=type%3AASSET_CHECK_EVALUATION",
        "day-statement.png": "http://127.0.0.1:3123/assets/analytics/daily_revenue?view=partitions&partition=2026-12-01",
        "held-back-payees.png": "http://127.0.0.1:3123/assets/payout_batch?view=partitions&partition=2026-12-01",
        "failed-payouts.png": "http://127.0.0.1:3123/assets/payout_submission?view=partitions&partition=2026-12-01",
        "open-breaks.png": "http://127.0.0.1:3123/assets/recon_statement?view=partitions&partition=2026-12-01",
        "metadata-plots.png": "http://127.0.0.1:3123/assets/analytics/daily_revenue?view=overview",
    }
    assert [shot.file for shot in SHOTS if shot.click] == ["metadata-plots.png"]  # the Table/Plots toggle


def test_each_page_waits_for_its_own_metadata() -> None:
    """A screenshot is taken only once the page shows the keys it is there for, never a spinner."""
    assert all(shot.texts for shot in SHOTS)
    assert Shot("x.png", "/assets/x", ("k",)).url("http://h:1", DAY, "r") == "http://h:1/assets/x"


def test_chromium_runs_headless_without_a_sandbox(tmp_path: Path) -> None:
    command = browser.chromium_command("/usr/bin/chromium", 9222, tmp_path)
    assert command[0] == "/usr/bin/chromium"
    assert {"--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=9222"} <= set(command)
    assert f"--user-data-dir={tmp_path}" in command


def test_without_chromium_the_command_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to find
    result = CliRunner().invoke(main, ["screenshots", "--data-dir", str(tmp_path / "scratch")])
    assert result.exit_code == 1
    assert "Chromium is not installed" in result.output
    assert "apt-get install -y chromium" in result.output
    assert not (tmp_path / "scratch").exists()  # refused before anything started


def test_make_screenshots_installs_chromium_only_as_root() -> None:
    target = (ROOT / "Makefile").read_text().split("\nscreenshots:", 1)[1].split("\n\n", 1)[0]
    assert 'command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update' in target
    assert "exit 1" in target and "$(BIN)/settle screenshots" in target
    assert "screenshots" not in (ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]


def test_every_screenshot_is_committed_and_shown_in_the_docs() -> None:
    shown = set(re.findall(r"\(screenshots/([\w-]+\.png)\)", (ROOT / "docs" / "operations.md").read_text()))
    assert shown == {shot.file for shot in SHOTS}
    for shot in SHOTS:
        png = (SCREENSHOTS / shot.file).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) < 400_000, shot.file
