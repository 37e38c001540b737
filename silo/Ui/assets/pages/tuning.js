import { h, api, fmt, card, errorBox, guarded, session } from "../app.js";

/** The tuner: its state, recommendations with their evidence (apply, reject, roll back for an admin) and the history of changes. */
export async function render(main) {
  const message = h("div");
  const status = h("div", { class: "cards", id: "tuner" });
  const recommendations = h("div", { class: "panel", id: "recommendations" });
  const historyPanel = h("div", { class: "panel", id: "history" });
  const admin = session.can("admin");
  // The evidence a reader opened stays open across refreshes.
  const opened = new Set();
  const runButton = h("button", { type: "button", class: "primary", disabled: !admin, onclick: () => act("/v1/tuning/run", "A cycle ran.") }, "Run a cycle now");
  main.replaceChildren(h("h1", {}, "Tuning"),
    h("div", { class: "toolbar" }, runButton, admin ? null : h("span", { class: "muted" }, "Applying, rejecting and rolling back need a key with the admin scope.")),
    message, status, h("h2", {}, "Recommendations"), recommendations, h("h2", {}, "History"), historyPanel);

  async function act(path, done) {
    try {
      await api(path, { method: "POST" });
      message.replaceChildren(h("p", { role: "status" }, done));
      await refresh();
    } catch (e) {
      message.replaceChildren(errorBox(e));
    }
  }

  const change = r => r.recommended_weights
    ? `weights ${fmtWeights(r.current_weights)} → ${fmtWeights(r.recommended_weights)}`
    : `${fmt.number(r.current_value, 3)} → ${fmt.number(r.recommended_value, 3)}`;
  const fmtWeights = w => w ? `${w.latency.toFixed(2)}/${w.quality.toFixed(2)}/${w.cost.toFixed(2)}` : "–";

  async function refresh() {
    const [state, list, log] = await Promise.all([api("/v1/tuning/status"), api("/v1/tuning/recommendations?limit=100"), api("/v1/tuning/history")]);
    const c = state.configuration;
    status.replaceChildren(
      card("Tuner", c.enabled ? "on" : "off", `${c.auto_apply ? "applies" : "proposes"} · every ${c.tuning_interval_minutes} min`),
      card("Last cycle", fmt.clock(state.last_cycle), `${fmt.number(state.cycles)} cycles`),
      card("Next cycle", fmt.clock(state.next_cycle)),
      card("Under evaluation", fmt.number(state.under_evaluation.length), `${c.evaluation_minutes} min each`),
      card("Gates", `${fmt.percent(c.confidence_threshold, 0)} / ${fmt.percent(c.impact_threshold, 0)}`, "confidence / impact"));
    recommendations.replaceChildren(list.recommendations.length === 0 ? h("p", { class: "muted" }, "No recommendations yet: a cycle needs an hour of figures to act on.") : h("table", {},
      h("thead", {}, h("tr", {}, ["Id", "Rule", "Target", "Change", "Confidence", "Impact", "Status", "Why and evidence", ""].map(x => h("th", {}, x)))),
      h("tbody", {}, list.recommendations.map(r => h("tr", { dataset: { id: r.id } },
        h("td", {}, r.id), h("td", {}, r.rule), h("td", {}, r.target), h("td", {}, change(r)),
        h("td", { class: "num" }, fmt.percent(r.confidence, 0)), h("td", { class: "num" }, fmt.percent(r.expected_impact, 1)),
        h("td", {}, h("span", { class: "badge" }, r.status), r.outcome ? ` ${r.outcome}` : "", r.applied_by ? h("div", { class: "muted" }, `by ${r.applied_by}`) : null),
        h("td", { class: "wrap" }, h("details", { open: opened.has(r.id), ontoggle: e => e.target.open ? opened.add(r.id) : opened.delete(r.id) }, h("summary", {}, r.reasoning),
          h("ul", {}, (r.evidence ?? []).map(e => h("li", {}, `${e.name}: ${fmt.number(e.value, 4)} (${fmt.number(e.samples)} samples, ${e.window})`))))),
        h("td", {}, admin && r.status === "proposed" ? [
          h("button", { type: "button", onclick: () => act(`/v1/tuning/recommendations/${encodeURIComponent(r.id)}/apply`, `${r.id} applied.`) }, "Apply"), " ",
          h("button", { type: "button", onclick: () => act(`/v1/tuning/recommendations/${encodeURIComponent(r.id)}/reject`, `${r.id} rejected.`) }, "Reject")] : null,
          admin && r.status === "applied" ? h("button", { type: "button", onclick: () => act(`/v1/tuning/recommendations/${encodeURIComponent(r.id)}/rollback`, `${r.id} rolled back.`) }, "Roll back") : null))))));
    historyPanel.replaceChildren(log.history.length === 0 ? h("p", { class: "muted" }, "No changes yet.") : h("table", {},
      h("thead", {}, h("tr", {}, ["Time", "Id", "Target", "Change", "Status", "By"].map(x => h("th", {}, x)))),
      h("tbody", {}, [...log.history].reverse().slice(0, 200).map(e => h("tr", {},
        h("td", {}, fmt.time(e.timestamp)), h("td", {}, e.recommendation.id), h("td", {}, e.recommendation.target), h("td", {}, change(e.recommendation)),
        h("td", {}, e.recommendation.status), h("td", {}, e.recommendation.applied_by ?? "–"))))));
  }

  return { refresh: guarded(message, refresh) };
}
