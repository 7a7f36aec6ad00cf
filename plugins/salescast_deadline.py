"""The deadline-alert callback of ``sales_forecast`` (``salescast.ops.deadline``).

Airflow awaits it in the triggerer, which imports it by its path
``salescast_deadline.forecast_deadline_missed``; the plugins folder is on every component's
sys.path (the dags folder is not on the triggerer's). Light on purpose: Airflow imports every
module in plugins/ in every component.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def forecast_deadline_missed(context: dict[str, Any] | None = None, **kwargs: Any) -> str:
    """Checking the lake and sending the mail block, so they run in a thread: the
    triggerer's event loop keeps serving the other triggers meanwhile."""
    from salescast.ops.deadline import handle_missed_deadline

    return await asyncio.to_thread(handle_missed_deadline, context or {})
