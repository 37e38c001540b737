// The product's pages: one shell, a page module per path, the JSON API underneath (same origin, the session cookie).
// Data is always put in the page as text (textContent), never as markup.

/** Builds an element: h("td", { class: "num" }, "12"). Children may be strings, nodes, arrays or null. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") { for (const [d, x] of Object.entries(v)) if (x !== null && x !== undefined) el.dataset[d] = x; }
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export class ApiError extends Error {
  constructor(status, detail, field) {
    super(detail);
    this.status = status;
    this.field = field;
  }
}

/** A call to the API; a problem+json answer becomes an ApiError naming its field; 401 sends the browser to sign in. */
export async function api(path, { method = "GET", body } = {}) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    location.href = `/signin?return=${encodeURIComponent(location.pathname + location.search)}`;
    throw new ApiError(401, "Sign in first.");
  }
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, json?.detail ?? `${response.status} ${response.statusText}`, json?.field);
  return json;
}

export const fmt = {
  seconds(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    if (v < 1) return `${(v * 1000).toFixed(v < 0.01 ? 2 : 0)} ms`;
    return `${v.toFixed(v < 10 ? 2 : 1)} s`;
  },
  percent(v, digits = 1) { return v === null || v === undefined || !isFinite(v) ? "–" : `${(v * 100).toFixed(digits)}%`; },
  number(v, digits = 0) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    return v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  },
  cost(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    if (v === 0) return "$0";
    return v >= 1 ? `$${v.toFixed(2)}` : v >= 0.01 ? `$${v.toFixed(3)}` : `$${v.toPrecision(2)}`;
  },
  /** Bytes (or bytes per second) with a binary prefix: 1.5 MiB. */
  bytes(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return `${v.toFixed(v < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
  },
  time(iso) { return iso ? new Date(iso).toLocaleString() : "–"; },
  clock(iso) { return iso ? new Date(iso).toLocaleTimeString() : "–"; },
  value(v, unit) { return v === null || v === undefined ? "–" : `${fmt.number(v, 1)}${unit === "%" ? "%" : unit ? ` ${unit}` : ""}`; },
};

export const windows = ["5m", "15m", "1h", "6h", "24h"];

/** The window chosen in the address (?window=), so that a link keeps it. */
export function currentWindow(fallback = "1h", choices = windows) {
  const w = new URLSearchParams(location.search).get("window");
  return choices.includes(w) ? w : fallback;
}

export function windowPicker(current, onChange, choices = windows) {
  return h("label", {}, "Window ", h("select", {
    "aria-label": "Window", id: "window",
    onchange: e => {
      const url = new URL(location.href);
      url.searchParams.set("window", e.target.value);
      history.replaceState(null, "", url);
      onChange(e.target.value);
    },
  }, choices.map(w => h("option", { value: w, selected: w === current }, w))));
}

/** The catalog, read once per page load (the pages badge simulated models and list candidates from it). */
let catalog = null;
export function catalogModels() {
  catalog ??= api("/v1/models").then(c => c.models).catch(e => { catalog = null; throw e; });
  return catalog;
}

/** The ids of the catalog's models on the simulated provider. */
export async function simulatedIds() {
  return new Set((await catalogModels()).filter(m => m.provider === "simulated").map(m => m.id));
}

/** A multi-select of the catalog's models, the simulated ones labelled so. */
export function modelSelect(models, attrs, selected = () => false) {
  return h("select", { multiple: true, size: Math.min(8, models.length), ...attrs },
    models.map((m, i) => h("option", { value: m.id, selected: selected(m, i) }, m.provider === "simulated" ? `${m.id} (simulated)` : m.id)));
}

export function levelBadge(level) { return h("span", { class: `badge level-${level}` }, level); }
export function simulatedBadge() { return h("span", { class: "badge sim", title: "Answers come from the simulated provider, not a real model" }, "simulated"); }

export function card(label, value, sub) {
  return h("div", { class: "card" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), sub ? h("div", { class: "sub" }, sub) : null);
}

/**
 * A table whose columns sort on a click. columns: [{ key, label, num, value(row) -> sortable, render(row) -> node|string }].
 */
export function sortableTable(columns, rows, { sortKey, descending = true, id, onSort } = {}) {
  let key = sortKey ?? columns[0].key, desc = descending;
  const table = h("table", { id });
  const draw = () => {
    const column = columns.find(c => c.key === key);
    const sorted = [...rows].sort((a, b) => {
      const x = column.value ? column.value(a) : a[key], y = column.value ? column.value(b) : b[key];
      const c = x === y ? 0 : x === null || x === undefined ? 1 : y === null || y === undefined ? -1 : x < y ? -1 : 1;
      return desc ? -c : c;
    });
    table.replaceChildren(
      h("thead", {}, h("tr", {}, columns.map(c => h("th", {
        class: [c.num ? "num" : "", c.sortable === false ? "" : "sortable", c.key === key ? (desc ? "sorted-desc" : "sorted-asc") : ""].join(" ").trim(),
        scope: "col",
        onclick: c.sortable === false ? null : () => { desc = c.key === key ? !desc : true; key = c.key; onSort?.(key, desc); draw(); },
      }, c.label)))),
      h("tbody", {}, sorted.length === 0
        ? h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, "Nothing yet."))
        : sorted.map(r => h("tr", { dataset: { key: r.__key ?? "" } }, columns.map(c => h("td", { class: [c.num ? "num" : "", c.wrap ? "wrap" : ""].join(" ").trim() },
          c.render ? c.render(r) : fmt.number(r[c.key], 2)))))));
  };
  draw();
  return table;
}

export function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, error instanceof ApiError ? `${error.message}${error.field ? ` (${error.field})` : ""}` : String(error?.message ?? error));
}

/** A page's refresh that shows its failure in the page's message area instead of throwing. */
export function guarded(message, refresh) {
  return async () => {
    try {
      await refresh();
    } catch (e) {
      message.replaceChildren(errorBox(e));
    }
  };
}

export const session = { cluster: null, can(scope) { return this.cluster?.scopes?.includes(scope) ?? false; } };

const pages = {
  overview: () => import("./pages/overview.js"),
  model: () => import("./pages/model.js"),
  hosts: () => import("./pages/hosts.js"),
  alerts: () => import("./pages/alerts.js"),
  routing: () => import("./pages/routing.js"),
  tuning: () => import("./pages/tuning.js"),
  benchmarks: () => import("./pages/benchmarks.js"),
  keys: () => import("./pages/keys.js"),
};

function route(path) {
  const parts = path.replace(/^\/ui\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: "overview", args: [] };
  if (parts[0] === "models" && parts.length > 1) return { page: "model", args: [parts.slice(1).join("/")] };
  if (pages[parts[0]]) return { page: parts[0], args: parts.slice(1) };
  return { page: null, args: [] };
}

// Live figures refresh by themselves: every 5 s while the tab is visible.
const RefreshMs = 5000;
let current = null;

async function start() {
  const main = document.getElementById("page");
  const status = document.getElementById("status");
  const menu = document.querySelector(".top .menu");
  menu.addEventListener("click", () => {
    const nav = document.querySelector(".top nav");
    nav.classList.toggle("open");
    menu.setAttribute("aria-expanded", nav.classList.contains("open"));
  });
  try {
    session.cluster = await api("/v1/cluster");
  } catch (e) {
    main.replaceChildren(errorBox(e));
    return;
  }
  const c = session.cluster;
  if (c.demo) {
    const banner = document.getElementById("banner");
    banner.hidden = false;
    banner.textContent = "Demo mode: the traffic, models and hosts you see are simulated (Kyros:Demo). Turn it off for real use.";
  }
  if (!c.dashboard) document.getElementById("dashboard-link").remove();
  document.getElementById("who").textContent = c.api_keys ? `key ${c.key} · ${c.scopes.join(", ")}` : "open (loopback, no keys)";

  const { page, args } = route(location.pathname);
  for (const a of document.querySelectorAll(".top nav a[data-page]"))
    a.classList.toggle("active", a.dataset.page === page || (page === "model" && a.dataset.page === "overview"));
  if (!page) {
    main.replaceChildren(h("h1", {}, "Not found"), h("p", {}, "No page here. ", h("a", { href: "/ui" }, "Back to the overview")));
    return;
  }
  const module = await pages[page]();
  current = await module.render(main, ...args);
  const tick = async () => {
    if (document.visibilityState === "visible" && current?.refresh) {
      try {
        await current.refresh();
        status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      } catch (e) {
        status.textContent = `Refresh failed: ${e.message}`;
      }
    }
  };
  await tick();
  setInterval(tick, RefreshMs);
}

start();
