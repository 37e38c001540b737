import { h, api, fmt, card, sortableTable, currentWindow, windowPicker, simulatedBadge, errorBox, levelBadge } from "../app.js";
import { lineChart, bars } from "../charts.js";

const WindowMs = { "5m": 300e3, "15m": 900e3, "1h": 3600e3, "6h": 21600e3, "24h": 86400e3 };

/** One model: its figures over the window, percentiles over time from history, per instance, errors, the router's view, recent records. */
export async function render(main, model) {
  let window = currentWindow("1h");
  let resolution = new URLSearchParams(location.search).get("resolution") === "1h" ? "1h" : "1m";
  const path = `/v1/performance/models/${encodeURIComponent(model)}`;
  const title = h("h1", {}, model);
  const message = h("div");
  const cards = h("div", { class: "cards", id: "figures" });
  const charts = h("div", { class: "grid2" });
  const instances = h("div", { class: "panel" });
  const errors = h("div", { class: "panel" });
  const router = h("div", { class: "panel", id: "router" });
  const catalogPanel = h("div", { class: "panel" });
  const records = h("div", { class: "panel" });
  const resolutionPicker = h("label", {}, "History ", h("select", {
    "aria-label": "Resolution",
    onchange: e => { resolution = e.target.value; historyAt = 0; refresh(); },
  }, h("option", { value: "1m", selected: resolution === "1m" }, "by minute"), h("option", { value: "1h", selected: resolution === "1h" }, "by hour (7 days)")));
  main.replaceChildren(
    h("p", {}, h("a", { href: `/ui?window=${window}` }, "← Overview")),
    title,
    h("div", { class: "toolbar" }, windowPicker(window, w => { window = w; historyAt = 0; refresh(); }), resolutionPicker),
    message, cards,
    h("h2", {}, "Over time"), charts,
    h("div", { class: "grid2" },
      h("div", {}, h("h2", {}, "Errors by kind"), errors),
      h("div", {}, h("h2", {}, "Router's view"), router)),
    h("h2", {}, "Per instance"), instances,
    h("h2", {}, "Catalog entry"), catalogPanel,
    h("h2", {}, "Recent records"), records);

  let historyAt = 0, entry = null;

  async function drawHistory() {
    const span = resolution === "1h" ? 7 * 86400e3 : Math.max(WindowMs[window], 3600e3);
    const from = new Date(Date.now() - span).toISOString();
    const history = await api(`${path}/history?resolution=${resolution}&from=${encodeURIComponent(from)}`);
    const points = history.points.map(p => ({ at: Date.parse(p.window_start), p }));
    const series = (name, pick) => ({ name, points: points.map(({ at, p }) => [at, pick(p) ?? null]) });
    charts.replaceChildren(
      h("div", { class: "panel" }, h("strong", {}, "Latency"), lineChart([
        series("p50", p => p.latency?.p50), series("p95", p => p.latency?.p95), series("p99", p => p.latency?.p99)], { format: fmt.seconds, title: "Latency percentiles" })),
      h("div", { class: "panel" }, h("strong", {}, "Time to first token"), lineChart([
        series("p50", p => p.ttft?.p50), series("p95", p => p.ttft?.p95), series("p99", p => p.ttft?.p99)], { format: fmt.seconds, title: "TTFT percentiles" })),
      h("div", { class: "panel" }, h("strong", {}, "Requests and errors"), lineChart([
        series("requests", p => p.count), series("errors", p => p.count - p.success_count)], { format: v => fmt.number(v), title: "Requests and errors" })),
      h("div", { class: "panel" }, h("strong", {}, "Cost and quality"), lineChart([
        series("cost", p => p.cost?.total)], { format: fmt.cost, title: "Cost" }),
        lineChart([series("quality", p => p.quality?.mean)], { format: v => v.toFixed(2), yMax: 1, height: 150, title: "Quality" })));
    historyAt = Date.now();
  }

  async function refresh() {
    try {
      const [summary, instanceList, health, recent] = await Promise.all([
        api(`${path}?window=${window}`),
        api(`${path}/instances?window=${window}`),
        api("/v1/models/health"),
        api(`${path}/records?limit=50`),
      ]);
      if (!entry) {
        entry = await api(`/v1/models/${encodeURIComponent(model)}`).catch(() => null);
        title.replaceChildren(model, entry?.provider === "simulated" ? simulatedBadge() : null);
      }
      cards.replaceChildren(
        card("Requests", fmt.number(summary.count), `${fmt.number(summary.throughput?.requests_per_second, 2)} per second`),
        card("Latency p50", fmt.seconds(summary.latency?.p50), `mean ${fmt.seconds(summary.latency?.mean)}`),
        card("Latency p95", fmt.seconds(summary.latency?.p95), `p90 ${fmt.seconds(summary.latency?.p90)}`),
        card("Latency p99", fmt.seconds(summary.latency?.p99), `max ${fmt.seconds(summary.latency?.max)}`),
        card("TTFT p50 / p95", `${fmt.seconds(summary.ttft?.p50)} / ${fmt.seconds(summary.ttft?.p95)}`, `p99 ${fmt.seconds(summary.ttft?.p99)}`),
        card("Error rate", fmt.percent(summary.count ? summary.error_rate : null), `${fmt.number(summary.count - summary.success_count)} failed`),
        card("Cost", fmt.cost(summary.cost?.total), `${fmt.cost(summary.cost?.per_request)} per request`),
        card("Quality", summary.quality?.mean == null ? "–" : summary.quality.mean.toFixed(3), `${fmt.number(summary.quality?.count ?? 0)} scores`),
        card("Tokens", fmt.number(summary.input_tokens + summary.output_tokens), `${fmt.number(summary.output_tokens)} out`));

      const kinds = Object.entries(summary.errors_by_kind ?? {}).map(([label, value]) => ({ label, value }));
      errors.replaceChildren(kinds.length ? bars(kinds, v => fmt.number(v)) : h("p", { class: "muted" }, "No errors in this window."));

      const view = health.models.find(m => m.model === model);
      router.replaceChildren(view ? h("table", {}, h("tbody", {},
        h("tr", {}, h("th", {}, "Health"), h("td", {}, h("span", { class: `badge ${view.health === "healthy" ? "ok" : "bad"}` }, view.health), view.reason ? ` ${view.reason}` : "")),
        view.cooling_until ? h("tr", {}, h("th", {}, "Cooling until"), h("td", {}, fmt.time(view.cooling_until))) : null,
        h("tr", {}, h("th", {}, "Live samples"), h("td", {}, `${fmt.number(view.samples)} (${fmt.number(view.stats_age_seconds, 1)} s old)`)),
        h("tr", {}, h("th", {}, "Hosts' alerts"), h("td", {}, levelBadge(view.host_alert))),
        h("tr", {}, h("th", {}, "Rate limit"), h("td", {}, view.rate_limit
          ? `${view.rate_limit.mode}: ${fmt.number(view.requests_this_minute)} of ${fmt.number(view.requests_per_minute)} requests, ${fmt.number(view.tokens_this_minute)} of ${fmt.number(view.tokens_per_minute)} tokens this minute`
          : "none")),
        h("tr", {}, h("th", {}, "Answered by silo"), h("td", {}, health.silo)))) : h("p", { class: "muted" }, "Not in the router's catalog (removed?)."));

      instances.replaceChildren(sortableTable([
        { key: "instance", label: "Instance", value: r => r.instance, render: r => r.instance },
        { key: "count", label: "Requests", num: true, render: r => fmt.number(r.count) },
        { key: "p50", label: "p50", num: true, value: r => r.latency?.p50, render: r => fmt.seconds(r.latency?.p50) },
        { key: "p95", label: "p95", num: true, value: r => r.latency?.p95, render: r => fmt.seconds(r.latency?.p95) },
        { key: "ttft", label: "TTFT p95", num: true, value: r => r.ttft?.p95, render: r => fmt.seconds(r.ttft?.p95) },
        { key: "error_rate", label: "Errors", num: true, render: r => fmt.percent(r.error_rate) },
        { key: "cost", label: "Cost", num: true, value: r => r.cost?.total, render: r => fmt.cost(r.cost?.total) },
      ], instanceList.instances.map(i => ({ ...i, __key: i.instance })), { sortKey: "count" }));

      if (entry) catalogPanel.replaceChildren(h("table", {}, h("tbody", {},
        [["Provider", entry.provider], ["Price per 1k tokens", `${fmt.cost(entry.input_price_per1k)} in, ${fmt.cost(entry.output_price_per1k)} out`],
         ["Context / max output", `${fmt.number(entry.context_window)} / ${fmt.number(entry.max_output_tokens)} tokens`],
         ["Priors", `latency ${fmt.seconds(entry.latency_prior)}, quality ${entry.quality_prior}`], ["Timeout", fmt.seconds(entry.timeout_seconds)],
         ["Capabilities", Object.entries(entry.capabilities ?? {}).map(([k, v]) => `${k} ${v}`).join(", ")], ["Revision", entry.revision ?? "–"]]
          .map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", { class: "wrap" }, String(v)))))));

      records.replaceChildren(h("table", { id: "records" },
        h("thead", {}, h("tr", {}, ["Time", "Instance", "Latency", "TTFT", "Tokens in/out", "Outcome", "Cost", "Quality", "Request"].map(c => h("th", {}, c)))),
        h("tbody", {}, recent.records.length === 0 ? h("tr", {}, h("td", { colspan: 9, class: "muted" }, "No records yet.")) : recent.records.map(r => h("tr", {},
          h("td", {}, fmt.clock(r.timestamp)), h("td", {}, r.instance ?? "–"), h("td", { class: "num" }, fmt.seconds(r.execution_time)),
          h("td", { class: "num" }, fmt.seconds(r.time_to_first_token)), h("td", { class: "num" }, `${r.input_tokens} / ${r.output_tokens}`),
          h("td", {}, r.success ? h("span", { class: "badge ok" }, "ok") : h("span", { class: "badge bad" }, r.error_kind ?? "error")),
          h("td", { class: "num" }, fmt.cost(r.cost)), h("td", { class: "num" }, r.quality_score ?? "–"), h("td", { class: "muted" }, r.request_id))))));

      if (Date.now() - historyAt > 30000) await drawHistory();
      message.replaceChildren();
    } catch (e) {
      message.replaceChildren(errorBox(e));
    }
  }

  return { refresh };
}
