/* The DAG-run tab: sales_forecast -> the run's summary and report; sales_ingest -> the
   validation result, this run's quarantined rows (paged, CSV) and the archived raw files. */
"use strict";
(() => {
  const { base, api, el, clip, num, pct, card, notice, theme } = salescast;
  const dagId = document.body.dataset.dagId;
  const runId = document.body.dataset.runId;
  const runPath = `/dags/${encodeURIComponent(dagId)}/runs/${encodeURIComponent(runId)}`;
  const main = document.getElementById("run");
  const PAGE = 50;
  const CLIP_RAW = 240;

  function panel(title, ...children) { return el("section", { className: "panel" }, el("h2", {}, title), ...children); }
  function dl(title, pairs) { const node = el("dl", { className: "card" }); card(node, title, pairs); return node; }
  // text cells are clipped (common.js: clip); the table scrolls inside its panel, never the page
  function table(head, rows, numeric = []) {
    const cell = (c) => (typeof c === "string" ? clip(c) : c);
    return el("div", { className: "scroll" }, el("table", { className: "list" },
      el("thead", {}, el("tr", {}, head.map((h, i) => el("th", { className: numeric.includes(i) ? "num" : null }, h)))),
      el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c, i) => el("td", { className: numeric.includes(i) ? "num" : null }, cell(c))))))));
  }
  function fileLink(name) { return el("a", { href: `${base}${runPath}/files/${encodeURIComponent(name)}`, target: "_blank", rel: "noopener" }, name); }

  function replacedNote(published, what) {
    if (published && !published.by_this_run) {
      return el("p", { className: "notice" }, `The published ${what} of this day now come from run ${published.run_id} (a later run of the same day replaced this run's).`);
    }
    return null;
  }

  // What the planners' overrides did to this run (forecasts_final): applied, and why others were not.
  function overridesBlock(ov) {
    if (!ov) return null;
    const skipped = Object.entries(ov.not_applied || {});
    return el("div", { id: "overrides" },
      el("div", { className: "cards" }, dl("Overrides (final forecast)", [["considered", num(ov.considered, 0)], ["applied", num(ov.applied, 0)],
        ["rows changed", num(ov.rows_changed, 0)], ["series changed", num(ov.series_changed, 0)]])),
      skipped.length ? el("ul", { className: "notice" }, skipped.map(([reason, n]) =>
        el("li", {}, `${num(n, 0)} not applied: ${reason} (e.g. ${((ov.examples || {})[reason] || []).join(", ")})`))) : null);
  }

  function renderForecast(o) {
    const s = o.summary;
    if (!s) { main.append(panel("Nothing published", el("p", {}, `Run ${o.run_id} left no forecast summary for ${o.day}: it failed or has not published yet.`))); return; }
    const bake = s.bake_off || {};
    const naive = (s.per_model || {}).seasonal_naive || {};
    const ss = s.safety_stock || {};
    main.append(panel("Summary",
      o.outputs_of_this_run ? null : el("p", { className: "notice" }, `The report and summary of ${o.day} are from run ${s.run_id}, which replaced this run's.`),
      el("div", { className: "cards" },
        dl("Run", [["series", num(s.series, 0)], ["horizon", `${s.horizon} (${s.freq})`], ["imputed days", num(s.imputed_days, 0)], ["imputed store-days", num(s.imputed_store_days || 0, 0)], ["state", o.state]]),
        dl("Backtest (chosen models)", [["mean wQL", num(bake.mean_wql, 3)], ["WAPE", num(bake.wape, 3)], ["MASE", num(bake.mase, 3)], ["p10-p90 coverage", pct(bake.coverage)]]),
        dl("Seasonal naive", [["mean wQL", num(naive.mean_wql, 3)], ["WAPE", num(naive.wape, 3)], ["coverage", pct(naive.coverage)]]),
        dl("Safety stock", [["target service level", pct(ss.target_service_level)], ["achieved (backtest)", pct(ss.achieved_service_level)], ["lead time", num(ss.lead_time, 0)]])),
      (s.missing_stores || []).length ? el("p", { className: "notice" }, `Store(s) that usually deliver sent nothing for ${o.day}: ${s.missing_stores.join(", ")}. Their sales are imputed, not read as zero.`) : null,
      overridesBlock(s.overrides),
      s.cold_start && !s.cold_start.error ? el("p", { id: "cold-start" }, `New items (cold start): ${num(s.cold_start.series || 0, 0)} series of ${num(s.cold_start.items || 0, 0)} items; discontinued items left out: ${num((s.cold_start.discontinued || {}).items || 0, 0)}.`) : null,
      el("div", { id: "model-mix", className: "chart small" }),
      table(["dataset", "rows", "published by"], Object.entries(o.published).map(([name, p]) => [name, p ? num(p.rows, 0) : "not published", p ? p.run_id : "–"]), [1])));
    const mix = s.model_mix || {};
    Plotly.react("model-mix", [{ type: "bar", x: Object.keys(mix), y: Object.values(mix), name: "series" }],
      Object.assign(theme(), { title: { text: "models chosen (series)", font: { size: 13 } } }), { responsive: true, displaylogo: false });
    if (o.report) {
      main.append(panel("Run report", el("p", { className: "hint" }, "Files: ", ...o.files.flatMap((f, i) => [i ? ", " : "", fileLink(f)])),
        el("iframe", { className: "report", src: `${base}${runPath}/files/index.html`, title: "run report" })));
    }
  }

  function renderIngest(o) {
    const v = o.validation;
    if (!v) main.append(panel("No validation result", el("p", {}, `Run ${o.run_id} left no validation result for ${o.day}: it stopped before validating.`)));
    else {
      main.append(panel("Validation",
        el("p", { className: v.healthy ? "good" : "bad" }, v.healthy ? "Healthy: the day could be published." : "Rejected: nothing was published by this run."),
        replacedNote(o.published, "sales rows"),
        el("div", { className: "cards" },
          dl("Records", [["read", num(v.records_in, 0)], ["accepted", num(v.accepted, 0)], ["invalid", num(v.invalid, 0)], ["excluded", num(v.excluded, 0)]]),
          dl("Outcome", [["published rows", num(v.published_rows, 0)], ["bad fraction", pct(v.bad_fraction)], ["allowed", pct(v.max_bad_fraction)]])),
        v.problems.length ? el("div", {}, el("h3", {}, "Problems"), el("ul", {}, v.problems.map((p) => el("li", {}, clip(p, 1000))))) : null,
        v.warnings.length ? el("div", {}, el("h3", {}, "Warnings"), el("ul", {}, v.warnings.map((w) => el("li", {}, clip(w, 1000))))) : null,
        el("h3", {}, "Expectation suites"),
        table(["suite", "result", "failed expectations"], o.suites.map((s) => [s.suite, s.success ? "passed" : "failed",
          s.failed.map((f) => `${f.reason || f.expectation} (${num(f.unexpected_count, 0)} rows)`).join("; ") || "–"])),
        el("p", { className: "hint" }, "Full report: ", ...o.files.flatMap((f, i) => [i ? ", " : "", fileLink(f)]))));
    }
    main.append(panel("Quarantined rows", el("div", { id: "quarantine" })));
    main.append(panel("Raw files archived for the day", table(["file", "bytes", "read by this run"],
      o.raw_files.map((f) => [el("a", { href: `${base}${runPath}/raw/${encodeURIComponent(f.name)}` }, f.name), num(f.bytes, 0), f.read_by_this_run ? "yes" : "no"]), [1])));
    loadQuarantine(0);
  }

  async function loadQuarantine(offset) {
    const box = document.getElementById("quarantine");
    try {
      const page = await api(`/api${runPath}/quarantine?limit=${PAGE}&offset=${offset}`);
      const last = Math.min(offset + PAGE, page.total);
      box.replaceChildren(
        el("div", { className: "row" },
          el("span", { className: "hint" }, page.total ? `${offset + 1}–${last} of ${page.total} rows of this run` : "No rows of this run are quarantined."),
          page.file_written_by && page.total === 0 && page.file_written_by !== runId ? el("span", { className: "hint" }, `(the day's quarantine file is from run ${page.file_written_by})`) : null,
          el("a", { href: `${base}/api${runPath}/quarantine.csv`, download: "" }, "download CSV")),
        table(["file", "line", "kind", "reason", "record"], page.rows.map((r) => [r.source_file, r.line_number ?? "–", r.kind, r.reason, clip(r.raw, CLIP_RAW, "raw")]), [1]),
        el("div", { className: "row pager" },
          el("button", { type: "button", disabled: offset === 0, onclick: () => loadQuarantine(Math.max(0, offset - PAGE)) }, "‹ previous"),
          el("button", { type: "button", disabled: last >= page.total, onclick: () => loadQuarantine(offset + PAGE) }, "next ›")));
    } catch (error) { notice(error.message); }
  }

  api(`/api${runPath}`).then((o) => (o.kind === "sales_forecast" ? renderForecast(o) : renderIngest(o))).catch((error) => notice(error.message));
})();
