import { h, api, fmt, errorBox, levelBadge, sortableTable } from "../app.js";

const Levels = ["info", "warning", "critical", "emergency"];

/** A target's state in a word: delivering in step, working through a backlog, or retrying a failing head. */
const StatusBadge = { ok: "ok", sending: "level-warning", retrying: "bad" };
const deliveryStatus = t => t.head_attempts > 0 && t.next_try_at ? "retrying" : t.queued > 0 ? "sending" : "ok";

/** Active alerts and the history, filterable by level and host, live from the cluster's alert stream (server-sent events); notification targets' delivery. */
export async function render(main) {
  const params = new URLSearchParams(location.search);
  let level = Levels.includes(params.get("level")) ? params.get("level") : "";
  let node = params.get("node") ?? "";
  const message = h("div");
  const live = h("span", { class: "live", id: "live" }, "connecting");
  const active = h("div", { class: "panel", id: "active" });
  const notifications = h("div", { class: "panel", id: "notifications" });
  const eventsBody = h("tbody");
  const events = h("div", { class: "panel" }, h("table", { id: "events" },
    h("thead", {}, h("tr", {}, ["Time", "Host", "Series", "Level", "Kind", "Value", "Message"].map(c => h("th", {}, c)))), eventsBody));
  const nodeInput = h("input", { type: "text", placeholder: "any host", value: node, "aria-label": "Host", list: "alert-hosts", size: 16 });
  const hostList = h("datalist", { id: "alert-hosts" });
  const levelSelect = h("select", { "aria-label": "Lowest level" },
    h("option", { value: "" }, "any level"), Levels.map(l => h("option", { value: l, selected: l === level }, `${l} and above`)));
  const apply = () => {
    level = levelSelect.value;
    node = nodeInput.value.trim();
    const url = new URL(location.href);
    for (const [k, v] of [["level", level], ["node", node]]) v ? url.searchParams.set(k, v) : url.searchParams.delete(k);
    history.replaceState(null, "", url);
    connect();
    refresh();
  };
  levelSelect.addEventListener("change", apply);
  nodeInput.addEventListener("change", apply);
  main.replaceChildren(h("h1", {}, "Alerts ", live),
    h("div", { class: "toolbar" }, h("label", {}, "Level ", levelSelect), h("label", {}, "Host ", nodeInput), hostList),
    message, h("h2", {}, "Active"), active, h("h2", {}, "History (newest first)"), events, h("h2", {}, "Notifications"), notifications);

  const query = () => {
    const q = new URLSearchParams();
    if (level) q.set("level", level);
    if (node) q.set("node", node);
    return q;
  };

  // Events heard on the stream stay marked as such when the list is read again.
  const heard = new Set();
  const keyOf = e => `${e.alert_id}|${e.kind}|${e.timestamp}`;
  const eventRow = (e, fresh) => h("tr", { class: fresh ? "fresh" : null, dataset: { alert: e.alert_id, live: heard.has(keyOf(e)) ? "true" : null } },
    h("td", {}, fmt.time(e.timestamp)), h("td", {}, e.node), h("td", {}, e.series), h("td", {}, levelBadge(e.level)),
    h("td", {}, e.kind), h("td", { class: "num" }, fmt.number(e.value, 1)), h("td", { class: "wrap" }, e.message));

  async function refresh() {
    try {
      const q = query();
      q.set("limit", "200");
      const [log, nodes, targets] = await Promise.all([api(`/v1/resources/alerts?${q}`), api("/v1/resources/nodes"), api("/v1/alerts/notifications")]);
      notifications.replaceChildren(targets.targets.length === 0 ? h("p", { class: "muted" }, "No notification targets are configured (Kyros:Notifications).") :
        sortableTable([
          { key: "name", label: "Target", render: t => t.name },
          { key: "kind", label: "Kind", render: t => t.kind },
          { key: "status", label: "Status", value: deliveryStatus, render: t => h("span", { class: `badge ${StatusBadge[deliveryStatus(t)]}` }, deliveryStatus(t)) },
          { key: "queued", label: "Queued", num: true, render: t => fmt.number(t.queued) },
          { key: "sent", label: "Sent", num: true, render: t => fmt.number(t.sent) },
          { key: "failed", label: "Failed", num: true, render: t => fmt.number(t.failed) },
          { key: "head_attempts", label: "Attempts", num: true, render: t => fmt.number(t.head_attempts) },
          { key: "last_error", label: "Last error", wrap: true, render: t => t.last_error ?? "–" },
          { key: "last_sent_at", label: "Last sent", render: t => fmt.time(t.last_sent_at) },
          { key: "next_try_at", label: "Next try", render: t => fmt.time(t.next_try_at) },
        ], targets.targets.map(t => ({ ...t, __key: t.name })), { sortKey: "name", descending: false, id: "notification-targets" }));
      hostList.replaceChildren(...nodes.nodes.map(n => h("option", { value: n })));
      active.replaceChildren(log.active.length === 0 ? h("p", { class: "muted" }, "No active alerts.") : h("table", {},
        h("thead", {}, h("tr", {}, ["Host", "Series", "Level", "Since", "Updated", "Value"].map(c => h("th", {}, c)))),
        h("tbody", {}, log.active.map(a => h("tr", {},
          h("td", {}, a.node), h("td", {}, a.series), h("td", {}, levelBadge(a.level)), h("td", {}, fmt.time(a.since)),
          h("td", {}, fmt.time(a.updated)), h("td", { class: "num" }, fmt.number(a.value, 1)))))));
      eventsBody.replaceChildren(...(log.events.length ? log.events.map(e => eventRow(e, false)) : [h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No alert events."))]));
      message.replaceChildren();
    } catch (e) {
      message.replaceChildren(errorBox(e));
    }
  }

  let source = null;
  function connect() {
    source?.close();
    source = new EventSource(`/v1/resources/alerts/stream?${query()}`);
    live.textContent = "connecting";
    live.classList.remove("on");
    source.addEventListener("ready", () => { live.textContent = "live"; live.classList.add("on"); });
    source.addEventListener("alert", event => {
      const alert = JSON.parse(event.data);
      heard.add(keyOf(alert));
      if (eventsBody.querySelector("td[colspan]")) eventsBody.replaceChildren();
      eventsBody.prepend(eventRow(alert, true));
      // A raised or cleared alert changes the active list: read it again now rather than at the next tick.
      if (alert.kind !== "notice") refresh();
    });
    source.onerror = () => { live.textContent = "reconnecting"; live.classList.remove("on"); };
  }
  connect();

  return { refresh };
}
