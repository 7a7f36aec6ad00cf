"""What each ``sales_ingest`` task does, as plain functions of (logical date, run id).

The DAG file only wires these together. Settings are read when a task runs, never when
the DAG is parsed, and rejections become ``AirflowFailException`` so Airflow does not
retry what only a fixed input can cure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, time, timedelta
from typing import Any

from salescast.config import Settings
from salescast.deliveries import missing_stores_warning
from salescast.ingest.pipeline import ArchivedFile, archive_raw, check_landing_ready, publish_day, standardize_day
from salescast.lake import Lake, partition_day
from salescast.publish import read_manifest


def landing_readiness(ds: str) -> tuple[bool, list[str], str]:
    settings = Settings.from_env()
    readiness = check_landing_ready(Lake.from_settings(settings), partition_day(ds), settings.landing_settle_seconds)
    return readiness.ready, readiness.files, readiness.detail


def archive_landing(ds: str, files: list[str]) -> list[dict[str, Any]]:
    lake = Lake.from_settings(Settings.from_env())
    return [asdict(a) for a in archive_raw(lake, partition_day(ds), files)]


def validate_landing(ds: str, run_id: str, archived: list[dict[str, Any]]) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowFailException

    settings = Settings.from_env()
    result = standardize_day(
        Lake.from_settings(settings),
        partition_day(ds),
        run_id,
        [ArchivedFile(**a) for a in archived],
        settings.max_bad_row_fraction,
        settings.delivery_rule,
        settings.ingest_memory_mb,
    )
    if not result.healthy:
        raise AirflowFailException(
            f"sales for {ds} rejected, nothing published: {'; '.join(result.problems)}. "
            f"Quarantine: {result.quarantine}. Report: {result.report}"
        )
    return result.to_dict()


def publish_curated(ds: str, run_id: str, result: dict[str, Any]) -> dict[str, Any]:
    lake = Lake.from_settings(Settings.from_env())
    return publish_day(lake, partition_day(ds), run_id, result)


def delivery_check(ds: str, now: datetime | None = None) -> tuple[bool, str]:
    """One look at the published day's missing stores (the ``check_deliveries`` sensor).

    Done at once when every expected store delivered, or when a late file has since been
    re-ingested; while stores are missing it waits until ``SALESCAST_DELIVERY_SETTLE_SECONDS``
    after the end of the day, then sends one alert mail and is done (the day stays published:
    the forecast imputes those stores, it does not read them as zero)."""
    from salescast.ops.alerts import send_mail

    settings = Settings.from_env()
    lake, day = Lake.from_settings(settings), partition_day(ds)
    manifest = read_manifest(lake, lake.curated_dir(day)) or {}
    missing = [s for s in manifest.get("missing_stores") or [] if s not in settings.retired_stores]
    if not missing:
        return True, f"every expected store delivered for {ds}"
    day_end = datetime.combine(day + timedelta(days=1), time(), UTC)
    settled = day_end + timedelta(seconds=settings.delivery_settle_seconds)
    if (now or datetime.now(UTC)) < settled:
        names, until = ", ".join(missing[:20]), f"{settled:%Y-%m-%d %H:%M} UTC"
        return False, f"{len(missing)} store(s) missing for {ds} ({names}); waiting for them until {until}"
    warning = missing_stores_warning(ds, missing)
    sent = send_mail(
        f"[salescast] {len(missing)} store(s) sent no sales for {ds}",
        f"<p>{_html(warning)}</p><p>Partition: {_html(str(lake.curated_dir(day)))}</p>",
        what="missing delivery alert",
    )
    return True, f"{warning} (alert mail {'sent' if sent else 'not sent: see the log'})"


def _html(text: str) -> str:
    from html import escape

    return escape(text)


def drivers_readiness(ds: str, now: datetime | None = None) -> tuple[bool, list[str], str]:
    """One look at ``landing/drivers/D/`` (the ``wait_for_drivers`` sensor): done with its files
    once they are complete (the sales ready rule), or done with none once
    ``SALESCAST_DRIVERS_SETTLE_SECONDS`` after the end of D have passed: drivers come when
    there is news, so a day without a delivery is normal and a backfill does not wait."""
    from salescast.ingest.drivers import FEED

    settings = Settings.from_env()
    return as_of_readiness(settings, ds, FEED, settings.drivers_settle_seconds, "drivers", now)


def as_of_readiness(
    settings: Settings, ds: str, feed: str, settle_seconds: int, what: str, now: datetime | None = None
) -> tuple[bool, list[str], str]:
    """One look at an as-of feed's ``landing/<feed>/D/``: done with its files once they are
    complete, done with none once ``settle_seconds`` after the end of D have passed without a
    file (the feed comes when there is news), else not yet."""
    from salescast.driver_mapping import settle_time

    lake, day = Lake.from_settings(settings), partition_day(ds)
    readiness = check_landing_ready(lake, day, settings.landing_settle_seconds, feed=feed)
    if readiness.ready:
        return True, readiness.files, readiness.detail
    settled = settle_time(day, settle_seconds)
    if (now or datetime.now(UTC)) >= settled and not readiness.files:
        return True, [], f"no {what} delivered as of {ds} by {settled:%Y-%m-%d %H:%M} UTC: nothing to ingest"
    return False, readiness.files, f"{readiness.detail}; waiting until ready"


def ingest_drivers(ds: str, run_id: str, files: list[str]) -> dict[str, Any]:
    """Archive, validate, quarantine and publish the drivers as of D (``files``: what the sensor
    judged complete; none: no delivery, nothing published)."""
    from airflow.sdk.exceptions import AirflowFailException

    from salescast.driver_mapping import DriverMapping
    from salescast.ingest.drivers import DriversRejected, ingest_drivers_day

    settings = Settings.from_env()
    if not files:
        return {"asof": ds, "published_rows": 0, "files": []}
    if settings.drivers_mapping is None:
        raise AirflowFailException("SALESCAST_DRIVERS_MAPPING is not set: drivers are off")
    mapping = DriverMapping.load(settings.drivers_mapping)
    lake = Lake.from_settings(settings)
    try:
        result = ingest_drivers_day(lake, partition_day(ds), run_id, mapping, settings.max_bad_row_fraction, files)
    except DriversRejected as error:
        raise AirflowFailException(str(error)) from error
    return result.to_dict()


def items_readiness(ds: str, now: datetime | None = None) -> tuple[bool, list[str], str]:
    """One look at ``landing/items/D/`` (the ``wait_for_items`` sensor): done with its files once
    they are complete (the sales ready rule), or done with none once
    ``SALESCAST_ITEMS_SETTLE_SECONDS`` after the end of D have passed: the item master comes
    when planners change it, so a day without a delivery is normal and a backfill does not wait."""
    from salescast.item_master import FEED

    settings = Settings.from_env()
    return as_of_readiness(settings, ds, FEED, settings.items_settle_seconds, "item master", now)


def ingest_items(ds: str, run_id: str, files: list[str]) -> dict[str, Any]:
    """Archive, validate, quarantine and publish the item master as of D (``files``: what the
    sensor judged complete; none: no delivery, nothing published)."""
    from salescast.ingest.items import ItemsRejected, ingest_items_day

    if not files:
        return {"asof": ds, "published_items": 0, "published_listings": 0, "files": []}
    return ingest_as_of(ds, run_id, files, ingest_items_day, ItemsRejected)


def ingest_as_of(
    ds: str, run_id: str, files: list[str], ingest_day: Callable[..., Any], rejected: type[Exception]
) -> dict[str, Any]:
    """Run an as-of feed's ``ingest_day(lake, day, run_id, max_bad_fraction, files)``; its
    rejection becomes ``AirflowFailException``: only a fixed input cures it, not a retry."""
    from airflow.sdk.exceptions import AirflowFailException

    settings = Settings.from_env()
    lake = Lake.from_settings(settings)
    try:
        result = ingest_day(lake, partition_day(ds), run_id, settings.max_bad_row_fraction, files)
    except rejected as error:
        raise AirflowFailException(str(error)) from error
    return result.to_dict()


def overrides_readiness(ds: str, now: datetime | None = None) -> tuple[bool, list[str], str]:
    """One look at ``landing/overrides/D/`` (the ``wait_for_overrides`` sensor): done with its
    files once they are complete, or done with none once ``SALESCAST_OVERRIDES_SETTLE_SECONDS``
    after the end of D have passed: planners override on some days only, so a day without a
    delivery is normal and a backfill does not wait."""
    from salescast.overrides import FEED

    settings = Settings.from_env()
    return as_of_readiness(settings, ds, FEED, settings.overrides_settle_seconds, "overrides", now)


def ingest_overrides(ds: str, run_id: str, files: list[str]) -> dict[str, Any]:
    """Archive, validate, quarantine and publish the planner overrides as of D (``files``: what
    the sensor judged complete; none: no delivery, nothing published)."""
    from salescast.ingest.overrides import OverridesRejected, ingest_overrides_day

    if not files:
        return {"asof": ds, "published": 0, "quarantined": 0, "files": []}
    return ingest_as_of(ds, run_id, files, ingest_overrides_day, OverridesRejected)
