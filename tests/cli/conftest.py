"""One `settle demo` day for the whole session: the demo test reads its output, the backup and replay
tests its database. Run once, it costs the suite one demo (about 40 s), not three."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.demo import DEMO_DATABASE
from cli.main import main
from domain.platform.database import with_database


@dataclass(frozen=True)
class DemoDay:
    url: str
    output: str
    exit_code: int
    data_dir: Path


def _print(message: Warning | str, category: type[Warning], filename: str, lineno: int, file=None, line=None) -> None:  # type: ignore[no-untyped-def]
    """Python's own way of showing a warning: on stderr, which the CLI runner captures."""
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


@contextmanager
def as_from_a_shell(patch: pytest.MonkeyPatch) -> Iterator[None]:
    """Warnings as a person running `settle demo` would see them: Python's default filters instead of
    pytest's (which record warnings rather than show them), and the Dagster definitions imported anew,
    as in a fresh process, so the warnings raised while they load are raised again."""
    for name in [name for name in sys.modules if name.partition(".")[0] in ("assets", "pipelines")]:
        patch.delitem(sys.modules, name)
    with warnings.catch_warnings():
        warnings.resetwarnings()
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", category)
        warnings.showwarning = _print
        yield


@pytest.fixture(scope="session")
def demo_day(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> DemoDay:
    """`settle demo --orders 60 --seed 3` as from a shell, in a directory and DATA_DIR of its own."""
    home = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch, as_from_a_shell(patch):
        patch.chdir(home)
        patch.setattr(os, "environ", os.environ.copy())  # the nightly runner exports its resources
        patch.setenv("DATABASE_URL", database_url)
        patch.setenv("DATA_DIR", str(home / "data"))
        result = CliRunner().invoke(main, ["demo", "--orders", "60", "--seed", "3"])
    return DemoDay(with_database(database_url, DEMO_DATABASE), result.output, result.exit_code, home / "data")
