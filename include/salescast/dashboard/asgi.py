"""An ASGI app that builds the real dashboard app on its first request.

Airflow imports every plugin module in the scheduler, the DAG processor and each task
process, not only in the api-server; building the FastAPI app there would import FastAPI,
Jinja and the routes for nothing. This shim imports nothing beyond the standard library.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class LazyApp:
    """Calls ``factory()`` once, on the first request (or ``.app`` access), then delegates."""

    def __init__(self, factory: Callable[[], ASGIApp], name: str) -> None:
        self._factory = factory
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()
        self.name = name

    @property
    def app(self) -> ASGIApp:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = self._factory()
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def __repr__(self) -> str:  # what GET /api/v2/plugins shows as the app
        return f"<LazyApp {self.name}>"


def _build() -> ASGIApp:
    from salescast.dashboard.app import create_app

    return create_app()


dashboard_app = LazyApp(_build, "salescast.dashboard.app:create_app")
