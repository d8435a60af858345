"""The notification templates: one complete set per route, rendered exactly as the snapshots say.

Every (event, channel) of the routing table has a complete latest template set and no template
exists for anything not routed. Each route is rendered from one realistic payload per event (with
exactly the keys of its catalogue TypedDict) and compared, subject, text and HTML, with the files in
`tests/notifications/snapshots/<channel>/<event>.v<N>.{subject,txt,html}`. A set that users and
finance both receive on one channel is rendered for each: the user's rendering is the plain
snapshot, finance's is `<event>.v<N>.finance.<part>`.

After changing a template, regenerate the snapshots and read the diff before committing:

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/notifications/test_templates.py

The context is the dispatcher's (`domain.notifications.dispatch._context`): the payload's keys plus
`event_type`, `recipient_name` (the user's name, or "Finance") and `created_at`. Pure: no database.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import types
import typing
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, get_type_hints

import jinja2
import pytest

from domain.notifications.dispatch import Claimed, _context
from domain.notifications.routing import ROUTES, Route
from domain.notifications.templates import PARTS, TEMPLATE_DIR, TemplateMissing, environment, latest_versions, render
from domain.outbox.events import CATALOGUE

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
TEMPLATE_NAME = re.compile(r"^(?P<event>[a-z_]+)\.v(?P<version>[0-9]+)\.(?P<part>[a-z]+)\.j2$")

CREATED_AT = dt.datetime(2026, 12, 1, 21, 0, tzinfo=dt.UTC)  # 02 Dec 2026, 02:30 IST

ORDER = "ord_0193d4a1f2c47b6e5a4c3b2a1f0e9d8c"
STRAY_ORDER = "ord_0193d39b7e2a4c1d9f8e7d6c5b4a3f21"
REFUND = "rfd_0193d8b7e1c94f0a8d7c6b5a4e3f2d1c"
STRAY_REFUND = "rfd_0193d8c2a5e64b3c9d8e7f6a5b4c3d2e"
PAYOUT = "pay_0193dac0d2e14b7f9a8e7d6c5b4a3f2e"
SELLER = "usr_01939f0a1b2c4d5e6f708192a3b4c5d6"
RECRUIT = "usr_0193a0c1d2e3f405162738495a6b7c8d"
WITHDRAWAL = "wdr_0193da31b2c3d4e5f60718293a4b5c6d"

BUYER_NAME, SELLER_NAME, SCOUT_NAME = "Ravi Kumar", "Asha Traders", "Meera Iyer"

EXAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "payment_succeeded": (BUYER_NAME, {"order_id": ORDER, "amount_paise": 249900}),
    "payment_failed": (BUYER_NAME, {"order_id": ORDER, "amount_paise": 249900}),
    "order_status_changed": (BUYER_NAME, {"order_id": ORDER, "previous_status": "paid", "status": "delivered"}),
    "payment_anomaly": (
        "Finance",
        {"webhook_event_id": 48213, "order_id": ORDER, "reason": "amount_mismatch"},
    ),
    "payment_unconfirmed": (
        "Finance",
        {
            "order_id": ORDER,
            "amount_paise": 249900,
            "reason": "amount_mismatch",
            "gateway_state": "COMPLETED",
            "gateway_amount_paise": 239900,
            "attempts": 3,
        },
    ),
    "scout_bounty_earned": (SCOUT_NAME, {"recruit_id": RECRUIT, "order_id": ORDER, "amount_paise": 1000}),
    "payout_requested": (SCOUT_NAME, {"scout_payout_request_id": WITHDRAWAL, "amount_paise": 5000}),
    "payout_completed": (
        SELLER_NAME,
        {
            "payout_id": PAYOUT,
            "payee_type": "seller",
            "payee_id": SELLER,
            "amount_paise": 2768250,
            "status": "completed",
            "failure_reason": None,
        },
    ),
    "payout_cancelled": (
        SELLER_NAME,
        {
            "payout_id": PAYOUT,
            "payee_type": "seller",
            "payee_id": SELLER,
            "amount_paise": 2768250,
            "status": "cancelled",
            "failure_reason": "cancelled by finance-ops: payee is changing bank account",
        },
    ),
    "payout_failed": (
        SELLER_NAME,
        {
            "payout_id": PAYOUT,
            "payee_type": "seller",
            "payee_id": SELLER,
            "amount_paise": 2768250,
            "status": "failed",
            "failure_reason": "beneficiary bank is offline",
        },
    ),
    "payout_reversed": (
        SELLER_NAME,
        {
            "payout_id": PAYOUT,
            "payee_type": "seller",
            "payee_id": SELLER,
            "amount_paise": 2768250,
            "status": "reversed",
            "failure_reason": "beneficiary account is closed",
        },
    ),
    "refund_requested": (
        BUYER_NAME,
        {
            "refund_id": REFUND,
            "order_id": ORDER,
            "amount_paise": 120000,
            "status": "requested",
            "reason": "item_damaged",
            "failure_reason": None,
        },
    ),
    "refund_approval_needed": (
        "Finance",
        {
            "refund_id": REFUND,
            "order_id": ORDER,
            "amount_paise": 120000,
            "approval_reasons": ["above_threshold", "order_settled"],
        },
    ),
    "refund_approved": (
        BUYER_NAME,
        {
            "refund_id": REFUND,
            "order_id": ORDER,
            "amount_paise": 120000,
            "status": "approved",
            "reason": "item_damaged",
            "failure_reason": None,
        },
    ),
    "refund_rejected": (
        BUYER_NAME,
        {
            "refund_id": REFUND,
            "order_id": ORDER,
            "amount_paise": 120000,
            "status": "rejected",
            "reason": "item_not_as_described",
            "failure_reason": None,
        },
    ),
    "refund_completed": (
        BUYER_NAME,
        {
            "refund_id": REFUND,
            "order_id": ORDER,
            "amount_paise": 120000,
            "platform_fee_reversed_paise": 12000,
            "seller_debit_paise": 108000,
        },
    ),
    "refund_failed": (
        BUYER_NAME,
        {
            "refund_id": REFUND,
            "order_id": ORDER,
            "amount_paise": 120000,
            "status": "failed",
            "reason": "item_damaged",
            "failure_reason": "rejected by the gateway: 400 BAD_REQUEST",
        },
    ),
    "refund_stuck": (
        "Finance",
        {
            "refund_id": REFUND,
            "order_id": ORDER,
            "amount_paise": 120000,
            "gateway_state": "PENDING",
            "submitted_at": "2026-11-28T21:15:00+00:00",
        },
    ),
    "stray_payment_refunded": (
        "Finance",
        {"order_id": STRAY_ORDER, "order_status": "cancelled", "amount_paise": 89900, "refund_id": STRAY_REFUND},
    ),
    "settlement_statement": (
        SELLER_NAME,
        {
            "settlement_date": "2026-12-01",
            "statement_id": f"2026-12-01:{SELLER}",
            "orders": 14,
            "gross_paise": 3250000,
            "platform_fee_paise": 325000,
            "gateway_fee_paise": 48750,
            "net_paise": 2876250,
            "refunds": 1,
            "refund_paise": 120000,
            "clawback_paise": 108000,
            "payout_id": PAYOUT,
            "payout_paise": 2768250,
            "balance_paise": 0,
        },
    ),
    "ledger_audit_failed": (
        "Finance",
        {
            "audit_id": 312,
            "from_entry_id": 1204551,
            "through_entry_id": 1209880,
            "problems": ["entries_balance", "payables_equal_owed_items_and_held_captures"],
        },
    ),
    "recon_breaks_found": (
        "Finance",
        {
            "report_date": "2026-12-01",
            "report_id": 87,
            "version": 2,
            "new_exceptions": 3,
            "classes": {"missing_in_books": 1, "amount_mismatch": 2},
            "difference_paise": -12345,
        },
    ),
    "notification_undelivered": (
        "Finance",
        {
            "delivery_id": 90412,
            "notification_id": 77310,
            "event_type": "payout_completed",
            "recipient": SELLER,
            "channel": "email",
            "attempts": 8,
            "last_error": "550 5.1.1 mailbox unavailable",
        },
    ),
}

IN_APP_OPTIONAL_IDS = {
    "payee_id": "the reader's own id",
    "statement_id": "a statement is named by its date",
}
"""Ids an in-app message may leave out; every email names every id of its payload."""

HEADLESS_HTML: set[tuple[str, int]] = set()
"""Template sets whose HTML page has no <head> (charset and title): a later version adds one."""


# -- helpers ----------------------------------------------------------------------------------------


def context(
    event: str, recipient_name: str, payload: dict[str, Any] | None = None, role: str | None = None
) -> dict[str, Any]:
    """The dispatcher's context. The payload's own keys win: notification_undelivered's payload names
    the undelivered event as `event_type` (see test_dispatch_context_keeps_the_payloads_event_type)."""
    values = EXAMPLES[event][1] if payload is None else payload
    audience = "finance" if recipient_name == "Finance" else "user"
    return {
        "event_type": event,
        "audience": audience,
        "recipient_role": role,
        "recipient_name": recipient_name,
        "created_at": CREATED_AT,
        **values,
    }


def recipient_of(route: Route) -> str:
    return "Finance" if route.audience == "finance" else EXAMPLES[route.event_type][0]


def render_route(route: Route, payload: dict[str, Any] | None = None, version: int | None = None) -> Any:
    values = context(route.event_type, recipient_of(route), payload)
    return render(route.event_type, route.channel, values, version)


def versions_of(channel: str, event: str) -> list[int]:
    """Every version of a set, not only the latest: a delivery can be rendered again as it went out."""
    names = (TEMPLATE_NAME.match(path.name) for path in (TEMPLATE_DIR / channel).glob(f"{event}.v*.j2"))
    return sorted({int(match["version"]) for match in names if match and match["event"] == event})


def snapshot_stem(route: Route, version: int) -> str:
    """`<event>.v<N>`, with `.finance` for finance's rendering of a set users also receive."""
    shared = any(
        other.audience == "user"
        for other in ROUTES
        if (other.event_type, other.channel) == (route.event_type, route.channel)
    )
    suffix = ".finance" if route.audience == "finance" and shared else ""
    return f"{route.event_type}.v{version}{suffix}"


def rendered_parts(route: Route, version: int) -> dict[str, str]:
    rendered = render_route(route, version=version)
    parts = {"subject": rendered.subject + "\n", "txt": rendered.text}
    if route.channel == "email":
        parts["html"] = rendered.html + "\n"
    return parts


def route_id(route: Route) -> str:
    return f"{route.channel}/{route.event_type}/{route.audience}"


def optional_keys(event: str) -> list[str]:
    hints = get_type_hints(CATALOGUE[event].payload)
    return sorted(key for key, hint in hints.items() if type(None) in typing.get_args(hint))


def conforms(value: Any, hint: Any) -> bool:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    if origin is list:
        return isinstance(value, list) and all(conforms(item, args[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(conforms(k, args[0]) and conforms(v, args[1]) for k, v in value.items())
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


class _HtmlChecker(HTMLParser):
    VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.seen: list[str] = []
        self.doctype = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


ROUTE_PARAMS = [pytest.param(route, id=route_id(route)) for route in ROUTES]
NULL_ROUTES = [pytest.param(route, id=route_id(route)) for route in ROUTES if optional_keys(route.event_type)]
VERSION_PARAMS = [
    pytest.param(route, version, id=f"{route_id(route)}/v{version}")
    for route in ROUTES
    for version in versions_of(route.channel, route.event_type)
]
EMAIL_VERSION_PARAMS = [
    pytest.param(route, version, id=f"{route_id(route)}/v{version}")
    for route in ROUTES
    if route.channel == "email"
    for version in versions_of(route.channel, route.event_type)
]
ROUTED_SETS = sorted({(route.channel, route.event_type) for route in ROUTES})


# -- the sets that exist --------------------------------------------------------------------------


@pytest.mark.parametrize(("channel", "event"), [pytest.param(*key, id="/".join(key)) for key in ROUTED_SETS])
def test_every_route_has_a_complete_latest_template_set(channel: str, event: str) -> None:
    version = latest_versions().get((channel, event))
    assert version is not None, f"missing template set: ({channel}, {event}) needs {PARTS[channel]}"
    for part in PARTS[channel]:
        assert (TEMPLATE_DIR / channel / f"{event}.v{version}.{part}.j2").is_file()


def test_no_stray_or_incomplete_templates() -> None:
    sets: dict[tuple[str, str, int], set[str]] = {}
    strays = []
    for path in sorted(TEMPLATE_DIR.rglob("*")):
        if path.is_dir():
            continue
        relative = path.relative_to(TEMPLATE_DIR)
        match = TEMPLATE_NAME.match(path.name)
        channel = relative.parts[0]
        if len(relative.parts) != 2 or match is None or channel not in PARTS or match["part"] not in PARTS[channel]:
            strays.append(str(relative))
        elif (channel, match["event"]) not in ROUTED_SETS:
            strays.append(f"{relative} (({channel}, {match['event']}) is not routed)")
        else:
            sets.setdefault((channel, match["event"], int(match["version"])), set()).add(match["part"])
    assert strays == []
    incomplete = {key: sorted(parts) for key, parts in sets.items() if parts != set(PARTS[key[0]])}
    assert incomplete == {}


# -- the example payloads --------------------------------------------------------------------------


def test_there_is_one_example_per_catalogue_event() -> None:
    assert sorted(EXAMPLES) == sorted(CATALOGUE)


@pytest.mark.parametrize("event", sorted(CATALOGUE))
def test_example_payload_is_exactly_the_catalogue_shape(event: str) -> None:
    payload = EXAMPLES[event][1]
    hints = get_type_hints(CATALOGUE[event].payload)
    assert set(payload) == set(hints) == CATALOGUE[event].payload_keys
    assert {key: value for key, value in payload.items() if not conforms(value, hints[key])} == {}


# -- snapshots ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("route", "version"), VERSION_PARAMS)
def test_rendering_matches_its_snapshot(route: Route, version: int) -> None:
    parts = rendered_parts(route, version)
    stem = snapshot_stem(route, version)
    for part, content in parts.items():
        path = SNAPSHOTS / route.channel / f"{stem}.{part}"
        if UPDATE:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        assert path.is_file(), f"no snapshot {path.relative_to(SNAPSHOTS)}: run with UPDATE_SNAPSHOTS=1"
        assert content == path.read_text(encoding="utf-8"), f"{path.relative_to(SNAPSHOTS)} differs"


def test_every_snapshot_belongs_to_a_route() -> None:
    expected = {
        f"{route.channel}/{snapshot_stem(route, version)}.{part}"
        for route in ROUTES
        for version in versions_of(route.channel, route.event_type)
        for part in ("subject", "txt", "html")[: len(PARTS[route.channel])]
    }
    found = {str(path.relative_to(SNAPSHOTS)) for path in SNAPSHOTS.rglob("*") if path.is_file()}
    assert sorted(found - expected) == []
    assert sorted(expected - found) == []


@pytest.mark.parametrize(("route", "version"), VERSION_PARAMS)
def test_rendering_is_clean(route: Route, version: int) -> None:
    rendered = render_route(route, version=version)
    outputs = [rendered.subject, rendered.text] + ([rendered.html] if rendered.html is not None else [])
    assert rendered.template == f"{route.channel}/{route.event_type}.v{version}"
    assert (rendered.html is None) == (route.channel == "in_app")
    assert rendered.subject == rendered.subject.strip() and "\n" not in rendered.subject
    assert 0 < len(rendered.subject) <= 90
    assert rendered.text.endswith("\n") and not rendered.text.endswith("\n\n")
    assert [line for line in rendered.text.splitlines() if line != line.rstrip()] == []
    assert "\n\n\n" not in rendered.text
    for output in outputs:
        assert "None" not in output
        assert not re.search(r"\{\{|\}\}|\{%|%\}", output)
    if route.channel == "in_app":
        assert rendered.text.count("\n") == 1


@pytest.mark.parametrize(("route", "version"), EMAIL_VERSION_PARAMS)
def test_html_is_a_simple_valid_page(route: Route, version: int) -> None:
    html = render_route(route, version=version).html
    checker = _HtmlChecker()
    checker.feed(html)
    checker.close()
    assert checker.doctype
    assert checker.errors == []
    assert checker.stack == []
    if (route.event_type, version) in HEADLESS_HTML:
        assert checker.seen[:2] == ["html", "body"]
    else:
        assert checker.seen[:4] == ["html", "head", "meta", "title"]
        assert checker.seen.count("title") == 1
    assert checker.seen.count("body") == 1
    assert not re.search(r"\b(src|href)=|<(script|link|img|style)\b", html)


@pytest.mark.parametrize("route", ROUTE_PARAMS)
def test_every_message_names_its_ids(route: Route) -> None:
    rendered = render_route(route)
    payload = EXAMPLES[route.event_type][1]
    ids = {key: str(value) for key, value in payload.items() if key.endswith("_id") and value is not None}
    if route.channel == "in_app":
        ids = {key: value for key, value in ids.items() if key not in IN_APP_OPTIONAL_IDS}
    shown = f"{rendered.subject}\n{rendered.text}"
    assert [key for key, value in ids.items() if value not in shown] == []
    if rendered.html is not None:
        assert [key for key, value in ids.items() if value not in rendered.html] == []


# -- None values -------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", NULL_ROUTES)
def test_none_values_render_sensibly(route: Route) -> None:
    payload = {**EXAMPLES[route.event_type][1], **dict.fromkeys(optional_keys(route.event_type))}
    rendered = render_route(route, payload)
    for output in (rendered.subject, rendered.text, rendered.html or ""):
        assert "None" not in output
        assert not re.search(r" \(\s*\)|\s[.,;]", output)


@pytest.mark.parametrize(
    ("event", "channel", "audience", "values", "line"),
    [
        ("payment_anomaly", "email", "finance", {"order_id": None}, "Order           none named by the event"),
        ("payment_unconfirmed", "email", "finance", {"gateway_state": None}, "PhonePe state    no answer"),
        (
            "payment_unconfirmed",
            "email",
            "finance",
            {"gateway_amount_paise": None},
            "PhonePe amount   not reported",
        ),
        ("payout_failed", "email", "user", {"failure_reason": None}, "Reason   none given"),
        ("payout_reversed", "email", "finance", {"failure_reason": None}, "Reason   none given"),
        ("refund_failed", "email", "finance", {"failure_reason": None}, "Reason   none given"),
        ("refund_stuck", "email", "finance", {"gateway_state": None}, "PhonePe state   not reported"),
        ("settlement_statement", "email", "user", {"payout_id": None}, "No payout today."),
        ("notification_undelivered", "email", "finance", {"last_error": None}, "Last error     none recorded"),
        (
            "payout_failed",
            "in_app",
            "user",
            {"failure_reason": None},
            f"Payout {PAYOUT} of Rs 27,682.50 has failed. The amount is back in your balance and is paid again in a "
            "later payout.",
        ),
    ],
)
def test_a_none_value_has_its_own_words(
    event: str, channel: str, audience: str, values: dict[str, Any], line: str
) -> None:
    route = Route(event, audience, channel, CATALOGUE[event].category, CATALOGUE[event].critical)  # type: ignore[arg-type]
    assert route in ROUTES
    rendered = render_route(route, {**EXAMPLES[event][1], **values})
    assert line in rendered.text.splitlines()


# -- escaping and subjects ---------------------------------------------------------------------------

SCRIPT = '<script>alert("x")</script>'


def test_html_is_escaped_and_text_is_verbatim() -> None:
    payload = {**EXAMPLES["payment_anomaly"][1], "reason": SCRIPT}
    rendered = render("payment_anomaly", "email", context("payment_anomaly", "Finance", payload))
    assert rendered.html is not None
    assert "<tr><td>Reason</td><td>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</td></tr>" in rendered.html
    assert "<script" not in rendered.html
    assert f"Reason          {SCRIPT}" in rendered.text.splitlines()
    assert rendered.subject == f"Alert: payment anomaly {SCRIPT} (webhook event 48213)"


def test_the_recipient_name_is_escaped_in_html() -> None:
    rendered = render("payment_succeeded", "email", context("payment_succeeded", "Tom & <Jerry>"))
    assert rendered.html is not None
    assert "<p>Hello Tom &amp; &lt;Jerry&gt;,</p>" in rendered.html
    assert rendered.text.startswith("Hello Tom & <Jerry>,\n")


@pytest.mark.parametrize(
    ("event", "channel", "values", "subject"),
    [
        (
            "payment_anomaly",
            "email",
            {"reason": "amount\nmismatch\r\n\tagain "},
            "Alert: payment anomaly amount mismatch again (webhook event 48213)",
        ),
        ("order_status_changed", "in_app", {"status": "\npartially\nrefunded\n"}, "Order partially refunded"),
        (
            "notification_undelivered",
            "email",
            {"event_type": "payout_\ncompleted", "recipient": "usr_1\n\n"},
            "Alert: undelivered payout_ completed email to usr_1",
        ),
    ],
)
def test_a_subject_is_one_line(event: str, channel: str, values: dict[str, Any], subject: str) -> None:
    recipient = "Finance" if "finance" in CATALOGUE[event].audiences else EXAMPLES[event][0]
    rendered = render(event, channel, context(event, recipient, {**EXAMPLES[event][1], **values}))
    assert rendered.subject == subject


# -- strictness ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "channel", "missing"),
    [
        ("payment_succeeded", "email", "amount_paise"),
        ("payment_succeeded", "in_app", "order_id"),
        ("order_status_changed", "in_app", "previous_status"),
        ("payout_failed", "email", "failure_reason"),
        ("refund_approval_needed", "email", "approval_reasons"),
        ("recon_breaks_found", "email", "classes"),
        ("settlement_statement", "in_app", "payout_id"),
        ("ledger_audit_failed", "email", "created_at"),
        ("refund_completed", "email", "recipient_name"),
    ],
)
def test_a_missing_key_is_an_error(event: str, channel: str, missing: str) -> None:
    values = context(event, "Finance")
    del values[missing]
    with pytest.raises(jinja2.UndefinedError, match=missing):
        render(event, channel, values)


@pytest.mark.parametrize(
    ("event", "channel"),
    [
        ("no_such_event", "email"),
        ("no_such_event", "in_app"),
        ("order_status_changed", "email"),
        ("payment_succeeded", "sms"),
    ],
)
def test_an_event_without_a_template_is_template_missing(event: str, channel: str) -> None:
    with pytest.raises(TemplateMissing, match=f"no {channel} template for {event}"):
        render(event, channel, {"recipient_name": "Finance", "created_at": CREATED_AT})


# -- amounts and dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paise", "text"),
    [
        (0, "Rs 0.00"),
        (1, "Rs 0.01"),
        (99, "Rs 0.99"),
        (100, "Rs 1.00"),
        (123450, "Rs 1,234.50"),
        (2768250, "Rs 27,682.50"),
        (100000000, "Rs 1,000,000.00"),
        (-5, "-Rs 0.05"),
        (-12345, "-Rs 123.45"),
        (-2768250, "-Rs 27,682.50"),
    ],
)
def test_rupees(paise: int, text: str) -> None:
    assert environment().filters["rupees"](paise) == text
    assert environment().from_string("{{ amount | rupees }}").render(amount=paise) == text


def test_a_negative_balance_in_the_statement() -> None:
    payload = {**EXAMPLES["settlement_statement"][1], "payout_id": None, "payout_paise": 0, "balance_paise": -12345}
    email = render("settlement_statement", "email", context("settlement_statement", SELLER_NAME, payload))
    lines = email.text.splitlines()
    assert "Balance after the day   -Rs 123.45" in lines
    assert (
        "Your balance is negative: refunds took back more than you earned. It is netted from your next sales" in lines
    )
    assert email.html is not None
    assert '<td align="right"><strong>-Rs 123.45</strong></td>' in email.html
    in_app = render("settlement_statement", "in_app", context("settlement_statement", SELLER_NAME, payload))
    assert in_app.text.endswith(" Balance -Rs 123.45.\n")


def test_a_negative_reconciliation_difference() -> None:
    rendered = render("recon_breaks_found", "email", context("recon_breaks_found", "Finance"))
    assert "with a net difference of -Rs 123.45 (reported minus expected):" in rendered.text.replace("\n", " ")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2026-12-01", "01 Dec 2026"),
        (dt.date(2026, 12, 1), "01 Dec 2026"),
        (dt.datetime(2026, 11, 30, 18, 30, tzinfo=dt.UTC), "01 Dec 2026"),
        (dt.datetime(2026, 11, 30, 18, 29, 59, tzinfo=dt.UTC), "30 Nov 2026"),
        ("2026-11-28T21:15:00+00:00", "29 Nov 2026"),
        ("2026-11-28T21:15:00+05:30", "28 Nov 2026"),
    ],
)
def test_ist_date(value: Any, text: str) -> None:
    assert environment().filters["ist_date"](value) == text


# -- the dispatcher's context --------------------------------------------------------------------------


def test_dispatch_context_keeps_the_payloads_event_type() -> None:
    payload = EXAMPLES["notification_undelivered"][1]
    claimed = Claimed(
        delivery_id=1,
        notification_id=2,
        recipient="finance",
        channel="email",
        address="finance@example.in",
        attempts=0,
        event_type="notification_undelivered",
        audience="finance",
        payload=payload,
        created_at=CREATED_AT,
        name=None,
        role=None,
    )
    assert _context(claimed) == context("notification_undelivered", "Finance")


def test_a_refund_tells_the_buyer_when_and_the_seller_what_it_cost() -> None:
    buyer = render("refund_completed", "email", context("refund_completed", "Ravi", role="buyer"))
    seller = render("refund_completed", "email", context("refund_completed", "Asha Traders", role="seller"))
    assert "Taken from the seller" not in buyer.text and "up to 5 working days" in buyer.text
    assert "Taken from the seller" in seller.text and "comes off your balance" in seller.text
