"""`settle ledger verify`: rebuild the books from the raw facts and compare them with the live books
(`domain.books.replay`). Exits 1 when any entry, line, balance or subledger row differs."""

from __future__ import annotations

import json

import click

from cli.context import settings_or_exit
from domain.books.replay import Verification, verify_books
from domain.platform.database import create_engine, database_url


@click.group()
def ledger() -> None:
    """Verify the ledger and the subledger."""


@ledger.command()
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@click.option("--limit", type=click.IntRange(0, 10_000), default=20, show_default=True, help="Differences shown.")
def verify(as_json: bool, limit: int) -> None:
    """Replay every night and event into scratch tables and compare them with the books; nothing is written."""
    engine = create_engine(database_url(settings_or_exit()))
    try:
        result = verify_books(engine, limit=limit)
    finally:
        engine.dispose()
    click.echo(json.dumps(result.as_dict(), indent=2, sort_keys=True, default=str) if as_json else _text(result))
    if not result.passed:
        raise SystemExit(1)


def _text(result: Verification) -> str:
    counts = dict(result.compared)
    main = [f"{counts.pop(kind, 0)} {label}" for kind, label in (("entry", "entries"), ("line", "lines"),
                                                                 ("balance", "balances"))]  # fmt: skip
    skipped = ", ".join(f"{count} {kind} entries" for kind, count in result.not_compared.items()) or "nothing"
    lines = [
        f"Ledger replay: {result.steps_replayed} nightly steps replayed",
        f"Compared: {', '.join(main)}; subledger: " + ", ".join(f"{count} {kind}" for kind, count in counts.items()),
        f"Not compared: {skipped}",
    ]
    if result.passed:
        return "\n".join([*lines, "Differences: none"])
    lines.append(f"Differences: {result.differences}")
    lines += [f"  {kind:<28} {count}" for kind, count in result.differences_by_kind.items()]
    lines.append(f"First {len(result.first_differences)}:")
    for difference in result.first_differences:
        fields = f" ({', '.join(difference.fields)})" if difference.fields else ""
        lines.append(f"  {difference.kind:<28} {difference.id}{fields}")
        shown = difference.fields or None
        lines.append(f"      replay {_facts(difference.replay, shown)}  live {_facts(difference.live, shown)}")
    return "\n".join(lines)


def _facts(facts: dict[str, object] | None, fields: list[str] | None) -> str:
    """A side's facts: only the fields that differ, when some do."""
    if facts is None:
        return "-"
    return json.dumps({k: v for k, v in facts.items() if fields is None or k in fields}, sort_keys=True, default=str)
