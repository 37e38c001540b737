import { h, api, fmt, card, errorBox, guarded, session, simulatedBadge, simulatedIds, catalogModels, modelSelect } from "../app.js";
import { lineChart, palette } from "../charts.js";

/** Benchmark runs: start one, watch its progress, read its report with charts, compare it with earlier runs of its configuration. */
export async function render(main, id) {
  return id ? renderRun(main, id) : renderList(main);
}

async function renderList(main) {
  const message = h("div");
  const runs = h("div", { class: "panel", id: "runs" });
  const catalog = await catalogModels();
  const admin = session.can("admin");
  // A benchmark runs chat generations: embedding models are not offered.
  const models = modelSelect(catalog.filter(m => m.kind !== "embedding"), { name: "model_types", "aria-label": "Models" }, (_, i) => i < 2);
  const prompts = h("textarea", { name: "test_prompts", rows: 3 }, "Say hello.\nExplain a p95 latency in one sentence.");
  const iterations = h("input", { type: "number", name: "iterations_per_model", min: 1, value: 10 });
  const levels = h("input", { type: "text", name: "concurrency_levels", value: "1, 2, 4", size: 10 });
  const maxTokens = h("input", { type: "number", name: "max_tokens", min: 1, value: 128 });
  const sloTtft = h("input", { type: "number", name: "slo_ttft", step: "any", min: 0, placeholder: "s" });
  const sloLatency = h("input", { type: "number", name: "slo_latency", step: "any", min: 0, placeholder: "s" });
  const form = h("form", { class: "stack panel", id: "run-form" },
    h("label", {}, "Models", models), h("label", {}, "Prompts (one a line)", prompts),
    h("div", { class: "row" }, h("label", {}, "Requests per model and level", iterations), h("label", {}, "Concurrency levels", levels), h("label", {}, "Max tokens", maxTokens)),
    h("div", { class: "row" }, h("label", {}, "SLO: TTFT", sloTtft), h("label", {}, "SLO: latency", sloLatency)),
    h("div", {}, h("button", { type: "submit", class: "primary", disabled: !admin }, "Start a run"),
      admin ? null : h("span", { class: "muted" }, " Starting a run needs a key with the admin scope.")));
  form.addEventListener("submit", async event => {
    event.preventDefault();
    try {
      const run = await api("/v1/benchmark/run", {
        method: "POST",
        body: {
          model_types: [...models.selectedOptions].map(o => o.value),
          test_prompts: prompts.value.split("\n").map(p => p.trim()).filter(Boolean),
          iterations_per_model: Number(iterations.value),
          concurrency_levels: levels.value.split(",").map(v => Number(v.trim())).filter(v => v > 0),
          max_tokens: Number(maxTokens.value),
          slo: sloTtft.value || sloLatency.value ? { ttft_seconds: sloTtft.value ? Number(sloTtft.value) : null, latency_seconds: sloLatency.value ? Number(sloLatency.value) : null } : undefined,
        },
      });
      location.href = `/ui/benchmarks/${encodeURIComponent(run.id)}`;
    } catch (e) {
      message.replaceChildren(errorBox(e));
    }
  });
  main.replaceChildren(h("h1", {}, "Benchmarks"), message, h("h2", {}, "Runs"), runs, h("h2", {}, "Start a run"), form);

  async function refresh() {
    const list = await api("/v1/benchmark?limit=50");
    runs.replaceChildren(list.runs.length === 0 ? h("p", { class: "muted" }, "No runs yet.") : h("table", {},
      h("thead", {}, h("tr", {}, ["Run", "Status", "Progress", "Models", "Configuration", "Created", "Took"].map(c => h("th", {}, c)))),
      h("tbody", {}, list.runs.map(r => h("tr", { dataset: { run: r.id } },
        h("td", {}, h("a", { href: `/ui/benchmarks/${encodeURIComponent(r.id)}` }, r.id)), h("td", {}, h("span", { class: "badge" }, r.status)),
        h("td", {}, h("progress", { max: 1, value: r.progress.fraction }), ` ${fmt.percent(r.progress.fraction, 0)}`),
        h("td", {}, r.config.model_types.join(", ")), h("td", {}, r.config.name ?? r.config_key), h("td", {}, fmt.time(r.created_at)),
        h("td", {}, r.finished_at && r.started_at ? fmt.seconds((Date.parse(r.finished_at) - Date.parse(r.started_at)) / 1000) : "–"))))));
  }
  return { refresh: guarded(message, refresh) };
}

async function renderRun(main, id) {
  const path = `/v1/benchmark/${encodeURIComponent(id)}`;
  const message = h("div");
  const head = h("div", { class: "cards", id: "run" });
  const results = h("div", { class: "panel", id: "results" });
  const charts = h("div", { class: "grid2" });
  const trends = h("div", { class: "panel", id: "trends" });
  const cancel = h("button", { type: "button", disabled: !session.can("admin"), onclick: async () => {
    try { await api(path, { method: "DELETE" }); await refresh(); } catch (e) { message.replaceChildren(errorBox(e)); }
  } }, "Cancel");
  main.replaceChildren(h("p", {}, h("a", { href: "/ui/benchmarks" }, "← Benchmarks")), h("h1", {}, id),
    h("div", { class: "toolbar" }, cancel, h("a", { href: `${path}/report?format=markdown` }, "Report (Markdown)"), h("a", { href: `${path}/report?format=csv` }, "CSV")),
    message, head, h("h2", {}, "Results"), results, h("h2", {}, "Charts"), charts, h("h2", {}, "Compared with earlier runs of this configuration"), trends);
  let finished = false;

  async function refresh() {
    if (finished) return;
    const run = await api(path);
    const simulated = await simulatedIds();
    cancel.hidden = run.status !== "running" && run.status !== "queued";
    head.replaceChildren(
      card("Status", run.status, run.error ?? run.silo ?? ""),
      card("Progress", fmt.percent(run.progress.fraction, 0), `${fmt.number(run.progress.completed)} of ${fmt.number(run.progress.total)} · ${run.progress.phase ?? ""}`),
      card("Models", fmt.number(run.config.model_types.length), run.config.model_types.join(", ")),
      card("Started", fmt.clock(run.started_at), run.finished_at ? `finished ${fmt.clock(run.finished_at)}` : "running"));
    results.replaceChildren(run.results.length === 0 ? h("p", { class: "muted" }, "No cell finished yet.") : h("table", {},
      h("thead", {}, h("tr", {}, ["Model", "Mode", "Level", "Requests", "Errors", "p50", "p95", "p99", "TTFT p50", "Tokens/s", "Req/s", "Goodput", "Cost/req"].map(c => h("th", {}, c)))),
      h("tbody", {}, run.results.map(r => h("tr", {},
        h("td", {}, r.model, simulated.has(r.model) ? [" ", simulatedBadge()] : null), h("td", {}, r.mode),
        h("td", { class: "num" }, r.mode === "load" ? `${r.target_rps} rps` : r.concurrency), h("td", { class: "num" }, fmt.number(r.requests)),
        h("td", { class: "num" }, fmt.percent(r.error_rate)), h("td", { class: "num" }, fmt.seconds(r.latency?.p50)), h("td", { class: "num" }, fmt.seconds(r.latency?.p95)),
        h("td", { class: "num" }, fmt.seconds(r.latency?.p99)), h("td", { class: "num" }, fmt.seconds(r.ttft?.p50)),
        h("td", { class: "num" }, fmt.number(r.output_tokens_per_second, 1)), h("td", { class: "num" }, fmt.number(r.requests_per_second, 2)),
        h("td", { class: "num" }, fmt.percent(r.goodput, 0)), h("td", { class: "num" }, fmt.cost(r.cost_per_request)))))));

    const cells = run.results.filter(r => r.mode === "concurrency");
    const byModel = [...new Set(cells.map(r => r.model))];
    const perModel = pick => byModel.map((m, i) => ({ name: m, color: palette[i % palette.length], points: cells.filter(r => r.model === m).map(r => [r.concurrency, pick(r)]) }));
    const level = x => `×${x}`;
    const xTicks = [...new Set(cells.map(r => r.concurrency))].sort((a, b) => a - b);
    charts.replaceChildren(
      h("div", { class: "panel" }, h("strong", {}, "Median latency against concurrency"), lineChart(perModel(r => r.latency?.p50), { format: fmt.seconds, xFormat: level, xTicks, title: "p50 latency by concurrency" })),
      h("div", { class: "panel" }, h("strong", {}, "p95 latency against concurrency"), lineChart(perModel(r => r.latency?.p95), { format: fmt.seconds, xFormat: level, xTicks, title: "p95 latency by concurrency" })),
      h("div", { class: "panel" }, h("strong", {}, "Throughput against concurrency"), lineChart(perModel(r => r.requests_per_second), { format: v => `${fmt.number(v, 2)}/s`, xFormat: level, xTicks, title: "Requests per second by concurrency" })));

    if (run.status === "completed") {
      const t = await api(`/v1/benchmark/trends?run=${encodeURIComponent(id)}`).catch(() => null);
      if (!t || t.baseline_runs.length === 0) trends.replaceChildren(h("p", { class: "muted" }, "No earlier finished run of this configuration to compare with."));
      else {
        const series = byModel.map((m, i) => ({ name: m, color: palette[i % palette.length],
          points: t.points.filter(p => p.model === m && p.metric === "latency_p50" && p.mode === "concurrency" && p.concurrency === cells[0]?.concurrency).map(p => [Date.parse(p.at), p.value]) }));
        trends.replaceChildren(
          h("p", {}, `Against ${t.baseline_runs.length} earlier run(s): ${t.baseline_runs.join(", ")}. A regression is a change whose 95% interval lies on the worse side and is at least ${fmt.percent(t.regression_threshold, 0)} worse.`),
          h("table", { id: "changes" }, h("thead", {}, h("tr", {}, ["Model", "Level", "Metric", "Before", "Now", "Change", "95% interval", ""].map(c => h("th", {}, c)))),
            h("tbody", {}, t.changes.map(c => h("tr", {},
              h("td", {}, c.model), h("td", { class: "num" }, c.mode === "load" ? "load" : c.concurrency), h("td", {}, c.metric),
              h("td", { class: "num" }, fmt.number(c.baseline, 4)), h("td", { class: "num" }, fmt.number(c.current, 4)),
              h("td", { class: "num" }, fmt.percent(c.change)), h("td", { class: "num" }, `${fmt.percent(c.change_low)} … ${fmt.percent(c.change_high)}`),
              h("td", {}, c.regression ? h("span", { class: "badge bad" }, "regression") : c.significant ? h("span", { class: "badge" }, "significant") : ""))))),
          h("strong", {}, `Median latency over runs (concurrency ${cells[0]?.concurrency ?? 1})`), lineChart(series, { format: fmt.seconds, title: "Median latency over runs" }));
      }
    }
    // A finished run no longer changes: stop asking.
    finished = ["completed", "failed", "cancelled"].includes(run.status);
  }
  return { refresh: guarded(message, refresh) };
}
