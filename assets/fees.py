"""Fee schedules in Dagster: finance adds a version effective from a future IST date, and asks what a
range of days would have settled under a draft schedule. The work is in `domain.fees.versions` and
`domain.analytics.fee_what_if`.
"""

import datetime as dt

import dagster as dg
from pydantic import Field

from assets.resources import PostgresResource
from domain import money
from domain.analytics import fee_what_if
from domain.fees import versions
from domain.fees.schedule import FEE_FIELDS, FeeSchedule
from domain.platform.clock import ist_date
from domain.platform.errors import DomainError


class AddFeeScheduleConfig(dg.Config):
    """A new version; a value left unset is carried over from the version in effect on that date."""

    effective_from: str = Field(description="IST date (YYYY-MM-DD) from which it applies; after today.")
    platform_fee_bps: int | None = None
    gateway_fee_bps: int | None = None
    gateway_gst_bps: int | None = None
    scout_bounty_paise: int | None = None
    min_payout_paise: int | None = None
    hold_days: int | None = None
    replace: bool = Field(default=False, description="Replace the future version of that date, if any.")
    actor: str = "finance"


class FeeWhatIfConfig(dg.Config):
    """A draft schedule (unset: each order's own rate) and the IST days (capture days) to recompute."""

    from_date: str = Field(description="First IST day (YYYY-MM-DD).")
    to_date: str = Field(description="Last IST day (YYYY-MM-DD), included.")
    platform_fee_bps: int | None = None
    gateway_fee_bps: int | None = None
    scout_bounty_paise: int | None = None


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise dg.Failure(f"not an ISO date: {text!r}") from None


def _version_table(schedule: FeeSchedule) -> str:
    rows = "\n".join(f"| {name} | {value} |" for name, value in schedule.values().items())
    return f"| effective from | {schedule.effective_from} |\n|---|---:|\n{rows}"


@dg.op(
    description="Add a fee schedule version effective from a future IST date (values not given carry over "
    "from the version in effect then). A version in effect is never changed."
)
def add_fee_schedule_op(
    context: dg.OpExecutionContext, config: AddFeeScheduleConfig, db: PostgresResource
) -> dg.Output[dict[str, object]]:
    change = versions.FeeChange(**{name: getattr(config, name) for name in FEE_FIELDS})
    today = ist_date(dt.datetime.now(dt.UTC))
    try:
        with db.begin() as conn:
            added = versions.add_version(
                conn, _date(config.effective_from), change, today=today, actor=config.actor, replace=config.replace
            ).version
    except DomainError as exc:
        raise dg.Failure(f"{exc.code}: {exc.message}") from None
    context.log.info(f"fee schedule {added.fee_schedule_id} effective from {added.effective_from}: {added.values()}")
    summary: dict[str, object] = {"fee_schedule_id": added.fee_schedule_id, "effective_from": str(added.effective_from)}
    return dg.Output(
        {**summary, **added.values()}, metadata={"version": dg.MetadataValue.md(_version_table(added)), **summary}
    )


@dg.op(
    description="Recompute the settlement of a range of days under a draft fee schedule, read-only, and write "
    "the comparison with what was settled to analytics.fee_what_if. Nothing is posted."
)
def fee_what_if_op(
    context: dg.OpExecutionContext, config: FeeWhatIfConfig, db: PostgresResource
) -> dg.Output[dict[str, int]]:
    draft = fee_what_if.DraftSchedule(config.platform_fee_bps, config.gateway_fee_bps, config.scout_bounty_paise)
    try:
        comparisons = fee_what_if.run_what_if(
            db.engine, context.run_id, draft, _date(config.from_date), _date(config.to_date)
        )
    except DomainError as exc:
        raise dg.Failure(f"{exc.code}: {exc.message}") from None
    totals = fee_what_if.totals(comparisons)
    context.log.info(f"fee what-if over {len(comparisons)} days: {totals}")
    metadata: dict[str, dg.RawMetadataValue] = {
        "comparison": dg.MetadataValue.md(fee_what_if.markdown(comparisons)),
        "days": len(comparisons),
        **{name: dg.MetadataValue.int(value) for name, value in totals.items()},
        "platform_fee_diff": money.format_rupees(totals["platform_fee_diff_paise"]),
    }
    return dg.Output(totals, metadata=metadata)


ASSETS: list[dg.AssetsDefinition] = []
CHECKS: list[dg.AssetChecksDefinition] = []
