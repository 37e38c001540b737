import { h, api, fmt, errorBox, levelBadge, session, catalogModels, modelSelect } from "../app.js";

const Strategies = ["balanced", "lowest_latency", "highest_quality", "cost_effective", "adaptive"];

/** Asks the router for a decision and shows it: the choice, each candidate's latency, quality and cost parts, the rejected and why. */
export async function render(main) {
  const models = await catalogModels();
  const result = h("div", { id: "decision" });
  const strategy = h("select", { name: "strategy", "aria-label": "Strategy" }, Strategies.map(s => h("option", { value: s }, s)));
  const prompt = h("textarea", { name: "prompt", rows: 3, placeholder: "The prompt (its tokens are counted with each model's tokenizer)" }, "Write a short Python function that reverses a string.");
  const outputTokens = h("input", { type: "number", name: "output_tokens", min: 1, value: 256 });
  const maxLatency = h("input", { type: "number", name: "max_latency", step: "any", min: 0, placeholder: "seconds" });
  const maxCost = h("input", { type: "number", name: "max_cost", step: "any", min: 0, placeholder: "per request" });
  const flags = ["requires_code", "requires_vision", "requires_tools", "stream"].map(f => h("label", {}, h("input", { type: "checkbox", name: f }), f.replace("_", " ")));
  const creativity = h("input", { type: "range", name: "creativity_requirement", min: 0, max: 1, step: 0.1, value: 0 });
  const reasoning = h("input", { type: "range", name: "reasoning_requirement", min: 0, max: 1, step: 0.1, value: 0 });
  const candidates = modelSelect(models, { name: "available_models", "aria-label": "Candidates" });

  const form = h("form", { class: "stack panel", id: "route-form" },
    h("label", {}, "Strategy", strategy),
    h("label", {}, "Prompt", prompt),
    h("div", { class: "row" }, h("label", {}, "Output tokens", outputTokens), h("label", {}, "Max latency (s)", maxLatency), h("label", {}, "Max cost", maxCost)),
    h("div", { class: "row" }, h("label", {}, "Creativity", creativity), h("label", {}, "Reasoning", reasoning)),
    h("div", { class: "checks" }, flags),
    h("label", {}, "Candidates (none selected: the whole catalog)", candidates),
    h("div", {}, h("button", { type: "submit", class: "primary", disabled: !session.can("write") }, "Decide"),
      session.can("write") ? null : h("span", { class: "muted" }, " Asking for a decision needs a key with the write scope.")));

  form.addEventListener("submit", async event => {
    event.preventDefault();
    const features = {
      prompt: prompt.value,
      output_tokens: Number(outputTokens.value) || undefined,
      creativity_requirement: Number(creativity.value),
      reasoning_requirement: Number(reasoning.value),
      max_latency: maxLatency.value === "" ? undefined : Number(maxLatency.value),
      max_cost: maxCost.value === "" ? undefined : Number(maxCost.value),
    };
    for (const f of flags) features[f.querySelector("input").name] = f.querySelector("input").checked;
    const chosen = [...candidates.selectedOptions].map(o => o.value);
    try {
      const decision = await api("/v1/models/route", {
        method: "POST",
        body: { request_features: features, available_models: chosen.length ? chosen : undefined, strategy: strategy.value, detail: "full" },
      });
      show(decision);
    } catch (e) {
      result.replaceChildren(errorBox(e));
    }
  });

  function show(d) {
    result.replaceChildren(
      h("h2", {}, "Decision ", h("span", { class: "badge ok", id: "selected-model" }, d.selected_model)),
      h("div", { class: "panel" },
        h("p", {}, h("strong", {}, "Confidence "), fmt.percent(d.confidence_score, 0), h("span", { class: "muted" }, ` · weights: latency ${d.weights.latency}, quality ${d.weights.quality}, cost ${d.weights.cost} · computed in ${fmt.number(d.compute_microseconds)} µs on statistics ${fmt.number(d.snapshot_age_seconds, 1)} s old`)),
        h("p", { class: "wrap" }, d.reasoning),
        h("p", {}, h("strong", {}, "Fallback order "), d.fallback_order.length ? d.fallback_order.join(" → ") : "none")),
      h("h2", {}, "Candidates"),
      h("div", { class: "panel" }, h("table", { id: "candidates" },
        h("thead", {}, h("tr", {}, ["Model", "Score", "Latency part", "Quality part", "Cost part", "Latency p95", "Quality", "Cost", "Error rate", "Health", "Hosts"].map(c => h("th", {}, c)))),
        h("tbody", {}, d.candidates.map(c => h("tr", { dataset: { model: c.model } },
          h("td", {}, c.model), h("td", { class: "num" }, c.score.toFixed(3)),
          h("td", { class: "num" }, c.latency_part.toFixed(3)), h("td", { class: "num" }, c.quality_part.toFixed(3)), h("td", { class: "num" }, c.cost_part.toFixed(3)),
          h("td", { class: "num", title: `${c.latency.samples} samples, ${c.latency.source}` }, fmt.seconds(c.latency.value)),
          h("td", { class: "num", title: `${c.quality.samples} samples, ${c.quality.source}` }, c.quality.value.toFixed(2)),
          h("td", { class: "num" }, fmt.cost(c.cost.value)), h("td", { class: "num" }, fmt.percent(c.error_rate.value)),
          h("td", {}, c.health), h("td", {}, levelBadge(c.host_alert))))))),
      h("h2", {}, "Rejected"),
      h("div", { class: "panel" }, d.rejected.length === 0 ? h("p", { class: "muted" }, "None.") : h("table", { id: "rejected" },
        h("thead", {}, h("tr", {}, h("th", {}, "Model"), h("th", {}, "Why"))),
        h("tbody", {}, d.rejected.map(r => h("tr", {}, h("td", {}, r.model), h("td", { class: "wrap" }, r.reason)))))));
  }

  main.replaceChildren(h("h1", {}, "Routing"), h("p", { class: "muted" }, "Ask the router which model it would choose, and why. A decision made here counts against the chosen model's rate limit, as any decision does."), form, result);
  return { refresh: null };
}
