/* The Forecasts page: find a series, chart its history with the chosen run's p10/p50/p90
   band and the actuals that arrived after that run (and, when the run used demand drivers,
   its promotion and closure periods, the price and the days of censored demand), download the
   chosen run's planner export for the series the search lists, and show accuracy over time
   (bias among the metrics). */
"use strict";
(() => {
  const { api, base, el, num, pct, card, notice, theme } = salescast;
  const state = { offset: 0, limit: 25, total: 0, store: null, item: null, runDate: null, shownRun: null };
  const exported = { latest: null, runs: null };  // /api/runs: the latest run, the runs with an export
  const form = document.getElementById("search");
  const status = document.getElementById("status");

  function query(extra) {
    const data = new FormData(form);
    const params = new URLSearchParams();
    for (const [key, value] of data.entries()) if (value) params.set(key, value);
    for (const [key, value] of Object.entries(extra || {})) params.set(key, value);
    return params.toString();
  }

  async function loadList() {
    try {
      const page = await api(`/api/series?${query({ limit: state.limit, offset: state.offset })}`);
      state.total = page.total;
      status.textContent = page.run_date ? `latest forecast run ${page.run_date}` : "no forecast run published yet";
      renderList(page);
    } catch (error) { notice(error.message); }
    loadRuns();
  }

  async function loadRuns() {
    try {
      const runs = await api("/api/runs");
      Object.assign(exported, { latest: runs.latest, runs: new Set(runs.exports) });
    } catch (error) { notice(error.message); }
    updateDownload();
  }

  /* The download link: the run shown in the series panel (else the latest) and the search's
     store / item filters, the same rule as the list (/api/forecasts.csv says so too). */
  function updateDownload() {
    const link = document.getElementById("download");
    const what = document.getElementById("download-what");
    const runDate = state.shownRun || exported.latest;
    const data = new FormData(form);
    const params = new URLSearchParams(runDate ? { run_date: runDate } : {});
    const described = [];
    for (const name of ["store", "item"]) {
      const value = data.get(name);
      if (value) { params.set(name, value); described.push(`${name} “${value}”`); }
    }
    const ready = Boolean(runDate && exported.runs && exported.runs.has(runDate));
    link.hidden = !ready;
    link.href = ready ? `${base}/api/forecasts.csv?${params}` : "#";
    if (!runDate) what.textContent = exported.runs ? "no forecast run published yet" : "";
    else if (!ready) what.textContent = exported.runs ? `run ${runDate} has no export (published before runs wrote exports)` : "";
    else what.textContent = `run ${runDate}, ${described.join(", ") || "all series"}`;
  }

  function renderList(page) {
    const body = document.querySelector("#series-table tbody");
    body.replaceChildren(...page.series.map((s) => el("tr", {
      className: `pick${s.store_id === state.store && s.item_id === state.item ? " selected" : ""}`,
      onclick: () => selectSeries(s.store_id, s.item_id, null),
    }, el("td", {}, s.store_id), el("td", {}, s.item_id), el("td", { className: "num" }, num(s.volume, 0)),
      el("td", {}, s.model || "–"), el("td", { className: "num" }, num(s.mean_wql, 3)),
      el("td", { className: "num" }, num(s.wape, 3)), el("td", { className: "num" }, num(s.safety_stock, 1)))));
    const last = Math.min(page.offset + page.limit, page.total);
    document.getElementById("page").textContent = page.total ? `${page.offset + 1}–${last} of ${page.total}` : "no series";
    document.getElementById("prev").disabled = page.offset === 0;
    document.getElementById("next").disabled = last >= page.total;
  }

  async function selectSeries(store, item, runDate) {
    Object.assign(state, { store, item, runDate });
    const params = new URLSearchParams({ store_id: store, item_id: item });
    if (runDate) params.set("run_date", runDate);
    history.replaceState(null, "", `#${params}`);
    try {
      notice("");
      renderSeries(await api(`/api/series/detail?${params}`));
    } catch (error) { notice(error.message); }
    document.querySelectorAll("#series-table tbody tr").forEach((row) => {
      row.classList.toggle("selected", row.cells[0].textContent === store && row.cells[1].textContent === item);
    });
  }

  function renderSeries(detail) {
    document.getElementById("series-title").textContent = `${detail.store_id} · ${detail.item_id}`;
    const select = document.getElementById("run-date");
    select.replaceChildren(...[...detail.run_dates].reverse().map((d) => el("option", { value: d, selected: d === detail.run_date }, d)));
    select.disabled = detail.run_dates.length === 0;
    state.shownRun = detail.run_date;
    updateDownload();
    drawSeries(detail);
    const d = detail.drivers;
    const used = document.getElementById("drivers-used");
    used.hidden = !d;
    used.textContent = !d ? "" : d.drivers_used.length
      ? `drivers used by ${d.model || "the chosen model"}: ${d.drivers_used.join(", ")}`
      : `no drivers used by ${d.model || "the chosen model"} (the run had: ${d.names.join(", ") || "none"})`;
    const m = detail.metrics;
    card(document.getElementById("model-card"), "Model and backtest", m && [
      ["chosen model", m.model || "–"], ["why", m.reason || "–"], ["mean wQL", num(m.mean_wql, 3)],
      ["WAPE", num(m.wape, 3)], ["MASE", num(m.mase, 3)], ["p10-p90 coverage", pct(m.coverage)],
      ["backtest windows", num(m.n_windows, 0)],
    ]);
    const s = detail.safety_stock;
    card(document.getElementById("safety-card"), "Safety stock", s && [
      ["safety stock", num(s.safety_stock, 1)], ["reorder point", num(s.reorder_point, 1)],
      ["lead time (days)", num(s.lead_time, 0)], ["service level", pct(s.service_level)],
      ["lead-time demand", num(s.lead_time_demand, 1)], ["method", s.method || "–"],
    ]);
    const f = detail.forecast;
    const scores = f && f.scores;
    const runCard = document.getElementById("run-card");
    card(runCard, `Run ${detail.run_date || ""} vs actuals`, f && [
      ["days arrived", scores ? `${scores.points} of ${f.dates.length}` : `0 of ${f.dates.length}: all still ahead`],
      ["WAPE", num(scores && scores.wape, 3)], ["mean wQL", num(scores && scores.mean_wql, 3)],
      ["p10-p90 coverage", pct(scores && scores.coverage)],
    ]);
    if (f && !scores && detail.scored_run && detail.scored_run !== detail.run_date) {
      // the newest run's days lie ahead: offer the newest run that can be scored
      runCard.append(el("dd", { className: "offer" }, el("button", {
        type: "button", id: "scored-run", onclick: () => selectSeries(state.store, state.item, detail.scored_run),
      }, `show run ${detail.scored_run} vs its actuals`)));
    }
    const rows = (m && m.candidates) || [];
    document.querySelector("#candidates tbody").replaceChildren(...rows.map((c) => el("tr", { className: c.chosen ? "selected" : "" },
      el("td", {}, c.model + (c.chosen ? " (chosen)" : "")), el("td", { className: "num" }, num(c.mean_wql, 3)),
      el("td", { className: "num" }, num(c.wape, 3)), el("td", { className: "num" }, num(c.mase, 3)),
      el("td", { className: "num" }, pct(c.coverage)), el("td", { className: "num" }, num(c.points, 0)))));
  }

  const FLAG_COLORS = { promo: "rgba(221,107,32,0.18)", event: "rgba(128,90,213,0.18)" };
  const MORE_COLORS = ["rgba(49,151,149,0.18)", "rgba(214,158,46,0.22)", "rgba(213,63,140,0.15)"];
  const CLOSED_COLOR = "rgba(113,128,150,0.35)";
  const CENSORED = "censored (out of stock / closed)";
  const DAY_MS = 86400000;

  // runs of consecutive days with value 1, as [first, last] day pairs
  function periods(dates, values) {
    const out = [];
    dates.forEach((day, i) => {
      if (values[i] !== 1) return;
      const last = out[out.length - 1];
      if (last && Date.parse(day) - Date.parse(last[1]) === DAY_MS) last[1] = day;
      else out.push([day, day]);
    });
    return out;
  }

  // a day's band reaches from the noon before it to the noon after it: adjacent days meet
  function noon(day, sign) {
    return new Date(Date.parse(day) + sign * DAY_MS / 2).toISOString().slice(0, 16).replace("T", " ");
  }

  function shaded(dates, values, name, fillcolor) {
    return periods(dates, values).map(([first, last], i) => ({
      type: "rect", xref: "x", yref: "paper", x0: noon(first, -1), x1: noon(last, 1), y0: 0, y1: 1,
      fillcolor, line: { width: 0 }, layer: "below", name, legendgroup: name, showlegend: i === 0,
    }));
  }

  /* With drivers: promotion-like flags and closures shaded, censored days (closed, out of
     stock) out of the sales line and drawn as hollow markers, the price on a right axis. */
  function driverParts(detail) {
    const d = detail.drivers;
    const parts = { shapes: [], sales: detail.history.units, traces: [], price: null };
    if (!d) return parts;
    Object.entries(d.flags).forEach(([name, values], i) => {
      parts.shapes.push(...shaded(d.dates, values, name, FLAG_COLORS[name] || MORE_COLORS[i % MORE_COLORS.length]));
    });
    if (d.closed) parts.shapes.push(...shaded(d.dates, d.closed, "store closed", CLOSED_COLOR));
    const censored = new Set(d.censored);
    if (censored.size) {
      const days = detail.history.dates.map((day, i) => [day, detail.history.units[i]]).filter(([day]) => censored.has(day));
      parts.sales = detail.history.units.map((units, i) => (censored.has(detail.history.dates[i]) ? null : units));
      parts.traces.push({ x: days.map((a) => a[0]), y: days.map((a) => a[1]), name: CENSORED, mode: "markers",
        marker: { symbol: "circle-open", size: 9, color: "#a0aec0", line: { width: 2 } },
        hovertemplate: "%{y} recorded: demand unknown<extra>censored</extra>" });
    }
    if (d.price) {
      parts.price = { x: d.dates, y: d.price, name: "price", yaxis: "y2", mode: "lines", line: { shape: "hv", width: 1.5, color: "#2f855a" } };
    }
    return parts;
  }

  function drawSeries(detail) {
    const drivers = driverParts(detail);
    const traces = [{ x: detail.history.dates, y: drivers.sales, name: "sales", mode: "lines", line: { width: 1, color: "#718096" } }, ...drivers.traces];
    const f = detail.forecast;
    const shapes = [...drivers.shapes];
    if (f) {
      traces.push(
        { x: f.dates, y: f.p10, name: "p10", mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "x+y+name" },
        { x: f.dates, y: f.p90, name: "p10–p90", mode: "lines", fill: "tonexty", fillcolor: "rgba(11,107,203,0.2)", line: { width: 0 } },
        { x: f.dates, y: f.p50, name: `p50 (${f.model})`, mode: "lines+markers", line: { color: "#0b6bcb", dash: "dot" } },
      );
      const arrived = f.dates.map((d, i) => [d, f.actual[i]]).filter(([, y]) => y !== null);
      if (arrived.length) {
        traces.push({ x: arrived.map((a) => a[0]), y: arrived.map((a) => a[1]), name: "actual after the run",
          mode: "markers", marker: { color: "#c05621", size: 8, symbol: "diamond" } });
      }
      shapes.push({ type: "line", xref: "x", yref: "paper", x0: detail.run_date, x1: detail.run_date, y0: 0, y1: 1, line: { dash: "dash", width: 1, color: "#a0aec0" } });
    }
    const end = f ? f.dates[f.dates.length - 1] : detail.history.dates[detail.history.dates.length - 1];
    const start = detail.history.dates[Math.max(0, detail.history.dates.length - 120)];
    const layout = Object.assign(theme(), {
      shapes, hovermode: "x unified",
      xaxis: { type: "date", range: start && end ? [start, end] : undefined, rangeslider: { thickness: 0.08 } },
      yaxis: { title: { text: "units" }, rangemode: "tozero" },
    });
    if (detail.drivers) {  // more legend entries: room for a second row above the plot
      layout.margin = Object.assign({}, layout.margin, { t: 50 });
      layout.legend = Object.assign({}, layout.legend, { y: 1.22 });
    }
    if (drivers.price) {
      traces.push(drivers.price);
      layout.yaxis2 = { title: { text: "price" }, overlaying: "y", side: "right", rangemode: "tozero", showgrid: false };
      layout.margin = Object.assign({}, layout.margin, { r: 60 });
    }
    Plotly.react("chart", traces, layout, { responsive: true, displaylogo: false });
  }

  async function loadAccuracy() {
    try {
      const data = await api("/api/accuracy");
      drawAccuracy(data);
      document.getElementById("accuracy-metric").onchange = () => drawAccuracy(data);
    } catch (error) { notice(error.message); }
  }

  // bias as a signed share of what sold, said in words: a planner reads "ran high", not a sign
  function bias(value) {
    if (value === null || value === undefined) return "–";
    const share = `${value > 0 ? "+" : ""}${(100 * value).toFixed(1)}%`;
    return value > 0 ? `${share} (ran high)` : value < 0 ? `${share} (ran low)` : share;
  }

  function drawLatest(data) {
    const line = document.getElementById("accuracy-latest");
    const r = data.runs[data.runs.length - 1];
    line.hidden = !r;
    if (!r) return;
    line.textContent = `Newest run with actuals, ${r.run_date} (${num(r.points, 0)} points): mean wQL ${num(r.mean_wql, 3)} · `
      + `WAPE ${num(r.wape, 3)} · p10-p90 coverage ${pct(r.coverage)} · bias ${bias(r.bias)}`;
  }

  function drawAccuracy(data) {
    const metric = document.getElementById("accuracy-metric").value;
    drawLatest(data);
    document.getElementById("bias-legend").hidden = metric !== "bias";
    const runs = { x: data.runs.map((r) => r.run_date), y: data.runs.map((r) => r[metric]), name: "all steps", mode: "lines+markers" };
    const level = { coverage: 0.8, bias: 0 }[metric];  // the target coverage; no bias
    const target = level === undefined ? [] : [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: level, y1: level, line: { dash: "dot", color: "#a0aec0" } }];
    const yaxis = metric === "bias" ? { tickformat: "+.0%", title: { text: "bias: above 0 ran high" }, zeroline: true } : {};
    Plotly.react("accuracy-runs", [runs], Object.assign(theme(), { title: { text: "per run date", font: { size: 13 } }, shapes: target, yaxis, xaxis: { type: "category", title: { text: "run date" } } }), { responsive: true, displaylogo: false });
    const steps = [...new Set(data.rows.map((r) => r.horizon_step))].sort((a, b) => a - b);
    const traces = steps.map((step) => {
      const rows = data.rows.filter((r) => r.horizon_step === step);
      return { x: rows.map((r) => r.run_date), y: rows.map((r) => r[metric]), name: `step ${step}`, mode: "lines+markers" };
    });
    Plotly.react("accuracy-steps", traces, Object.assign(theme(), { title: { text: "per horizon step", font: { size: 13 } }, shapes: target, yaxis, xaxis: { type: "category", title: { text: "run date" } } }), { responsive: true, displaylogo: false });
  }

  // Store and category totals of the newest run and forecast value added per run (/api/planning:
  // the SQL views themselves, run over the lake).
  function totalsTable(id, label, rows) {
    const cells = rows.map((r) => [r.name === null ? "(not in the item master)" : r.name, num(r.sum_p50, 1),
      r.days_known ? num(r.sum_p50_known, 1) : "–", r.days_known ? num(r.actual, 1) : "–"]);
    const table = document.getElementById(id);
    table.replaceChildren(
      el("thead", {}, el("tr", {}, [label, "p50, horizon", "p50, days sold", "sold"].map((h) => el("th", {}, h)))),
      el("tbody", {}, cells.map((row) => el("tr", {}, row.map((c) => el("td", {}, c))))));
  }

  async function loadPlanning() {
    try {
      const data = await api("/api/planning");
      document.getElementById("planning-run").textContent = data.run_date ? `Run ${data.run_date}.` : "No forecast run is published yet.";
      totalsTable("planning-stores", "store", data.stores);
      totalsTable("planning-categories", "category", data.categories);
      const x = data.fva.map((r) => r.run_date);
      const traces = [
        { x, y: data.fva.map((r) => r.fva_statistical), name: "statistical vs seasonal naive", mode: "lines+markers" },
        { x, y: data.fva.map((r) => r.fva_overrides), name: "overrides vs statistical", mode: "lines+markers" },
      ];
      Plotly.react("planning-fva", traces, Object.assign(theme(), { title: { text: "forecast value added (WAPE points)", font: { size: 13 } },
        yaxis: { tickformat: "+.0%", zeroline: true }, xaxis: { type: "category", title: { text: "run date" } } }), { responsive: true, displaylogo: false });
    } catch (error) { notice(error.message); }
  }

  let typing = null;
  form.addEventListener("input", () => { updateDownload(); clearTimeout(typing); typing = setTimeout(() => { state.offset = 0; loadList(); }, 250); });
  form.addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("prev").onclick = () => { state.offset = Math.max(0, state.offset - state.limit); loadList(); };
  document.getElementById("next").onclick = () => { state.offset += state.limit; loadList(); };
  document.getElementById("run-date").onchange = (event) => selectSeries(state.store, state.item, event.target.value);

  const linked = new URLSearchParams(location.hash.slice(1));
  loadList().then(() => {
    if (linked.get("store_id") && linked.get("item_id")) {
      selectSeries(linked.get("store_id"), linked.get("item_id"), linked.get("run_date"));
    } else {
      const first = document.querySelector("#series-table tbody tr");
      if (first) first.click();
    }
  });
  loadAccuracy();
  loadPlanning();
})();
