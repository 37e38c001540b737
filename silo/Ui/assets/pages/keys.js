import { h, api, fmt, card, errorBox, guarded, session, catalogModels, modelSelect } from "../app.js";

const Scopes = ["read", "write", "admin"];
const Periods = ["day", "month", "total"];

/** Run-time API keys (admin only): each key's limits and its spend in the period; create one (its secret shown once), revoke one. */
export async function render(main, id) {
  // Every /v1/keys call needs admin: a reader is told so rather than shown the 403.
  if (!session.can("admin")) {
    main.replaceChildren(h("h1", {}, "Keys"),
      h("p", { class: "notice", id: "admin-needed", role: "status" }, "Managing API keys needs a key with the admin scope. Sign in with such a key to see and change them."));
    return { refresh: null };
  }
  return id ? renderKey(main, id) : renderList(main);
}

const tokens = u => u ? u.input_tokens + u.output_tokens : null;
const budgetText = k => k.budget_usd === null || k.budget_usd === undefined ? "none" : `${fmt.cost(k.budget_usd)} / ${k.budget_period}`;
// A long list of models would widen every row: the first few, and how many more (all of them on hover and on the key's page).
const modelsText = models => !models ? "all" : models.length <= 3 ? models.join(", ") : `${models.slice(0, 3).join(", ")} +${models.length - 3} more`;
const keyHref = id => `/ui/keys/${encodeURIComponent(id)}`;

/** Spend against the budget as a bar (none without a budget); it turns red from 90% on. */
function spendBar(usage) {
  if (!usage || usage.budget_usd === null || usage.budget_usd === undefined) return null;
  const used = usage.budget_usd === 0 ? 1 : Math.min(1, (usage.spend_usd + usage.reserved_usd) / usage.budget_usd);
  return h("div", { class: `meter${used >= 0.9 ? " full" : ""}`, title: `${fmt.percent(used, 0)} of the budget spent or held` },
    h("div", { class: "fill", style: `width: ${(used * 100).toFixed(1)}%` }));
}

/** A revoke that asks first: the first click turns into confirm and cancel (kept across refreshes in confirming). */
function revokeButtons(key, confirming, redraw, revoke) {
  if (!confirming.has(key.id))
    return h("button", { type: "button", class: "danger", onclick: () => { confirming.add(key.id); redraw(); } }, "Revoke");
  return h("span", { class: "confirm" }, `Revoke ${key.name}? Every silo refuses it within 2 s. `,
    h("button", { type: "button", class: "danger", onclick: () => revoke(key) }, "Yes, revoke"), " ",
    h("button", { type: "button", onclick: () => { confirming.delete(key.id); redraw(); } }, "Cancel"));
}

async function renderList(main) {
  const message = h("div");
  const secret = h("div", { id: "secret" });
  const keysPanel = h("div", { class: "panel", id: "keys" });
  const configuredPanel = h("div", { class: "panel", id: "configured" });
  const confirming = new Set();
  let last = null;

  const catalog = await catalogModels();
  const name = h("input", { type: "text", name: "name", required: true, maxlength: 64, pattern: "[A-Za-z0-9._\\-]+", placeholder: "team-search", size: 20 });
  const scopes = Scopes.map(s => h("label", {}, h("input", { type: "checkbox", name: "scopes", value: s, checked: s === "read" }), s));
  const models = modelSelect(catalog, { name: "models", "aria-label": "Models" });
  const budget = h("input", { type: "number", name: "budget_usd", step: "any", min: 0, placeholder: "none", size: 8 });
  const period = h("select", { name: "budget_period", "aria-label": "Budget period" },
    h("option", { value: "" }, "month (default)"), Periods.map(p => h("option", { value: p }, p)));
  const rpm = h("input", { type: "number", name: "rpm", min: 1, step: 1, placeholder: "no limit", size: 8 });
  const tpm = h("input", { type: "number", name: "tpm", min: 1, step: 1, placeholder: "no limit", size: 8 });
  const expires = h("input", { type: "datetime-local", name: "expires_at", "aria-label": "Expires at" });
  const form = h("form", { class: "stack panel", id: "key-form" },
    h("label", {}, "Name", name),
    h("div", {}, h("span", { class: "muted" }, "Scopes"), h("div", { class: "checks" }, scopes)),
    h("label", {}, "Models (none selected: every model)", models),
    h("div", { class: "row" }, h("label", {}, "Budget (USD)", budget), h("label", {}, "Budget period", period)),
    h("div", { class: "row" }, h("label", {}, "Requests a minute", rpm), h("label", {}, "Tokens a minute", tpm), h("label", {}, "Expires at (your time)", expires)),
    h("div", {}, h("button", { type: "submit", class: "primary" }, "Create key")));

  const number = input => input.value === "" ? undefined : Number(input.value);
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const chosen = [...models.selectedOptions].map(o => o.value);
    try {
      const made = await api("/v1/keys", {
        method: "POST",
        body: {
          name: name.value.trim(),
          scopes: scopes.map(l => l.querySelector("input")).filter(i => i.checked).map(i => i.value),
          models: chosen.length ? chosen : undefined,
          budget_usd: number(budget),
          budget_period: period.value || undefined,
          rpm: number(rpm),
          tpm: number(tpm),
          expires_at: expires.value ? new Date(expires.value).toISOString() : undefined,
        },
      });
      form.reset();
      showSecret(made);
      message.replaceChildren();
      await refresh();
    } catch (e) {
      message.replaceChildren(errorBox(e));
    }
  });

  // The secret lives only in this element: not in the address, the list or storage, so a reload loses it for good.
  function showSecret(made) {
    const value = h("code", { class: "secret", id: "secret-value" }, made.key);
    const copied = h("span", { class: "muted", role: "status" });
    const copy = h("button", {
      type: "button", id: "copy-secret", onclick: async () => {
        try {
          await navigator.clipboard.writeText(made.key);
          copied.textContent = " Copied.";
        } catch {
          // No clipboard (an insecure origin, a denied permission): the text selected is one keystroke from copied.
          getSelection().selectAllChildren(value);
          copied.textContent = " Selected: copy it with your keyboard.";
        }
      },
    }, "Copy");
    secret.replaceChildren(h("div", { class: "panel secret-panel" },
      h("p", {}, h("strong", {}, `Key ${made.name} (${made.id}) created. `), "This is its secret, shown this once: store it now. It cannot be shown again."),
      h("p", {}, value), h("div", {}, copy, copied, " ", h("button", { type: "button", onclick: () => secret.replaceChildren() }, "I stored it"))));
  }

  async function revoke(key) {
    try {
      await api(`/v1/keys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
      confirming.delete(key.id);
      message.replaceChildren(h("p", { role: "status", id: "key-status" }, `Key ${key.name} revoked.`));
      await refresh();
    } catch (e) {
      message.replaceChildren(errorBox(e));
    }
  }

  function draw() {
    const keys = last.keys;
    keysPanel.replaceChildren(keys.length === 0 ? h("p", { class: "muted" }, "No run-time keys yet.") : h("table", {},
      h("thead", {}, h("tr", {}, ["Name", "Id", "Scopes", "Models", "Budget", "Spend", "Remaining", "Requests", "Tokens", "RPM", "TPM", "Expires", "Created", ""]
        .map(c => h("th", { class: ["Spend", "Remaining", "Requests", "Tokens", "RPM", "TPM"].includes(c) ? "num" : null }, c)))),
      h("tbody", {}, keys.map(k => h("tr", { dataset: { key: k.id } },
        h("td", {}, h("a", { href: keyHref(k.id) }, k.name)),
        h("td", {}, h("code", {}, k.id)),
        h("td", {}, k.scopes.join(", ")),
        h("td", { title: k.models?.join(", ") }, modelsText(k.models)),
        h("td", {}, budgetText(k)),
        h("td", { class: "num spend" }, fmt.cost(k.usage?.spend_usd), spendBar(k.usage)),
        h("td", { class: "num" }, fmt.cost(k.usage?.remaining_usd)),
        h("td", { class: "num" }, fmt.number(k.usage?.requests)),
        h("td", { class: "num", title: k.usage ? `${fmt.number(k.usage.input_tokens)} in, ${fmt.number(k.usage.output_tokens)} out` : null }, fmt.number(tokens(k.usage))),
        h("td", { class: "num", title: k.usage ? `${fmt.number(k.usage.requests_last_minute)} in the last minute` : null }, fmt.number(k.rpm)),
        h("td", { class: "num", title: k.usage ? `${fmt.number(k.usage.tokens_last_minute)} in the last minute` : null }, fmt.number(k.tpm)),
        h("td", {}, k.expires_at ? fmt.time(k.expires_at) : "never", k.expired ? [" ", h("span", { class: "badge bad" }, "expired")] : null),
        h("td", {}, fmt.time(k.created_at), h("div", { class: "muted" }, `by ${k.created_by}`)),
        h("td", {}, revokeButtons(k, confirming, draw, revoke)))))));
    configuredPanel.replaceChildren(last.configured.length === 0 ? h("p", { class: "muted" }, "No configured keys.") : h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Scopes"), h("th", { class: "num" }, "RPM"))),
      h("tbody", {}, last.configured.map(c => h("tr", {}, h("td", {}, c.name), h("td", {}, (c.scopes ?? []).join(", ")), h("td", { class: "num" }, fmt.number(c.rpm)))))));
  }

  async function refresh() {
    last = await api("/v1/keys");
    draw();
  }

  main.replaceChildren(h("h1", {}, "Keys"),
    h("p", { class: "muted" }, "Run-time API keys: spend, requests and tokens are this budget period's (a key without a budget counts by calendar month, UTC)."),
    message, secret, keysPanel, h("h2", {}, "Create a key"), form,
    h("h2", {}, "Configured keys"), h("p", { class: "muted" }, "From Kyros:Auth:Keys: change them in the configuration."), configuredPanel);
  return { refresh: guarded(message, refresh) };
}

async function renderKey(main, id) {
  const message = h("div");
  const figures = h("div", { class: "cards", id: "figures" });
  const settings = h("div", { class: "panel", id: "settings" });
  const modelsPanel = h("div", { class: "panel", id: "key-models" });
  const actions = h("div", { class: "toolbar" });
  const title = h("h1", {}, "Key");
  const confirming = new Set();
  let key = null;

  async function revoke(k) {
    try {
      await api(`/v1/keys/${encodeURIComponent(k.id)}`, { method: "DELETE" });
      location.href = "/ui/keys";
    } catch (e) {
      message.replaceChildren(errorBox(e));
    }
  }

  function draw() {
    const u = key.usage;
    title.replaceChildren(`Key ${key.name}`, ...(key.expired ? [h("span", { class: "badge bad" }, "expired")] : []));
    figures.replaceChildren(
      card("Spend", fmt.cost(u.spend_usd), [`${u.period} from ${fmt.time(u.period_start)}`, spendBar(u)]),
      card("Budget", budgetText(key), u.period_end ? `until ${fmt.time(u.period_end)}` : "never rolls over"),
      card("Remaining", fmt.cost(u.remaining_usd), u.reserved_usd > 0 ? `${fmt.cost(u.reserved_usd)} held by ${u.in_flight} in flight` : null),
      card("Requests", fmt.number(u.requests), `${fmt.number(u.requests_last_minute)} in the last minute · rpm ${fmt.number(key.rpm)}`),
      card("Tokens", fmt.number(tokens(u)), `${fmt.number(u.tokens_last_minute)} in the last minute · tpm ${fmt.number(key.tpm)}`),
      card("Refused", fmt.number(u.refused), "over a budget or a limit"));
    settings.replaceChildren(h("table", {}, h("tbody", {},
      [["Id", key.id], ["Scopes", key.scopes.join(", ")], ["Models", key.models ? key.models.join(", ") : "all"], ["Expires", key.expires_at ? fmt.time(key.expires_at) : "never"],
        ["Created", `${fmt.time(key.created_at)} by ${key.created_by}`], ["Changed", fmt.time(key.updated_at)], ["Revision", String(key.revision)]]
        .map(([label, value]) => h("tr", {}, h("th", { scope: "row" }, label), h("td", { class: "wrap" }, value))))));
    modelsPanel.replaceChildren(u.models.length === 0 ? h("p", { class: "muted" }, "No calls this period.") : h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Model"), ["Spend", "Requests", "Input tokens", "Output tokens"].map(c => h("th", { class: "num" }, c)))),
      h("tbody", {}, [...u.models].sort((a, b) => b.spend_usd - a.spend_usd).map(m => h("tr", { dataset: { model: m.model } },
        h("td", {}, h("a", { href: `/ui/models/${encodeURIComponent(m.model)}` }, m.model)), h("td", { class: "num" }, fmt.cost(m.spend_usd)),
        h("td", { class: "num" }, fmt.number(m.requests)), h("td", { class: "num" }, fmt.number(m.input_tokens)), h("td", { class: "num" }, fmt.number(m.output_tokens)))))));
    actions.replaceChildren(h("a", { href: "/ui/keys" }, "← All keys"), revokeButtons(key, confirming, draw, revoke));
  }

  async function refresh() {
    key = await api(`/v1/keys/${encodeURIComponent(id)}`);
    draw();
  }

  main.replaceChildren(title, actions, message, figures, settings, h("h2", {}, "Spend per model this period"), modelsPanel);
  return { refresh: guarded(message, refresh) };
}
