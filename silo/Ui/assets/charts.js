// SVG charts drawn in the browser from the API's JSON: no library, no network fetch.
const NS = "http://www.w3.org/2000/svg";
export const palette = ["var(--s1)", "var(--s2)", "var(--s3)", "var(--s4)", "var(--s5)", "var(--s6)", "var(--s7)", "var(--s8)"];

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A small line of values (nulls skipped), for a table cell. */
export function sparkline(values, { width = 120, height = 28, color = "var(--s1)", label = "" } = {}) {
  const root = svg("svg", { class: "spark", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
  const points = values.map((v, i) => [i, v]).filter(p => p[1] !== null && p[1] !== undefined && isFinite(p[1]));
  if (points.length === 0) return root;
  const max = Math.max(...points.map(p => p[1]), 1e-9);
  const n = Math.max(values.length - 1, 1);
  const d = points.map(([i, v], k) => `${k ? "L" : "M"}${(i / n * (width - 2) + 1).toFixed(1)},${(height - 2 - v / max * (height - 4)).toFixed(1)}`).join("");
  root.append(svg("path", { d, fill: "none", stroke: color, "stroke-width": 1.5 }));
  return root;
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(value)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= value) return m * p;
  return 10 * p;
}

function timeLabel(ms, span) {
  const d = new Date(ms);
  if (span > 2 * 86400e3) return `${d.getMonth() + 1}/${d.getDate()} ${String(d.getHours()).padStart(2, "0")}h`;
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/**
 * A line chart. series: [{ name, points: [[x, y], ...] }]; x is a time (ms) unless xLabel is given.
 * Each point carries a tooltip; a legend names the series.
 */
export function lineChart(series, { height = 220, format = v => String(v), xFormat = null, xTicks = null, yMin = 0, yMax = null, title = "" } = {}) {
  const width = 640, left = 56, right = 12, top = 10, bottom = 26;
  const wrap = document.createElement("div");
  const root = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  const all = series.flatMap(s => s.points.filter(p => p[1] !== null && isFinite(p[1])));
  if (all.length === 0) {
    const empty = document.createElement("p");
    empty.className = "muted";
    empty.textContent = "No data in this window yet.";
    wrap.append(empty);
    return wrap;
  }
  let x0 = Math.min(...all.map(p => p[0])), x1 = Math.max(...all.map(p => p[0]));
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  const top1 = yMax ?? niceMax(Math.max(...all.map(p => p[1])));
  const X = x => left + (x - x0) / (x1 - x0) * (width - left - right);
  const Y = y => top + (1 - (y - yMin) / (top1 - yMin)) * (height - top - bottom);
  for (let i = 0; i <= 4; i++) {
    const v = yMin + (top1 - yMin) * i / 4;
    root.append(svg("line", { class: "grid", x1: left, x2: width - right, y1: Y(v), y2: Y(v) }));
    root.append(svg("text", { x: left - 6, y: Y(v) + 4, "text-anchor": "end" }, format(v)));
  }
  root.append(svg("line", { class: "axis", x1: left, x2: width - right, y1: Y(yMin), y2: Y(yMin) }));
  const fx = xFormat ?? (x => timeLabel(x, x1 - x0));
  // Ticks at the given x values (a benchmark's concurrency levels), else five evenly spaced.
  const ticks = xTicks ?? [0, 1, 2, 3, 4].map(i => x0 + (x1 - x0) * i / 4);
  for (const x of ticks)
    root.append(svg("text", { x: X(x), y: height - 8, "text-anchor": x <= x0 ? "start" : x >= x1 ? "end" : "middle" }, fx(x)));
  series.forEach((s, i) => {
    const color = s.color ?? palette[i % palette.length];
    const pts = s.points.filter(p => p[1] !== null && isFinite(p[1]));
    if (pts.length === 0) return;
    const d = pts.map(([x, y], k) => `${k ? "L" : "M"}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join("");
    root.append(svg("path", { d, fill: "none", stroke: color, "stroke-width": 1.8 }));
    for (const [x, y] of pts.length <= 80 ? pts : []) {
      const dot = svg("circle", { cx: X(x), cy: Y(y), r: 2.2, fill: color });
      dot.append(svg("title", {}, `${s.name}: ${format(y)} at ${fx(x)}`));
      root.append(dot);
    }
  });
  wrap.append(root);
  const legend = document.createElement("div");
  legend.className = "legend";
  series.forEach((s, i) => {
    const item = document.createElement("span");
    item.style.setProperty("--c", s.color ?? palette[i % palette.length]);
    item.textContent = s.name;
    legend.append(item);
  });
  wrap.append(legend);
  return wrap;
}

/** Horizontal bars: [{ label, value }], scaled to the largest. */
export function bars(items, format = v => String(v)) {
  const root = document.createElement("div");
  root.className = "bars";
  const max = Math.max(...items.map(i => i.value), 1e-9);
  for (const item of items) {
    const row = document.createElement("div");
    row.className = "bar";
    const label = document.createElement("span");
    label.textContent = item.label;
    const track = document.createElement("span");
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.display = "block";
    fill.style.width = `${Math.max(1, item.value / max * 100)}%`;
    track.append(fill);
    const value = document.createElement("span");
    value.className = "num";
    value.textContent = format(item.value);
    row.append(label, track, value);
    root.append(row);
  }
  return root;
}
