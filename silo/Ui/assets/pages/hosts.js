import { h, api, fmt, card, errorBox, levelBadge, session, currentWindow, windowPicker } from "../app.js";
import { lineChart } from "../charts.js";

const HostWindows = ["5m", "15m", "1h"];
const Charts = [
  { title: "CPU and memory", unit: "%", match: s => s.metric === "cpu" || s.metric === "memory", yMax: 100 },
  { title: "Disk", unit: "%", match: s => s.metric === "disk", yMax: 100 },
  { title: "Network (busier direction, % of link)", unit: "%", match: s => s.metric === "network", yMax: 100 },
  { title: "Network traffic (bytes/s)", unit: "B/s", match: s => s.metric === "network_in" || s.metric === "network_out" },
  { title: "GPU utilization and memory", unit: "%", match: s => s.metric === "gpu_utilization" || s.metric === "gpu_memory", yMax: 100 },
  { title: "GPU temperature", unit: "°C", match: s => s.metric === "gpu_temperature" },
];

/** Every host: its charts over the window, the patterns found, its alerts; scaling advice; thresholds (editable by an admin). */
export async function render(main) {
  let window = currentWindow("15m", HostWindows);
  const message = h("div");
  const advice = h("div", { class: "panel", id: "scaling" });
  const hosts = h("div", { id: "hosts" });
  const thresholds = h("div", { class: "panel", id: "thresholds" });
  const thresholdsTitle = h("h2", {});
  const picker = windowPicker(window, w => { window = w; refresh(); }, HostWindows);
  // Charts for a dozen hosts at most (those with alerts first); a larger cluster picks one by name.
  const MaxCharted = 12;
  let only = new URLSearchParams(location.search).get("node") ?? "";
  const hostList = h("datalist", { id: "host-names" });
  const hostInput = h("input", {
    type: "text", value: only, placeholder: "every host", list: "host-names", "aria-label": "Host", size: 18,
    onchange: e => {
      only = e.target.value.trim();
      editing = false;
      const url = new URL(location.href);
      only ? url.searchParams.set("node", only) : url.searchParams.delete("node");
      history.replaceState(null, "", url);
      refresh();
    },
  });
  const shown = h("p", { class: "muted", id: "hosts-shown" });
  main.replaceChildren(h("h1", {}, "Hosts"), h("div", { class: "toolbar" }, picker, h("label", {}, "Host ", hostInput), hostList), message,
    h("h2", {}, "Scaling advice"), advice, shown, hosts, thresholdsTitle, thresholds);

  let editing = false, summaryNodes = [];
  // Outside the table, so that a message outlives the table drawn again after a save.
  const status = h("span", { role: "status", id: "threshold-status" });

  async function drawThresholds() {
    // The cluster's thresholds, or with one host picked, that host's (a save there overrides the cluster's on it alone).
    const scope = only && summaryNodes.includes(only) ? `?node=${encodeURIComponent(only)}` : "";
    thresholdsTitle.textContent = scope ? `Alert thresholds on ${only}` : "Alert thresholds (cluster)";
    const data = await api(`/v1/resources/thresholds${scope}`);
    // Someone started editing while the thresholds were read: what they typed stays (a save draws again).
    if (editing) return;
    const admin = session.can("admin");
    const rows = data.thresholds.map(t => {
      const inputs = ["warning", "critical", "emergency"].map(level => h("input", {
        type: "number", step: "any", value: t.levels[level], "aria-label": `${t.metric} ${level}`, name: `${t.metric}.${level}`,
        disabled: !admin, size: 6, onfocus: () => { editing = true; },
      }));
      const save = admin ? h("button", {
        type: "button", onclick: async () => {
          try {
            const [warning, critical, emergency] = inputs.map(i => Number(i.value));
            await api(`/v1/resources/thresholds/${encodeURIComponent(t.metric)}${scope}`, { method: "PUT", body: { warning, critical, emergency } });
            status.textContent = `${t.metric} saved.`;
            editing = false;
            await drawThresholds();
          } catch (e) {
            status.replaceChildren(errorBox(e));
          }
        },
      }, "Save") : null;
      return h("tr", {}, h("td", {}, t.metric), inputs.map(i => h("td", {}, i)), h("td", {}, t.scope), h("td", {}, save));
    });
    thresholds.replaceChildren(
      h("table", {}, h("thead", {}, h("tr", {}, ["Metric", "Warning", "Critical", "Emergency", "From", ""].map(c => h("th", {}, c)))), h("tbody", {}, rows)),
      admin ? status : h("p", { class: "muted" }, "Changing thresholds needs a key with the admin scope."));
  }

  async function refresh() {
    try {
      const [summary, scaling] = await Promise.all([api(`/v1/resources/summary?window=${window}`), api("/v1/resources/scaling")]);
      advice.replaceChildren(h("table", {}, h("thead", {}, h("tr", {}, ["Scope", "Advice", "Confidence", "Hosts", "CPU now / long", "GPU now / long", "Why"].map(c => h("th", {}, c)))),
        h("tbody", {}, scaling.recommendations.map(r => h("tr", {},
          h("td", {}, r.scope), h("td", {}, h("span", { class: `badge ${r.action === "hold" ? "" : "bad"}` }, r.action.replace("_", " "))),
          h("td", { class: "num" }, fmt.percent(r.confidence, 0)), h("td", { class: "num" }, r.hosts),
          h("td", { class: "num" }, `${fmt.value(r.recent_cpu, "%")} / ${fmt.value(r.long_cpu, "%")}`),
          h("td", { class: "num" }, `${fmt.value(r.recent_gpu, "%")} / ${fmt.value(r.long_gpu, "%")}`),
          h("td", { class: "wrap" }, r.reason))))));

      hostList.replaceChildren(...summary.nodes.map(n => h("option", { value: n.node })));
      summaryNodes = summary.nodes.map(n => n.node);
      // The cluster summary holds each host's whole summary (alerts and patterns included): one call for every host.
      const candidates = only ? summary.nodes.filter(n => n.node === only) : summary.nodes;
      const charted = [...candidates].sort((a, b) => b.active_alerts.length - a.active_alerts.length || a.node.localeCompare(b.node)).slice(0, MaxCharted);
      shown.textContent = only
        ? (charted.length ? "" : `No host named ${only} has sent samples in this window.`)
        : summary.nodes.length > MaxCharted ? `Charts for ${MaxCharted} of ${summary.nodes.length} hosts (those with alerts first); pick one by name above.` : "";
      const sections = await Promise.all(charted.map(async node => {
        const series = await api(`/v1/resources/nodes/${encodeURIComponent(node.node)}/series?window=${window}&points=120`);
        const latest = metric => node.metrics.filter(m => m.metric === metric).map(m => m.latest);
        const charts = Charts.map(c => {
          const matching = series.series.filter(c.match);
          if (matching.length === 0) return null;
          return h("div", { class: "panel" }, h("strong", {}, c.title), lineChart(matching.map(s => ({
            name: s.series, points: s.timestamps.map((t, i) => [Date.parse(t), s.values[i]]),
          })), { format: v => c.unit === "B/s" ? `${fmt.bytes(v)}/s` : fmt.value(v, c.unit), yMax: c.yMax ?? null, height: 180, title: `${node.node}: ${c.title}` }));
        }).filter(Boolean);
        return h("section", { class: "host", dataset: { node: node.node } },
          h("h2", {}, node.node, " ", node.group === "simulated-demo" ? h("span", { class: "badge sim" }, "simulated") : h("span", { class: "badge" }, node.group)),
          h("div", { class: "cards" },
            card("CPU", fmt.value(latest("cpu")[0], "%")), card("Memory", fmt.value(latest("memory")[0], "%")),
            card("GPU", latest("gpu_utilization").length ? latest("gpu_utilization").map(v => fmt.value(v, "%")).join(" · ") : "–"),
            card("Samples", fmt.number(node.sample_count), `last ${fmt.clock(node.last_sample_at)}`),
            card("Active alerts", fmt.number(node.active_alerts.length), h("span", {}, node.active_alerts.map(a => [levelBadge(a.level), " "])))),
          h("div", { class: "grid2" }, charts),
          node.patterns.length ? h("div", { class: "panel" }, h("strong", {}, "Patterns found"), h("ul", {},
            node.patterns.map(p => h("li", {}, h("span", { class: "badge" }, p.kind), ` ${p.description} (confidence ${fmt.percent(p.confidence, 0)}, ${fmt.clock(p.detected_at)})`)))) : null);
      }));
      hosts.replaceChildren(...(sections.length ? sections : [h("p", { class: "muted" }, "No host has sent samples yet.")]));
      if (!editing) await drawThresholds();
      message.replaceChildren();
    } catch (e) {
      message.replaceChildren(errorBox(e));
    }
  }

  return { refresh };
}
