/* Shared helpers: same-origin fetch (the Airflow _token cookie authenticates), DOM building
   with textContent only (ids come from source files), number formatting. */
"use strict";
const salescast = (() => {
  const base = document.body.dataset.base || "";

  function notice(text) {
    const box = document.getElementById("notice");
    box.textContent = text || "";
    box.hidden = !text;
  }

  async function api(path) {
    const response = await fetch(base + path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) {
      notice("Your Airflow session has ended: reload the Airflow page and log in again.");
      throw new Error("not authenticated");
    }
    let body = null;
    try { body = await response.json(); } catch (error) { body = null; }
    if (!response.ok) {
      const detail = body && body.detail ? (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)) : response.statusText;
      throw new Error(detail);
    }
    return body;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "className") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /* Text from source files can be any length (a 10,000-character value made a run tab
     145,306 px wide): a cell shows the first `max` characters and an ellipsis, the whole value
     is its tooltip (title) and in the CSV download. */
  const CLIP = 160;
  function clip(text, max = CLIP, className = null) {
    const value = text === null || text === undefined ? "" : String(text);
    if (value.length <= max) return className ? el("span", { className }, value) : value;
    return el("span", { className: className ? `${className} clipped` : "clipped", title: value }, `${value.slice(0, max)}…`);
  }

  function num(value, digits = 2) {
    if (value === null || value === undefined || Number.isNaN(value)) return "–";
    return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  }

  function pct(value) {
    return value === null || value === undefined ? "–" : `${(100 * value).toFixed(1)}%`;
  }

  function card(node, title, pairs) {
    node.replaceChildren();
    if (!pairs) return;
    node.append(el("h3", {}, title));
    for (const [label, value] of pairs) node.append(el("dt", {}, label), el("dd", {}, value));
  }

  function theme() {
    const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    return {
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: dark ? "#e2e8f0" : "#1a202c", size: 12 },
      margin: { l: 50, r: 20, t: 30, b: 40 }, legend: { orientation: "h", y: 1.12 },
    };
  }

  return { base, api, el, clip, num, pct, card, notice, theme };
})();
