// network page: sites (create, edit, GST/ABN details) and their stations
// (register, edit site or password, retire, QR sheet). See console.js for
// the shared helpers (CS.*).
(function () {
  "use strict";
  const { el, $, clear, listAll } = CS;


  // Common IANA zones; anything else is typed under "Other".
  const ZONES = ["UTC", "Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Australia/Adelaide",
    "Australia/Darwin", "Australia/Perth", "Australia/Hobart", "Pacific/Auckland", "Asia/Singapore", "Asia/Tokyo",
    "Asia/Kolkata", "Asia/Dubai", "Europe/London", "Europe/Dublin", "Europe/Berlin", "Europe/Paris", "Europe/Amsterdam",
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Toronto"];
  const OTHER = "__other__";

  let sites = [], stations = [];
  const canEdit = CS.can("network");
  const siteName = (id) => { const s = sites.find((x) => x.id === id); return s ? s.name : ""; };
  const stationPath = (id) => "/stations/" + encodeURIComponent(id);

  async function load() {
    [sites, stations] = await Promise.all([listAll("/sites", {}), listAll("/stations", {})]);
    sites.sort((a, b) => a.name.localeCompare(b.name));
    renderSites();
    renderSiteSelects();
    renderStations();
  }

  // --- sites ---

  function renderSites() {
    const tbody = clear($("#sites-table tbody"));
    if (!sites.length) {
      tbody.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, canEdit ? "No sites yet: create one, then register stations at it." : "No sites yet.")));
      return;
    }
    for (const s of sites) {
      const n = stations.filter((st) => st.site_id === s.id && !st.retired_at).length;
      const tax = s.legal_name || s.tax_id
        ? [s.legal_name, s.tax_id ? "ABN " + s.tax_id : ""].filter(Boolean).join(" · ")
        : el("span", { class: "muted" }, "the operator's");
      tbody.append(el("tr", { dataset: { site: s.id } },
        el("td", {}, el("b", {}, s.name)),
        el("td", {}, s.address || "–"),
        el("td", {}, s.timezone),
        el("td", { class: "site-tax" }, tax),
        el("td", { class: "num" }, String(n)),
        el("td", { class: "actions" }, canEdit ? el("button", { type: "button", class: "small", onclick: () => openSiteForm(s) }, "Edit") : null)));
    }
  }

  function fillZones(current) {
    const sel = clear($("#site-timezone"));
    const known = ZONES.includes(current);
    for (const z of ZONES) sel.append(el("option", { value: z, selected: z === current }, z.replace(/_/g, " ")));
    sel.append(el("option", { value: OTHER, selected: !known && !!current }, "Other…"));
    const other = $("#site-timezone-other");
    other.value = known ? "" : (current || "");
    other.hidden = known || !current;
  }

  function openSiteForm(s) {
    const f = $("#site-form");
    $("#site-form-title").textContent = s ? "Edit " + s.name : "New site";
    $("#site-save").textContent = s ? "Save site" : "Create site";
    $("#site-id").value = s ? s.id : "";
    $("#site-name").value = s ? s.name : "";
    $("#site-address").value = s ? s.address : "";
    $("#site-legal-name").value = s ? s.legal_name : "";
    $("#site-tax-id").value = s ? s.tax_id : "";
    fillZones(s ? s.timezone : (Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"));
    f.hidden = false;
    $("#site-name").focus();
  }

  async function saveSite(ev) {
    ev.preventDefault();
    const id = $("#site-id").value;
    const tzSel = $("#site-timezone").value;
    const body = {
      name: $("#site-name").value.trim(),
      address: $("#site-address").value.trim(),
      timezone: tzSel === OTHER ? $("#site-timezone-other").value.trim() : tzSel,
      legal_name: $("#site-legal-name").value.trim(),
      tax_id: $("#site-tax-id").value.trim(),
    };
    const btn = $("#site-save");
    btn.disabled = true;
    try {
      const saved = await CS.run(async () => {
        if (id) return CS.api("PATCH", "/sites/" + encodeURIComponent(id), body);
        if (CS.isAdmin) body.operator_id = CS.operatorID;
        return CS.api("POST", "/sites", body);
      });
      if (!saved) return;
      $("#site-form").hidden = true;
      CS.flash(id ? "Site " + saved.name + " saved." : "Site " + saved.name + " created.");
      await load();
    } finally { btn.disabled = false; }
  }

  // --- stations ---

  function renderSiteSelects() {
    const filter = $("#filter-site"), keep = filter.value;
    clear(filter).append(el("option", { value: "" }, "All sites"), el("option", { value: "-" }, "No site"));
    for (const s of sites) filter.append(el("option", { value: s.id }, s.name));
    filter.value = keep;
    const sel = clear($("#station-site"));
    sel.append(el("option", { value: "" }, "No site"));
    for (const s of sites) sel.append(el("option", { value: s.id }, s.name));
  }

  function stateBadges(st) {
    if (st.retired_at) return [CS.badge("Retired", "st-unavailable"), " ", el("span", { class: "muted small" }, CS.time(st.retired_at))];
    const out = [st.connected ? CS.badge("Connected", "st-available") : CS.badge("Offline", "st-offline")];
    if (st.registration_status && st.registration_status !== "Accepted") out.push(" ", CS.badge(st.registration_status, "st-busy"));
    if (!st.protocol) out.push(" ", el("span", { class: "muted small" }, "never connected"));
    else if (!st.connected) out.push(" ", el("span", { class: "muted small" }, "seen " + CS.ago(st.last_seen_at)));
    return out;
  }

  function connectorBadges(st) {
    if (!st.connectors.length) return el("span", { class: "muted" }, "none reported");
    return st.connectors.map((c) => [CS.badge(c.connector_id + " " + c.status, CS.statusClass(c.status)), " "]);
  }

  function renderStations() {
    const showRetired = $("#filter-retired").checked;
    const siteF = $("#filter-site").value;
    const q = $("#filter-text").value.trim().toLowerCase();
    const tbody = clear($("#stations-table tbody"));
    const list = stations.filter((st) => (showRetired || !st.retired_at) &&
      (!siteF || (siteF === "-" ? !st.site_id : st.site_id === siteF)) &&
      (!q || st.id.toLowerCase().includes(q)));
    $("#stations-empty").hidden = list.length > 0;
    for (const st of list) {
      const qr = "/api/v1" + stationPath(st.id) + "/qr-sheet?format=pdf";
      const actions = el("td", { class: "actions" },
        el("a", { href: qr, target: "_blank", rel: "noopener", class: "qr-link" }, "QR sheet"));
      if (canEdit) {
        if (st.retired_at) {
          actions.append(el("button", { type: "button", class: "small", onclick: () => setRetired(st, false) }, "Reinstate"));
        } else {
          actions.append(
            el("button", { type: "button", class: "small", onclick: () => openStationForm(st) }, "Edit"),
            el("button", { type: "button", class: "small danger-outline retire", onclick: (e) => confirmRetire(st, e.target.closest("td")) }, "Retire"));
        }
      }
      tbody.append(el("tr", { class: st.retired_at ? "retired" : "", dataset: { station: st.id } },
        el("td", {}, el("a", { href: "/console" + stationPath(st.id) }, el("b", {}, st.id))),
        el("td", {}, st.site_id ? siteName(st.site_id) : el("span", { class: "muted" }, "–")),
        el("td", { class: "state" }, stateBadges(st)),
        el("td", {}, connectorBadges(st)),
        el("td", {}, [st.vendor, st.model].filter(Boolean).join(" ") || el("span", { class: "muted" }, "–"),
          st.firmware_version ? el("div", { class: "muted small" }, "fw " + st.firmware_version) : null),
        el("td", {}, st.password_set ? "Basic" : el("span", { class: "muted" }, "none")),
        el("td", {}, CS.time(st.created_at)),
        actions));
    }
  }

  // confirmRetire asks in place (no browser dialog): the row's actions
  // become the question and its two answers.
  function confirmRetire(st, cell) {
    clear(cell).append(
      el("span", { class: "confirm" }, "Retire " + st.id + "? It keeps its history but can no longer connect. "),
      el("button", { type: "button", class: "small danger", id: "retire-confirm", onclick: () => setRetired(st, true) }, "Retire"),
      el("button", { type: "button", class: "small", onclick: renderStations }, "Cancel"));
    $("#retire-confirm", cell).focus();
  }

  async function setRetired(st, retired) {
    const out = await CS.run(() => CS.api("PATCH", stationPath(st.id), { retired }));
    if (!out) return;
    CS.flash(retired ? "Station " + st.id + " retired." : "Station " + st.id + " is back in service.");
    await load();
  }

  function openStationForm(st) {
    const editing = !!st;
    $("#station-form-title").textContent = editing ? "Edit " + st.id : "Register a station";
    $("#station-save").textContent = editing ? "Save station" : "Register";
    $("#station-editing").value = editing ? st.id : "";
    const id = $("#station-id");
    id.value = editing ? st.id : "";
    id.disabled = editing;
    $("#station-site").value = editing ? (st.site_id || "") : ($("#filter-site").value.replace("-", "") || (sites[0] ? sites[0].id : ""));
    $("#station-password").value = "";
    $("#station-password").disabled = false;
    $("#station-password").placeholder = editing && st.password_set ? "(unchanged)" : "";
    $("#station-password-clear").checked = false;
    $("#station-password-clear-label").hidden = !(editing && st.password_set);
    $("#station-password-note").textContent = editing
      ? "A new password takes effect at the station's next connection. Leave it blank to keep the current one."
      : "With a password the station must use security profile 1 (HTTP Basic). Blank: no Basic authentication.";
    $("#station-form").hidden = false;
    (editing ? $("#station-site") : id).focus();
  }

  async function saveStation(ev) {
    ev.preventDefault();
    const editing = $("#station-editing").value;
    const site = $("#station-site").value;
    const pw = $("#station-password").value;
    const btn = $("#station-save");
    btn.disabled = true;
    try {
      const saved = await CS.run(async () => {
        if (editing) {
          const body = { site_id: site || null };
          if ($("#station-password-clear").checked) body.password = null;
          else if (pw) body.password = pw;
          return CS.api("PATCH", stationPath(editing), body);
        }
        const body = { id: $("#station-id").value.trim() };
        if (site) body.site_id = site;
        if (pw) body.password = pw;
        if (CS.isAdmin) body.operator_id = CS.operatorID;
        return CS.api("POST", "/stations", body);
      });
      if (!saved) return;
      $("#station-form").hidden = true;
      const ws = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ocpp/" + encodeURIComponent(saved.id);
      CS.flash(editing ? "Station " + saved.id + " saved." : "Station " + saved.id + " registered: point it at " + ws + ".");
      await load();
    } finally { btn.disabled = false; }
  }

  CS.page(async () => {
    for (const b of CS.$$("[data-need=network]")) b.hidden = !canEdit;
    $("#site-new").addEventListener("click", () => openSiteForm(null));
    $("#site-cancel").addEventListener("click", () => { $("#site-form").hidden = true; });
    $("#site-form").addEventListener("submit", saveSite);
    $("#site-timezone").addEventListener("change", (e) => {
      const other = $("#site-timezone-other");
      other.hidden = e.target.value !== OTHER;
      if (!other.hidden) other.focus();
    });
    $("#station-new").addEventListener("click", () => openStationForm(null));
    $("#station-cancel").addEventListener("click", () => { $("#station-form").hidden = true; });
    $("#station-form").addEventListener("submit", saveStation);
    $("#station-password-clear").addEventListener("change", (e) => { $("#station-password").disabled = e.target.checked; });
    for (const id of ["#filter-site", "#filter-retired"]) $(id).addEventListener("change", renderStations);
    $("#filter-text").addEventListener("input", renderStations);
    await load();
  });
})();
