"""Versioned Jinja2 templates, one set per event and channel, in `templates/<channel>/`.

A template set is `<event>.v<N>.<part>.j2`: email has `subject`, `txt` and `html` parts, in-app a
`subject` (its title) and `txt`. The highest version is the one sent; earlier versions stay so any
delivery can be rendered again exactly as it went out (its row names the version). HTML parts are
autoescaped, every template is strict (an unknown variable is an error), and money is rendered by
one filter, `rupees`, from integer paise.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from domain.money import format_rupees
from domain.platform.clock import IST

TEMPLATE_DIR = Path(__file__).parent / "templates"
PARTS = {"email": ("subject", "txt", "html"), "in_app": ("subject", "txt")}
_NAME = re.compile(r"^(?P<event>[a-z_]+)\.v(?P<version>[0-9]+)\.(?P<part>[a-z]+)\.j2$")


class TemplateMissing(LookupError):
    """An event has no template for a channel: a test catches it before any send could."""


@dataclass(frozen=True, slots=True)
class Rendered:
    template: str
    subject: str
    text: str
    html: str | None


def display_date(value: dt.datetime | dt.date | str) -> str:
    """A date or time as finance reads it: the IST calendar day, `01 Dec 2026`."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        value = value.astimezone(IST).date()
    return value.strftime("%d %b %Y")


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["rupees"] = format_rupees
    env.filters["ist_date"] = display_date
    return env


@cache
def latest_versions() -> dict[tuple[str, str], int]:
    """(channel, event) -> the highest version with every part of its channel present."""
    found: dict[tuple[str, str, int], set[str]] = {}
    for path in TEMPLATE_DIR.glob("*/*.j2"):
        match = _NAME.match(path.name)
        if match:
            key = (path.parent.name, match["event"], int(match["version"]))
            found.setdefault(key, set()).add(match["part"])
    latest: dict[tuple[str, str], int] = {}
    for (channel, event, version), parts in found.items():
        if set(PARTS.get(channel, ())) <= parts and version > latest.get((channel, event), 0):
            latest[(channel, event)] = version
    return latest


def render(event_type: str, channel: str, context: dict[str, Any], version: int | None = None) -> Rendered:
    """Render the event's template set for the channel (its latest version unless one is named)."""
    version = version or latest_versions().get((channel, event_type))
    if version is None:
        raise TemplateMissing(f"no {channel} template for {event_type}")
    name = f"{event_type}.v{version}"
    env = environment()
    parts = {part: env.get_template(f"{channel}/{name}.{part}.j2").render(context) for part in PARTS[channel]}
    subject = " ".join(parts["subject"].split())
    return Rendered(f"{channel}/{name}", subject, parts["txt"].strip() + "\n", parts.get("html"))
