"""An ASGI app that builds the real dashboard app on its first request.

Airflow imports every plugin module in the scheduler, the DAG processor and each task
process, not only in the api-server; building the FastAPI app there would import FastAPI,
Jinja and the routes for nothing. This shim imports nothing beyond the standard library.
"""

from __future__ import annotations

import logging
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


class WarmUp:
    """A pass-through root middleware that warms the dashboard when the api-server starts.

    Airflow runs the lifespan of mounted apps only if they are FastAPI instances, which the
    lazy app is not; a root middleware does see the server's ``lifespan`` scope. The warm-up
    (building the app, reading the sales index and the latest run) runs in a daemon thread,
    so startup is not blocked; a request that comes meanwhile waits for the index it needs."""

    def __init__(self, app: ASGIApp, target: LazyApp | None = None) -> None:
        self.app = app
        self.target = target
        self.thread: threading.Thread | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and self.thread is None:
            self.thread = threading.Thread(target=_warm, args=(self.target or dashboard_app,), daemon=True)
            self.thread.start()
        await self.app(scope, receive, send)


def _warm(target: LazyApp) -> None:
    try:
        target.app  # noqa: B018 - builds the FastAPI app (imports, templates) before a user asks
        from salescast.dashboard.app import current_store

        current_store().warm()
    except Exception:  # a lake that is not there yet is not a reason to stop the api-server
        logging.getLogger(__name__).warning("salescast dashboard warm-up failed", exc_info=True)


def _build() -> ASGIApp:
    from salescast.dashboard.app import create_app

    return create_app()


dashboard_app = LazyApp(_build, "salescast.dashboard.app:create_app")
