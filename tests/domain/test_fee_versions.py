"""Fee schedule versions: PostgreSQL refuses any change to a version in effect and any version that
would take effect today or earlier (the first seed aside); the domain refuses the same with a code,
carries unset values over, replaces and withdraws future versions, and audits every change."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from domain.fees import schedule, versions
from domain.fees.versions import FeeChange, FeeScheduleError
from domain.platform.database import create_engine
from domain.platform.migrations import upgrade
from domain.platform.settings import Settings

INSERT = sa.text(
    "INSERT INTO fee_schedules (effective_from, platform_fee_bps, gateway_fee_bps, scout_bounty_paise, "
    "min_payout_paise, hold_days) VALUES (:day, 1200, 150, 1000, 10000, 2)"
)


def _today(conn: sa.Connection) -> dt.date:
    """Today in IST as the database's guard sees it."""
    return conn.execute(sa.text("SELECT (now() AT TIME ZONE 'Asia/Kolkata')::date")).scalar_one()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE fee_schedules SET platform_fee_bps = 1200 WHERE effective_from = '2000-01-01'",
        "UPDATE fee_schedules SET effective_from = '2099-01-01' WHERE effective_from = '2000-01-01'",
        "DELETE FROM fee_schedules WHERE effective_from = '2000-01-01'",
    ],
)
def test_a_version_in_effect_is_never_changed(conn: sa.Connection, statement: str) -> None:
    with pytest.raises(sa.exc.DBAPIError, match="fee schedule 1 is in effect since 2000-01-01"):
        conn.execute(sa.text(statement))


def test_fee_schedules_cannot_be_truncated(conn: sa.Connection) -> None:
    with pytest.raises(sa.exc.DBAPIError, match="TRUNCATE refused"):
        conn.execute(sa.text("TRUNCATE fee_schedules CASCADE"))


@pytest.mark.parametrize("days", [0, -1, -400])
def test_a_version_effective_today_or_earlier_is_refused(conn: sa.Connection, days: int) -> None:
    day = _today(conn) + dt.timedelta(days=days)
    with pytest.raises(sa.exc.DBAPIError, match=f"must take effect after today .*effective from {day} refused"):
        conn.execute(INSERT, {"day": day})


def test_a_future_version_may_change_until_it_takes_effect(conn: sa.Connection) -> None:
    today = _today(conn)
    conn.execute(INSERT, {"day": today + dt.timedelta(days=1)})
    conn.execute(sa.text("UPDATE fee_schedules SET platform_fee_bps = 1300 WHERE effective_from > :t"), {"t": today})
    assert schedule.in_effect(conn, today + dt.timedelta(days=1)).platform_fee_bps == 1300
    # But it cannot be moved into effect, to today:
    with pytest.raises(sa.exc.DBAPIError, match="must take effect after today"), conn.begin_nested():
        conn.execute(sa.text("UPDATE fee_schedules SET effective_from = :t WHERE effective_from > :t"), {"t": today})
    deleted = conn.execute(sa.text("DELETE FROM fee_schedules WHERE effective_from > :t"), {"t": today})
    assert deleted.rowcount == 1
    assert [v.effective_from for v in schedule.all_versions(conn)] == [schedule.FIRST_SCHEDULE_DATE]


def test_only_the_first_seed_may_be_dated_in_the_past(make_database, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    url = make_database("fee_seed")
    upgrade(url)
    engine = create_engine(url)
    try:
        refused = pytest.raises(sa.exc.DBAPIError, match="effective from 2000-01-02 refused")
        with engine.connect() as conn, refused, conn.begin():
            conn.execute(INSERT, {"day": dt.date(2000, 1, 2)})  # an empty table, but not the seed's date
        with engine.begin() as conn:
            assert schedule.seed_fee_schedule(conn, settings)
            assert not schedule.seed_fee_schedule(conn, settings)  # seeded once
        with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="effective from 2000-01-01 refused"):
            conn.execute(INSERT, {"day": schedule.FIRST_SCHEDULE_DATE})  # the seed's date, but not empty: refused
    finally:
        engine.dispose()


def test_add_version_carries_unset_values_over_and_audits(conn: sa.Connection) -> None:
    today = _today(conn)
    later = today + dt.timedelta(days=10)
    added = versions.add_version(
        conn, later, FeeChange(platform_fee_bps=1200, min_payout_paise=50_000), today=today, actor="asha"
    )
    assert (added.replaced, added.carried_from.fee_schedule_id) == (False, 1)
    assert added.version.values() == {
        "platform_fee_bps": 1200,
        "gateway_fee_bps": 150,
        "gateway_gst_bps": 1800,
        "scout_bounty_paise": 1000,
        "min_payout_paise": 50_000,
        "hold_days": 2,
    }
    assert schedule.in_effect(conn, later) == added.version
    assert schedule.in_effect(conn, later - dt.timedelta(days=1)).fee_schedule_id == 1  # the day before: version 1
    # A later version carries over from the one in effect on its date: version 2, not the seed.
    further = versions.add_version(
        conn, later + dt.timedelta(days=5), FeeChange(hold_days=0), today=today, actor="asha"
    )
    assert (further.carried_from, further.version.platform_fee_bps, further.version.hold_days) == (
        added.version,
        1200,
        0,
    )
    audited = conn.execute(
        sa.text(
            "SELECT actor, action, target_id, before, after FROM audit_log WHERE target_type = 'fee_schedule' "
            "ORDER BY audit_id"
        )
    ).all()
    assert [(a.actor, a.action, a.target_id, a.before) for a in audited] == [
        ("asha", "fee_schedule.add", str(added.version.fee_schedule_id), None),
        ("asha", "fee_schedule.add", str(further.version.fee_schedule_id), None),
    ]
    assert audited[0].after == {"effective_from": later.isoformat(), **added.version.values()}


def test_replace_and_withdraw_a_future_version(conn: sa.Connection) -> None:
    today = _today(conn)
    later = today + dt.timedelta(days=3)
    first = versions.add_version(conn, later, FeeChange(scout_bounty_paise=2500), today=today, actor="asha").version
    with pytest.raises(FeeScheduleError) as exists:
        versions.add_version(conn, later, FeeChange(scout_bounty_paise=3000), today=today, actor="asha")
    assert exists.value.code == "fee_schedule_exists"
    second = versions.add_version(conn, later, FeeChange(hold_days=1), today=today, actor="asha", replace=True)
    # Replacing carries over from the version replaced: its Rs 25 bounty stays.
    assert (second.replaced, second.carried_from, second.version.scout_bounty_paise) == (True, first, 2500)
    assert [v.effective_from for v in schedule.all_versions(conn)] == [schedule.FIRST_SCHEDULE_DATE, later]
    withdrawn = versions.withdraw_version(conn, later, today=today, actor="asha")
    assert withdrawn == second.version
    assert [v.fee_schedule_id for v in schedule.all_versions(conn)] == [1]
    with pytest.raises(FeeScheduleError) as missing:
        versions.withdraw_version(conn, later, today=today, actor="asha")
    assert missing.value.code == "fee_schedule_not_found"
    actions = conn.execute(sa.text("SELECT action FROM audit_log WHERE target_type = 'fee_schedule' ORDER BY audit_id"))
    assert list(actions.scalars()) == ["fee_schedule.add", "fee_schedule.add", "fee_schedule.withdraw"]
    replaced = conn.execute(
        sa.text("SELECT before FROM audit_log WHERE target_type = 'fee_schedule' ORDER BY audit_id OFFSET 1 LIMIT 1")
    ).scalar_one()
    assert (replaced["fee_schedule_id"], replaced["scout_bounty_paise"]) == (first.fee_schedule_id, 2500)


@pytest.mark.parametrize(
    ("effective_from", "change", "code", "message"),
    [
        (0, FeeChange(platform_fee_bps=1200), "fee_schedule_not_future", "must take effect after today"),
        (-3, FeeChange(platform_fee_bps=1200), "fee_schedule_not_future", "must take effect after today"),
        (1, FeeChange(platform_fee_bps=10_001), "fee_schedule_invalid", "platform_fee_bps must be between 0 and 10000"),
        (1, FeeChange(gateway_gst_bps=-1), "fee_schedule_invalid", "gateway_gst_bps must be between"),
        (1, FeeChange(platform_fee_bps=9_851), "fee_schedule_invalid", "together exceed 100%"),  # + 150 carried
        (1, FeeChange(scout_bounty_paise=-1), "fee_schedule_invalid", "scout_bounty_paise must not be negative"),
        (1, FeeChange(min_payout_paise=0), "fee_schedule_invalid", "min_payout_paise must be at least 1"),
        (1, FeeChange(hold_days=91), "fee_schedule_invalid", "hold_days must be between 0 and 90"),
    ],
)
def test_refusals_change_nothing(
    conn: sa.Connection, effective_from: int, change: FeeChange, code: str, message: str
) -> None:
    today = _today(conn)
    with pytest.raises(FeeScheduleError, match=message) as refused:
        versions.add_version(conn, today + dt.timedelta(days=effective_from), change, today=today, actor="asha")
    assert refused.value.code == code
    assert [v.fee_schedule_id for v in schedule.all_versions(conn)] == [1]
    assert conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE target_type = 'fee_schedule'")).scalar_one() == 0


def test_platform_fee_at_the_bound_is_accepted(conn: sa.Connection) -> None:
    today = _today(conn)
    # 9_850 + 150 = 10_000 bps: the two fees take the whole gross, and no more.
    added = versions.add_version(
        conn, today + dt.timedelta(days=1), FeeChange(platform_fee_bps=9_850), today=today, actor="a"
    )
    assert added.version.platform_fee_bps + added.version.gateway_fee_bps == 10_000


def test_settings_differences_name_the_variables_and_the_values_in_effect(
    conn: sa.Connection, settings: Settings
) -> None:
    today = _today(conn)
    assert schedule.settings_differences(conn, settings, today) == []  # seeded from these very settings
    changed = settings.model_copy(update={"platform_fee_bps": 1200, "hold_days": 3})
    assert schedule.settings_differences(conn, changed, today) == [
        schedule.SettingDifference("PLATFORM_FEE_BPS", 1200, 1000),
        schedule.SettingDifference("HOLD_DAYS", 3, 2),
    ]
    # Compared with the version in effect on the day asked, not with the first seed.
    later = today + dt.timedelta(days=2)
    versions.add_version(conn, later, FeeChange(platform_fee_bps=1200), today=today, actor="asha")
    assert schedule.settings_differences(conn, changed, later) == [schedule.SettingDifference("HOLD_DAYS", 3, 2)]
