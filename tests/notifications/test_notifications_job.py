"""The Dagster side: the sensor launches a dispatch when notifications are due, and the job delivers them."""

from __future__ import annotations

import dagster as dg
import pytest

from assets.resources import PostgresResource
from pipelines.definitions import defs
from pipelines.sensors import notifications_sensor
from tests.notifications.test_dispatch import write_statements


def _sensor(url: str, instance: dg.DagsterInstance) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, resources={"db": PostgresResource(url=url)}) as context:
        result = notifications_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_the_sensor_launches_a_dispatch_and_the_job_delivers(
    notify_url, notify_engine, notify_settings, add_user, mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "DATABASE_URL": notify_url,
        "SMTP_HOST": notify_settings.smtp_host,
        "SMTP_PORT": str(notify_settings.smtp_port),
        "SMTP_PASSWORD": "",
        "ENVIRONMENT": "test",
    }.items():
        monkeypatch.setenv(name, value)
    with dg.instance_for_test() as instance:
        assert _sensor(notify_url, instance).skip_reason.skip_message == "no notification is due"  # type: ignore[union-attr]
        write_statements(notify_engine, [add_user(email="asha@example.in")])
        (request,) = _sensor(notify_url, instance).run_requests or []
        assert request.run_key is not None and request.run_key.startswith("notifications-")
        unfinished = instance.create_run_for_job(job_def=defs.resolve_job_def("dispatch_notifications"))
        assert _sensor(notify_url, instance).skip_reason.skip_message == "a notifications dispatch is still in progress"  # type: ignore[union-attr]
        instance.report_run_canceled(unfinished)

        result = defs.resolve_job_def("dispatch_notifications").execute_in_process(instance=instance)

        assert result.output_for_node("dispatch_notifications_op") == {"routed": 1, "sent": 2, "suppressed": 0}
        assert [message["To"] for message in mailbox.messages] == ["asha@example.in"]
        assert _sensor(notify_url, instance).skip_reason.skip_message == "no notification is due"  # type: ignore[union-attr]
