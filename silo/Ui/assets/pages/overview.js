import { h, api, fmt, card, sortableTable, currentWindow, windowPicker, levelBadge, simulatedBadge, simulatedIds, errorBox } from "../app.js";
import { sparkline } from "../charts.js";

const Levels = ["emergency", "critical", "warning", "info"];
const SparkRefreshMs = 60000;

function hostGroups(nodes) {
  const simulated = nodes.filter(n => n.group === "simulated-demo").length;
  const groups = new Set(nodes.map(n => n.group)).size;
  return `${groups} group${groups === 1 ? "" : "s"}${simulated ? `, ${simulated} simulated` : ""}`;
}

/** The cluster at a glance and every model in one sortable table, each with its last hour as a sparkline. */
export async function render(main) {
  let window = currentWindow("1h");
  const clusterCards = h("div", { class: "cards", id: "cluster" });
  const modelPanel = h("div", { class: "panel" });
  const message = h("div");
  main.replaceChildren(
    h("h1", {}, "Overview"),
    h("div", { class: "toolbar" }, windowPicker(window, w => { window = w; refresh(); })),
    message, clusterCards,
    h("h2", {}, "Models"), modelPanel);

  let sparks = new Map(), sparksAt = 0, sort = { key: "count", desc: true };

  async function loadSparks(models) {
    const from = new Date(Date.now() - 3600e3).toISOString();
    const top = [...models].sort((a, b) => b.count - a.count).slice(0, 50);
    const results = await Promise.allSettled(top.map(m =>
      api(`/v1/performance/models/${encodeURIComponent(m.model)}/history?resolution=1m&from=${encodeURIComponent(from)}`)));
    const next = new Map();
    results.forEach((r, i) => {
      if (r.status !== "fulfilled") return;
      const byMinute = new Map(r.value.points.map(p => [Date.parse(p.window_start), p.count]));
      const start = Math.floor((Date.now() - 3600e3) / 60000) * 60000;
      next.set(top[i].model, Array.from({ length: 60 }, (_, k) => byMinute.get(start + (k + 1) * 60000) ?? 0));
    });
    sparks = next;
    sparksAt = Date.now();
  }

  async function refresh() {
    try {
      const [summary, resources, alerts, simulated] = await Promise.all([
        api(`/v1/performance/summary?window=${window}`),
        // Hosts keep an hour of samples.
        api(`/v1/resources/summary?window=${window === "6h" || window === "24h" ? "1h" : window}`),
        api("/v1/resources/alerts?active=true&limit=1"),
        simulatedIds(),
      ]);
      const silos = (await api("/v1/cluster")).silos;
      const models = summary.models;
      const total = models.reduce((s, m) => s + m.count, 0);
      if (Date.now() - sparksAt > SparkRefreshMs) await loadSparks(models);
      const cluster = summary.cluster;
      const byLevel = Object.fromEntries(Levels.map(l => [l, alerts.active.filter(a => a.level === l).length]));
      clusterCards.replaceChildren(
        card("Silos", fmt.number(silos.length), silos.map(s => `${s.name} (${s.status})`).join(", ")),
        card("Hosts", fmt.number(resources.nodes.length), hostGroups(resources.nodes)),
        card("Active alerts", fmt.number(alerts.active.length), h("span", {}, Levels.filter(l => byLevel[l]).map(l => [levelBadge(l), ` ${byLevel[l]} `]))),
        card("Requests", fmt.number(total), `in the last ${window}`),
        card("Error rate", fmt.percent(cluster?.error_rate), `${fmt.number(cluster ? cluster.count - cluster.success_count : 0)} failed`),
        card("p95 latency", fmt.seconds(cluster?.latency?.p95), `p50 ${fmt.seconds(cluster?.latency?.p50)}`),
        card("Cost", fmt.cost(cluster?.cost?.total), `${fmt.cost(cluster?.cost?.per_request)} per request`));

      const rows = models.map(m => ({ ...m, __key: m.model, share: total ? m.count / total : null }));
      const table = sortableTable([
        { key: "model", label: "Model", value: r => r.model, render: r => h("span", {}, h("a", { href: `/ui/models/${encodeURIComponent(r.model)}?window=${window}` }, r.model), simulated.has(r.model) ? [" ", simulatedBadge()] : null) },
        { key: "count", label: "Requests", num: true, render: r => fmt.number(r.count) },
        { key: "p50", label: "p50", num: true, value: r => r.latency?.p50, render: r => fmt.seconds(r.latency?.p50) },
        { key: "p95", label: "p95", num: true, value: r => r.latency?.p95, render: r => fmt.seconds(r.latency?.p95) },
        { key: "p99", label: "p99", num: true, value: r => r.latency?.p99, render: r => fmt.seconds(r.latency?.p99) },
        { key: "ttft50", label: "TTFT p50", num: true, value: r => r.ttft?.p50, render: r => fmt.seconds(r.ttft?.p50) },
        { key: "ttft95", label: "TTFT p95", num: true, value: r => r.ttft?.p95, render: r => fmt.seconds(r.ttft?.p95) },
        { key: "ttft99", label: "TTFT p99", num: true, value: r => r.ttft?.p99, render: r => fmt.seconds(r.ttft?.p99) },
        { key: "error_rate", label: "Errors", num: true, value: r => r.count ? r.error_rate : null, render: r => fmt.percent(r.count ? r.error_rate : null) },
        { key: "cost", label: "Cost", num: true, value: r => r.cost?.total, render: r => fmt.cost(r.cost?.total) },
        { key: "quality", label: "Quality", num: true, value: r => r.quality?.mean, render: r => r.quality?.mean == null ? "–" : r.quality.mean.toFixed(2) },
        { key: "share", label: "Share", num: true, render: r => fmt.percent(r.share) },
        { key: "spark", label: "Last hour", sortable: false, render: r => sparkline(sparks.get(r.model) ?? [], { label: `${r.model}: requests per minute over the last hour` }) },
      ], rows, { sortKey: sort.key, descending: sort.desc, id: "models", onSort: (key, desc) => { sort = { key, desc }; } });
      modelPanel.replaceChildren(models.length ? table : h("p", { class: "muted" }, "No records in this window. Send some (POST /v1/performance/records), call the gateway, or start the silo with --Kyros:Demo=true."));
      message.replaceChildren();
    } catch (e) {
      message.replaceChildren(errorBox(e));
    }
  }

  return { refresh };
}
