// board page: every station with its connectors, live. Reads GET
// /api/v1/board, then follows GET /api/v1/board/events (server-sent events)
// and updates rows in place; on a reconnect it reads the board again (the
// stream does not replay what was missed). See console.js for the shared
// helpers (CS.*).
(function () {
  "use strict";
  const { el, $, clear } = CS;

  const stations = new Map(); // id → BoardStation
  let sites = [];
  const filters = { site: "", status: "", q: "" };

  // --- state and labels ---

  // connectorLabel: an offline station's connectors show their last status,
  // greyed; a connector that never reported shows "Unknown".
  const stateBadge = (b) => b.retired_at ? CS.badge("Retired", "st-unavailable")
    : b.connected ? CS.badge("Online", "st-available") : CS.badge("Offline", "st-offline");

  function connectorView(b, c) {
    const status = c.status || "Unknown";
    const badge = CS.badge(status, b.connected ? CS.statusClass(c.status) : "st-unknown");
    badge.setAttribute("title", b.connected ? (c.status_at ? "since " + CS.time(c.status_at) : "") : "last reported before the station went offline");
    const parts = [el("span", { class: "conn-id" }, "#" + c.connector_id), badge];
    if (c.error_code && c.error_code !== "NoError") parts.push(el("span", { class: "error small" }, c.error_code));
    if (c.session) {
      const s = c.session;
      parts.push(el("span", { class: "session small" },
        CS.kwh(s.energy_wh), " · ", s.power_w === null || s.power_w === undefined ? "– kW" : CS.kw(s.power_w),
        " · since ", el("span", { title: CS.time(s.started_at) }, new Date(s.started_at).toLocaleTimeString("en-AU", { hour: "2-digit", minute: "2-digit" }))));
    }
    return el("div", { class: "conn", dataset: { connector: String(c.connector_id), status: status } }, parts);
  }

  function row(b) {
    const href = "/console/stations/" + encodeURIComponent(b.id);
    const model = [b.vendor, b.model].filter(Boolean).join(" ");
    return el("tr", { dataset: { station: b.id }, class: b.connected ? "" : "offline" },
      el("td", {}, el("a", { href, class: "station-link" }, el("b", {}, b.id)),
        model ? el("div", { class: "muted small" }, model) : null,
        b.protocol ? el("div", { class: "muted small" }, b.protocol) : null),
      el("td", {}, b.site_name || el("span", { class: "muted" }, "–")),
      el("td", { class: "state" }, stateBadge(b)),
      el("td", { class: "seen", title: b.last_seen_at ? CS.time(b.last_seen_at) : "" }, b.connected ? "now" : CS.ago(b.last_seen_at)),
      el("td", { class: "conns" }, el("div", { class: "conn-list" },
        b.connectors.length ? b.connectors.map((c) => connectorView(b, c)) : el("span", { class: "muted small" }, "none reported"))));
  }

  // matches mirrors the API's status and q filters (GET /board).
  function matches(b) {
    if (filters.q && !b.id.toLowerCase().includes(filters.q.toLowerCase())) return false;
    if (!filters.status) return true;
    if (filters.status === "Offline") return !b.connected;
    return b.connected && b.connectors.some((c) => c.status === filters.status);
  }

  function counters() {
    let online = 0, offline = 0, charging = 0, available = 0, faulted = 0;
    for (const b of stations.values()) {
      if (b.retired_at) continue;
      if (!b.connected) { offline++; continue; }
      online++;
      for (const c of b.connectors) {
        if (c.status === "Charging") charging++;
        else if (c.status === "Available") available++;
        else if (c.status === "Faulted") faulted++;
      }
    }
    $("#count-online").textContent = online;
    $("#count-offline").textContent = offline;
    $("#count-charging").textContent = charging;
    $("#count-available").textContent = available;
    $("#count-faulted").textContent = faulted;
  }

  function renderAll() {
    const tbody = clear($("#board tbody"));
    const ids = Array.from(stations.keys()).sort();
    let shown = 0;
    for (const id of ids) {
      const b = stations.get(id);
      const tr = row(b);
      tr.hidden = !matches(b);
      if (!tr.hidden) shown++;
      tbody.append(tr);
    }
    afterRender(shown);
  }

  function afterRender(shown) {
    if (shown === undefined) shown = CS.$$("#board tbody tr").filter((tr) => !tr.hidden).length;
    $("#board-empty").hidden = shown > 0;
    $("#board-shown").textContent = shown + " of " + stations.size + " stations";
    counters();
  }

  // upsert replaces one station's row in place (or inserts it in order).
  function upsert(b) {
    if (filters.site && b.site_id !== filters.site) {
      // moved off the site shown
      const old = $('#board tbody tr[data-station="' + CSS.escape(b.id) + '"]');
      if (old) old.remove();
      stations.delete(b.id);
      afterRender();
      return;
    }
    stations.set(b.id, b);
    const tr = row(b);
    tr.hidden = !matches(b);
    tr.classList.add("changed");
    const old = $('#board tbody tr[data-station="' + CSS.escape(b.id) + '"]');
    if (old) {
      old.replaceWith(tr);
    } else {
      const next = CS.$$("#board tbody tr").find((x) => x.dataset.station > b.id);
      $("#board tbody").insertBefore(tr, next || null);
    }
    afterRender();
  }

  async function loadBoard() {
    const board = await CS.api("GET", "/board" + CS.query({ site_id: filters.site }));
    stations.clear();
    for (const b of board.stations) stations.set(b.id, b);
    renderAll();
  }

  async function loadSites() {
    sites = await CS.listAll("/sites", {});
    sites.sort((a, b) => a.name.localeCompare(b.name));
    const sel = $("#filter-site");
    for (const s of sites) sel.append(el("option", { value: s.id, selected: s.id === filters.site }, s.name));
    if (filters.site && !sites.some((s) => s.id === filters.site)) filters.site = "";
  }

  // --- the live stream ---

  let source = null, opened = false, retry = null;

  function setLive(state, text) {
    $("#live").dataset.state = state;
    $("#live-text").textContent = text;
  }

  function connect() {
    if (source) source.close();
    clearTimeout(retry);
    opened = false;
    source = new EventSource("/api/v1/board/events" + CS.query({ site_id: filters.site }));
    source.addEventListener("open", () => {
      setLive("live", "Live");
      // A reconnect: what changed meanwhile was not streamed.
      if (opened) CS.run(loadBoard);
      opened = true;
    });
    source.addEventListener("station", (e) => upsert(JSON.parse(e.data)));
    source.addEventListener("reload", () => CS.run(loadBoard));
    source.addEventListener("error", () => {
      setLive("down", "Reconnecting…");
      if (source.readyState === EventSource.CLOSED) {
        // The server refused the stream (signed out, shutting down):
        // EventSource gives up; try again, reading the board first (which
        // sends a signed-out user to the sign-in page).
        retry = setTimeout(async () => { await CS.run(loadBoard); connect(); }, 5000);
      }
    });
  }

  // --- filters (kept in the URL, so a filtered board can be bookmarked) ---

  function readURL() {
    const q = new URLSearchParams(location.search);
    filters.site = q.get("site_id") || "";
    filters.status = q.get("status") || "";
    filters.q = q.get("q") || "";
    $("#filter-status").value = filters.status;
    $("#filter-q").value = filters.q;
  }

  function writeURL() {
    const q = new URLSearchParams();
    if (filters.site) q.set("site_id", filters.site);
    if (filters.status) q.set("status", filters.status);
    if (filters.q) q.set("q", filters.q);
    const s = q.toString();
    history.replaceState(null, "", location.pathname + (s ? "?" + s : ""));
  }

  function applyLocalFilters() {
    writeURL();
    let shown = 0;
    for (const tr of CS.$$("#board tbody tr")) {
      const b = stations.get(tr.dataset.station);
      tr.hidden = !b || !matches(b);
      if (!tr.hidden) shown++;
    }
    afterRender(shown);
  }

  CS.page(async () => {
    readURL();
    $("#board-filters").addEventListener("submit", (e) => e.preventDefault());
    $("#filter-status").addEventListener("change", (e) => { filters.status = e.target.value; applyLocalFilters(); });
    $("#filter-q").addEventListener("input", (e) => { filters.q = e.target.value.trim(); applyLocalFilters(); });
    $("#filter-site").addEventListener("change", async (e) => {
      filters.site = e.target.value;
      writeURL();
      await CS.run(loadBoard);
      connect();
    });
    await loadSites();
    await loadBoard();
    connect();
    // "last seen" texts age.
    setInterval(() => {
      for (const tr of CS.$$("#board tbody tr.offline")) {
        const b = stations.get(tr.dataset.station);
        if (b) tr.querySelector(".seen").textContent = CS.ago(b.last_seen_at);
      }
    }, 15000);
  });
})();
