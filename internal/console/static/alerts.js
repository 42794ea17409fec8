// alerts page: open alerts (with their count in the page header), newest
// first and those nobody acknowledged yet on top, acknowledging them, and
// the resolved history. See console.js for the shared helpers (CS.*).
(function () {
  "use strict";
  const { el, $, clear } = CS;
  const KINDS = { offline: "Offline", faulted: "Faulted", payment_stuck: "Payment stuck" };
  const canAck = CS.can("network");
  const REFRESH_MS = 30000;

  // since: how long ago, in words ("3 h 5 min").
  function since(iso, until) {
    const s = Math.max(0, Math.round(((until ? new Date(until).getTime() : Date.now()) - new Date(iso).getTime()) / 1000));
    if (s < 60) return s + " s";
    if (s < 86400) return CS.duration(s);
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    return d + " d " + h + " h";
  }

  function about(a) {
    const parts = [];
    if (a.station_id) {
      parts.push(el("a", { href: "/console/stations/" + encodeURIComponent(a.station_id) }, a.station_id));
      if (a.connector_id) parts.push(" · connector " + a.connector_id);
    }
    if (a.payment_id) parts.push(el("div", { class: "muted small" }, a.payment_id));
    if (!parts.length) parts.push(a.subject);
    return parts;
  }

  function acked(a) {
    if (!a.acknowledged_at) return null;
    return el("span", { title: CS.time(a.acknowledged_at) }, "✓ " + (a.acknowledged_by || "acknowledged"),
      el("div", { class: "muted small" }, CS.ago(a.acknowledged_at)));
  }

  const kindBadge = (a) => CS.badge(KINDS[a.kind] || a.kind, "kind-" + a.kind);

  async function acknowledge(a, btn) {
    btn.disabled = true;
    const out = await CS.run(() => CS.api("POST", "/alerts/" + encodeURIComponent(a.id) + "/acknowledge", {}));
    if (!out) { btn.disabled = false; return; }
    CS.flash("Alert acknowledged: " + out.message);
    await loadOpen();
  }

  // open alerts: every page (there are few), unacknowledged first.
  async function loadOpen() {
    const kind = $("#alert-kind").value;
    let items = [], cursor = "";
    for (let i = 0; i < 100; i++) {
      const page = await CS.api("GET", "/alerts" + CS.query({ state: "open", kind, limit: 500, cursor }));
      items = items.concat(page.items);
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    items.sort((a, b) => (a.acknowledged_at ? 1 : 0) - (b.acknowledged_at ? 1 : 0) || b.opened_at.localeCompare(a.opened_at));
    const count = $("#open-count");
    count.textContent = String(items.length) + " open";
    count.classList.toggle("zero", items.length === 0);
    document.title = (items.length ? "(" + items.length + ") " : "") + "Alerts · Charge Star console";
    const tbody = clear($("#open-table tbody"));
    if (!items.length) tbody.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, kind ? "No open alerts of this kind." : "No open alerts: all is well.")));
    for (const a of items) {
      const ackCell = el("td", {}, acked(a) || (canAck
        ? el("button", { type: "button", class: "small primary ack", onclick: (e) => acknowledge(a, e.target) }, "Acknowledge")
        : el("span", { class: "muted" }, "not yet")));
      tbody.append(el("tr", { class: a.acknowledged_at ? "acknowledged" : "", dataset: { alert: a.id } },
        el("td", {}, kindBadge(a)),
        el("td", {}, about(a)),
        el("td", {}, a.message),
        el("td", { title: "since " + CS.time(a.opened_at) }, since(a.opened_at), el("div", { class: "muted small" }, CS.time(a.opened_at))),
        ackCell));
    }
    $("#alerts-updated").textContent = "Updated " + new Date().toLocaleTimeString("en-AU");
  }

  // resolved alerts: one page at a time, newest first.
  let resolvedCursor = "";
  async function loadResolved(more) {
    if (!more) { resolvedCursor = ""; clear($("#resolved-table tbody")); }
    const page = await CS.api("GET", "/alerts" + CS.query({ state: "resolved", kind: $("#alert-kind").value, limit: 50, cursor: resolvedCursor }));
    const tbody = $("#resolved-table tbody");
    if (!more && !page.items.length) tbody.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "No resolved alerts yet.")));
    for (const a of page.items) {
      tbody.append(el("tr", { dataset: { alert: a.id } },
        el("td", {}, kindBadge(a)),
        el("td", {}, about(a)),
        el("td", {}, a.message),
        el("td", {}, CS.time(a.opened_at)),
        el("td", {}, CS.time(a.resolved_at), el("div", { class: "muted small" }, "after " + since(a.opened_at, a.resolved_at))),
        el("td", {}, acked(a) || el("span", { class: "muted" }, "–"))));
    }
    resolvedCursor = page.next_cursor;
    $("#resolved-more").hidden = !resolvedCursor;
  }

  const refresh = () => CS.run(() => Promise.all([loadOpen(), loadResolved(false)]));

  CS.page(async () => {
    $("#alert-kind").addEventListener("change", refresh);
    $("#resolved-more").addEventListener("click", () => CS.run(() => loadResolved(true)));
    await Promise.all([loadOpen(), loadResolved(false)]);
    setInterval(() => { if (!document.hidden) CS.run(loadOpen); }, REFRESH_MS);
  });
})();
