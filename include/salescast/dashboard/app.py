"""The dashboard's FastAPI app, mounted by ``plugins/salescast_plugin.py`` under ``/salescast``.

Airflow protects its own API, not a plugin's app: every route here depends on the core API's
security dependencies, so a request needs a logged-in Airflow user (JWT in the ``_token``
cookie the UI sets, or an ``Authorization: Bearer`` header) and read access to the DAG whose
outputs it shows: anonymous gets 401, a user without the permission 403.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import quote

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from salescast.config import Settings
from salescast.dashboard import dagruns, exports, jsonable, params, planning, search
from salescast.dashboard.params import BadRequest, NotFound
from salescast.dashboard.store import SORTS, DashboardStore, store_for

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
# Lake HTML (run reports, GX pages) is our own output, but it carries ids from source files:
# no script may run in it, whatever it holds.
LAKE_HTML_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
NO_STORE = {"Cache-Control": "no-store"}  # a re-run replaces a run's outputs: never keep an old copy
PAGE_HEADERS = NO_STORE | {"Content-Security-Policy": "frame-ancestors 'self'"}
SortName = Literal["volume", "wql", "wape", "safety_stock", "series"]
assert set(get_args(SortName)) == set(SORTS)  # the route's choices are the store's


def current_store() -> DashboardStore:
    settings = Settings.from_env()
    return store_for(settings.lake_uri, settings.aws_conn_id, settings.drivers_mapping)


def plotly_js() -> Path:
    """plotly.js as bundled in the plotly wheel (found without importing plotly)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("plotly is not installed: pip install -r requirements.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"


def static_files() -> dict[str, Path]:
    files = {p.name: p for p in STATIC.iterdir() if p.is_file()}
    return files | {"plotly.min.js": plotly_js()}


def base_path(request: Request) -> str:
    """Where this app is mounted, as the browser sees it (``/salescast``, or below
    ``[api] base_url``'s path): pages build their links from it."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def templates() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
    )


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = request.app.state.templates.get_template(name).render(base=base_path(request), **context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def run_ref(dag_id: str, run_id: str) -> dagruns.RunRef:
    from airflow.configuration import conf

    params.dag_id(dag_id)
    params.run_id(run_id, conf.get("scheduler", "allowed_run_id_pattern").strip())
    if dag_id not in (dagruns.INGEST, dagruns.FORECAST):
        raise NotFound(f"salescast shows runs of {dagruns.INGEST} and {dagruns.FORECAST}, not of {dag_id}")
    return dagruns.find_run(dag_id, run_id)


def _error(request: Request, status_code: int, message: str) -> Response:
    if "/api/" in request.url.path:
        return JSONResponse({"detail": message}, status_code=status_code)
    return page(request, "error.html", status_code=status_code, message=message)


def create_app() -> FastAPI:
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView, DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag, requires_access_view, requires_authenticated

    # no /docs, /redoc or /openapi.json: they would be routes without the dependencies below
    app = FastAPI(
        title="salescast dashboard",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(requires_authenticated())],
    )
    app.state.templates = templates()
    forecasts = [Depends(requires_access_dag("GET", DagAccessEntity.RUN, param_dag_id=dagruns.FORECAST))]
    runs = [Depends(requires_access_dag("GET", DagAccessEntity.RUN))]  # the path's {dag_id}
    assets = [Depends(requires_access_view(AccessView.PLUGINS))]  # who may see plugin pages at all
    add_page_routes(app, forecasts, assets)
    add_forecast_api(app, forecasts)
    add_run_routes(app, runs)
    app.add_exception_handler(BadRequest, lambda request, error: _error(request, 400, str(error)))
    app.add_exception_handler(NotFound, lambda request, error: _error(request, 404, str(error)))
    return app


def add_page_routes(app: FastAPI, forecasts: list, assets: list) -> None:
    files = static_files()

    @app.get("/", dependencies=forecasts)
    def home(request: Request) -> RedirectResponse:
        return RedirectResponse(f"{base_path(request)}/forecasts")

    @app.get("/forecasts", dependencies=forecasts, response_class=HTMLResponse)
    def forecasts_page(request: Request) -> HTMLResponse:
        return page(request, "forecasts.html")

    @app.get("/static/{name}", dependencies=assets)
    def static(name: str) -> FileResponse:
        params.file_name(name, sorted(files))
        return FileResponse(files[name], headers={"Cache-Control": "private, max-age=3600"})


def add_forecast_api(app: FastAPI, forecasts: list) -> None:
    @app.get("/api/runs", dependencies=forecasts)
    def runs() -> dict[str, Any]:
        return current_store().runs()

    @app.get("/api/series", dependencies=forecasts)
    def series(
        q: str | None = None,
        store: str | None = None,
        item: str | None = None,
        sort: SortName = "volume",
        order: Literal["asc", "desc"] | None = None,
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0, le=10_000_000),
    ) -> JSONResponse:
        descending = None if order is None else order == "desc"
        return JSONResponse(
            current_store().series_list(search.filters(q, store, item), sort, descending, limit, offset)
        )

    @app.get("/api/forecasts.csv", dependencies=forecasts)
    def forecasts_csv(
        run_date: str | None = None, q: str | None = None, store: str | None = None, item: str | None = None
    ) -> StreamingResponse:
        """The run's planner export (the latest run's without ``run_date``), only the series the
        list shows for the same filters, streamed."""
        chosen = search.filters(q, store, item)
        dashboard = current_store()
        day = params.run_date(run_date) or dashboard.runs()["latest"]
        if day is None:
            raise NotFound("no forecast run is published yet")
        body = exports.export_csv(dashboard.lake, day, chosen)
        disposition = f'attachment; filename="{exports.download_name(day, chosen)}"'
        return StreamingResponse(
            body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition} | NO_STORE
        )

    @app.get("/api/series/detail", dependencies=forecasts)
    def series_detail(
        store_id: str | None = None, item_id: str | None = None, run_date: str | None = None
    ) -> JSONResponse:
        store_id, item_id = params.series_id("store_id", store_id), params.series_id("item_id", item_id)
        return JSONResponse(current_store().series_detail(store_id, item_id, params.run_date(run_date)))

    @app.get("/api/accuracy", dependencies=forecasts)
    def accuracy() -> JSONResponse:
        return JSONResponse(current_store().accuracy())

    @app.get("/api/planning", dependencies=forecasts)
    def planning_totals(run_date: str | None = None) -> JSONResponse:
        """Store, category and total p50 and actuals of a run, and forecast value added per run."""
        return JSONResponse(jsonable.clean(planning.planning(current_store().lake, params.run_date(run_date))))


def add_run_routes(app: FastAPI, runs: list) -> None:
    @app.get("/dags/{dag_id}/runs/{run_id}", dependencies=runs, response_class=HTMLResponse)
    def run_page(request: Request, dag_id: str, run_id: str) -> HTMLResponse:
        ref = run_ref(dag_id, run_id)
        return page(request, "run.html", dag_id=ref.dag_id, run_id=ref.run_id, day=ref.day.isoformat())

    @app.get("/api/dags/{dag_id}/runs/{run_id}", dependencies=runs)
    def run_overview(dag_id: str, run_id: str) -> JSONResponse:
        return JSONResponse(dagruns.overview(current_store().lake, run_ref(dag_id, run_id)))

    @app.get("/api/dags/{dag_id}/runs/{run_id}/quarantine", dependencies=runs)
    def quarantine(
        dag_id: str, run_id: str, limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0)
    ) -> JSONResponse:
        ref = ingest_ref(dag_id, run_id)
        return JSONResponse(dagruns.quarantine_page(current_store().lake, ref, limit, offset))

    @app.get("/api/dags/{dag_id}/runs/{run_id}/quarantine.csv", dependencies=runs)
    def quarantine_csv(dag_id: str, run_id: str) -> StreamingResponse:
        ref = ingest_ref(dag_id, run_id)
        disposition = f'attachment; filename="{dagruns.csv_name(ref)}"'
        body = dagruns.quarantine_csv(current_store().lake, ref)
        return StreamingResponse(
            body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
        )

    @app.get("/dags/{dag_id}/runs/{run_id}/files/{name}", dependencies=runs)
    def report_file(dag_id: str, run_id: str, name: str) -> Response:
        ref = run_ref(dag_id, run_id)
        lake = current_store().lake
        name = params.file_name(name, dagruns.report_files(lake, ref))
        body = (dagruns.report_folder(lake, ref) / name).read_bytes()
        kind = dagruns.media_type(name)
        if kind is None:
            return Response(body, media_type="application/octet-stream", headers={"Content-Disposition": "attachment"})
        return Response(body, media_type=kind, headers={"Content-Security-Policy": LAKE_HTML_CSP})

    @app.get("/dags/{dag_id}/runs/{run_id}/raw/{name}", dependencies=runs)
    def raw_file(dag_id: str, run_id: str, name: str) -> StreamingResponse:
        ref = ingest_ref(dag_id, run_id)
        files = {p.name: p for p in dagruns.raw_files(current_store().lake, ref)}
        name = params.file_name(name, sorted(files))
        disposition = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
        headers = {"Content-Disposition": disposition, "Content-Security-Policy": LAKE_HTML_CSP}
        return StreamingResponse(
            dagruns.read_chunks(files[name]), media_type="application/octet-stream", headers=headers
        )


def ingest_ref(dag_id: str, run_id: str) -> dagruns.RunRef:
    ref = run_ref(dag_id, run_id)
    if ref.dag_id != dagruns.INGEST:
        raise NotFound(f"quarantine and raw files belong to {dagruns.INGEST} runs, not {dag_id}")
    return ref
