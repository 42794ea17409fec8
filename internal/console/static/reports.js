// reports page: see console.js for the shared helpers (CS.*).
// Revenue (money roles only), usage and status reports of the operator's
// network over a range of days in a time zone: KPI tiles, a chart (uPlot,
// vendored from npm: static/vendor), the table with its totals, and the
// API's own CSV and PDF exports.
CS.page(async function () {
  "use strict";
  const { el, $, $$, clear } = CS;
  const listAll = CS.listAll;
  const tabs = CS.can("money") ? ["revenue", "usage", "status"] : ["usage", "status"];
  let tab = tabs.includes(location.hash.slice(1)) ? location.hash.slice(1) : tabs[0];
  let sites = [];
  let chart = null;
  let seq = 0;

  if (CS.can("money")) $("#tab-revenue").hidden = false;

  // Dates: the controls are inclusive; the API's "to" is the day after.
  const ymd = (d, tz) => {
    try { return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(d); }
    catch (_) { return d.toISOString().slice(0, 10); }
  };
  const addDays = (s, n) => { const d = new Date(s + "T12:00:00Z"); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10); };

  // The default time zone is the operator's sites' (the first that has one).
  sites = (await CS.run(() => listAll("/sites"))) || [];
  const zones = [...new Set(sites.map((s) => s.timezone).filter(Boolean))];
  const defaultTZ = zones[0] || "Australia/Sydney";
  for (const z of new Set([...zones, "Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Australia/Adelaide", "Australia/Perth", "Pacific/Auckland", "UTC"])) {
    $("#r-tz-list").append(el("option", { value: z }));
  }
  const today = ymd(new Date(), defaultTZ);
  $("#r-tz").value = defaultTZ;
  $("#r-to").value = today;
  $("#r-from").value = addDays(today, -29);

  function params(format) {
    const from = $("#r-from").value, to = $("#r-to").value;
    return { from, to: to ? addDays(to, 1) : "", period: $("#r-period").value, by: $("#r-by").value, timezone: $("#r-tz").value.trim(), format };
  }
  const path = (format) => "/reports/" + tab + CS.query(params(format));

  function selectTab(name) {
    tab = name;
    for (const b of $$("[role=tab]")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
    $("#export-pdf").hidden = name === "status"; // the status report is JSON or CSV
    history.replaceState(null, "", "#" + name);
    refresh();
  }
  for (const b of $$("[role=tab]")) b.addEventListener("click", () => selectTab(b.dataset.tab));
  for (const id of ["#r-from", "#r-to", "#r-period", "#r-by"]) $(id).addEventListener("change", refresh);
  $("#r-tz").addEventListener("change", refresh);
  $("#controls").addEventListener("submit", (ev) => { ev.preventDefault(); refresh(); });

  for (const [id, format, accept] of [["#export-csv", "csv", "text/csv"], ["#export-pdf", "pdf", "application/pdf"]]) {
    $(id).addEventListener("click", async () => {
      const p = params(format);
      $(id).dataset.path = path(format);
      await CS.run(() => CS.download(path(format), accept, tab + "-" + p.from + "-" + p.to + "." + format));
    });
  }

  async function refresh() {
    const n = ++seq;
    const p = params("");
    if (!p.from || !p.to) return;
    for (const id of ["#export-csv", "#export-pdf"]) $(id).dataset.path = path(id === "#export-csv" ? "csv" : "pdf");
    $("#report-status").textContent = "Loading…";
    let rep;
    try { rep = await CS.api("GET", path("")); } catch (e) {
      if (n !== seq) return;
      $("#report-status").textContent = "";
      clear($("#kpis")); clear($("#report")); drawChart(null);
      CS.flash(e.code === "route_not_found" ? "The " + tab + " report is not available on this server yet." : e.message, "error");
      return;
    }
    if (n !== seq) return;
    $("#report-status").textContent = "From " + rep.from + " to " + addDays(rep.to, -1) + " (inclusive), " + rep.timezone + ", by " + rep.period + (rep.by ? " and " + rep.by : "") + ".";
    ({ revenue: showRevenue, usage: showUsage, status: showStatus })[tab](rep);
  }

  // Labels.
  const siteName = (id) => { const s = sites.find((x) => x.id === id); return s ? s.name : id; };
  const keyName = (rep, key) => rep.by === "site" ? siteName(key || "") || "(no site)" : key;
  const periodLabel = (iso, period, tz) => {
    const d = new Date(iso);
    const o = period === "month" ? { month: "long", year: "numeric" } : { weekday: period === "day" ? "short" : undefined, day: "numeric", month: "short", year: "numeric" };
    try { return (period === "week" ? "Week of " : "") + d.toLocaleDateString("en-AU", Object.assign({ timeZone: tz }, o)); } catch (_) { return iso.slice(0, 10); }
  };
  const kpi = (key, label, value) => el("div", { class: "kpi", "data-kpi": key }, el("b", {}, value), el("span", {}, label));
  const pct = (v) => (v === undefined || v === null) ? "–" : (Math.round(v * 10) / 10).toLocaleString("en-AU") + "%";
  const hours = (s) => (s / 3600).toLocaleString("en-AU", { maximumFractionDigits: 1 }) + " h";

  function table(id, head, rows, foot) {
    return el("table", { id, class: "rp-table" },
      el("thead", {}, el("tr", {}, head.map(([t, num]) => el("th", { class: num ? "num" : undefined, scope: "col" }, t)))),
      el("tbody", {}, rows.length ? rows.map((r) => el("tr", {}, r.map((c, i) => el("td", { class: head[i][1] ? "num" : undefined }, c))))
        : el("tr", {}, el("td", { colspan: head.length, class: "muted" }, "Nothing in this period."))),
      foot ? el("tfoot", {}, el("tr", { id: id + "-totals" }, foot.map((c, i) => el("td", { class: head[i][1] ? "num" : undefined }, c)))) : null);
  }

  // Sums rows per period start (for the chart when rows are split by key).
  function byPeriod(rows, fields) {
    const m = new Map();
    for (const r of rows) {
      const t = Date.parse(r.start) / 1000;
      const acc = m.get(t) || Object.fromEntries(fields.map((f) => [f, 0]).concat([["n", 0]]));
      for (const f of fields) acc[f] += r[f] || 0;
      acc.n++;
      m.set(t, acc);
    }
    return [...m.entries()].sort((a, b) => a[0] - b[0]);
  }

  function showRevenue(rep) {
    const t = rep.totals, cur = t.currency || (rep.rows[0] && rep.rows[0].currency) || "AUD";
    const m = (v) => CS.money(v, cur);
    clear($("#kpis")).append(
      kpi("gross", "Gross (incl. GST)", m(t.gross)), kpi("tax", "GST", m(t.tax)), kpi("provider_fees", "Provider fees", m(t.provider_fees)),
      kpi("platform_fees", "Platform fees", m(t.platform_fees)), kpi("refunds", "Refunds", m(t.refunds)), kpi("net", "Net to operator", m(t.net)),
      kpi("sessions", "Paid sessions", String(t.sessions)), kpi("energy", "Energy", CS.kwh(t.energy_wh)));
    const split = !!rep.by;
    const head = [["Period"]].concat(split ? [[rep.by === "site" ? "Site" : "Station"]] : [],
      [["Sessions", 1], ["Energy", 1], ["Gross", 1], ["GST", 1], ["Provider fees", 1], ["Platform fees", 1], ["Refunds", 1], ["Net", 1]]);
    const cells = (r) => [String(r.sessions), CS.kwh(r.energy_wh), m(r.gross), m(r.tax), m(r.provider_fees), m(r.platform_fees), m(r.refunds), m(r.net)];
    const rows = rep.rows.map((r) => [periodLabel(r.start, rep.period, rep.timezone)].concat(split ? [keyName(rep, r.key)] : [], cells(r)));
    const foot = rep.rows.length ? ["Total"].concat(split ? [""] : [], cells(t)) : null;
    clear($("#report")).append(table("revenue-table", head, rows, foot));
    const pts = byPeriod(rep.rows, ["gross", "net"]);
    drawChart(rep, [pts.map((p) => p[0]), pts.map((p) => p[1].gross / 100), pts.map((p) => p[1].net / 100)], [
      { label: "Gross", stroke: "#0b6e4f", fill: "rgba(11,110,79,.35)", bars: true, value: (u, v) => v === null ? "–" : m(Math.round(v * 100)) },
      { label: "Net to operator", stroke: "#0b4a8c", fill: "rgba(11,74,140,.35)", bars: true, value: (u, v) => v === null ? "–" : m(Math.round(v * 100)) },
    ], (v) => m(Math.round(v * 100)));
  }

  function showUsage(rep) {
    let sessions = 0, wh = 0, occ = 0;
    for (const r of rep.rows) { sessions += r.sessions; wh += r.energy_wh; occ += r.occupied_seconds; }
    const utils = rep.rows.map((r) => r.utilisation_pct);
    const avg = utils.length ? utils.reduce((a, b) => a + b, 0) / utils.length : 0;
    clear($("#kpis")).append(kpi("sessions", "Sessions", String(sessions)), kpi("energy", "Energy", CS.kwh(wh)),
      kpi("occupied", "Connector time in use", hours(occ)), kpi("utilisation", "Average utilisation", pct(avg)));
    const split = !!rep.by;
    const head = [["Period"]].concat(split ? [[rep.by === "site" ? "Site" : "Station"]] : [],
      [["Sessions", 1], ["Energy", 1], ["In use", 1], ["Utilisation", 1]]);
    const rows = rep.rows.map((r) => [periodLabel(r.start, rep.period, rep.timezone)].concat(split ? [keyName(rep, r.key)] : [],
      [String(r.sessions), CS.kwh(r.energy_wh), hours(r.occupied_seconds), pct(r.utilisation_pct)]));
    const foot = rep.rows.length ? ["Total"].concat(split ? [""] : [], [String(sessions), CS.kwh(wh), hours(occ), ""]) : null;
    const pts = byPeriod(rep.rows, ["sessions", "utilisation_pct"]);
    drawChart(rep, [pts.map((p) => p[0]), pts.map((p) => p[1].sessions), pts.map((p) => p[1].utilisation_pct / p[1].n)], [
      { label: "Sessions", stroke: "#0b4a8c", fill: "rgba(11,74,140,.3)", bars: true },
      { label: "Utilisation %", stroke: "#b35c00", width: 2, scale: "%", value: (u, v) => v === null ? "–" : pct(v) },
    ], (v) => String(v), "%");
    clear($("#report")).append(table("usage-table", head, rows, foot), heatmap(rep.heatmap || []));
  }

  // The week's heat map: occupied connector-minutes by weekday and hour,
  // each cell shaded in ten steps (classes, not inline styles: the CSP).
  function heatmap(h) {
    const max = Math.max(1, ...h.flat());
    const days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    return el("div", { class: "rp-heat-wrap" }, el("h2", {}, "When connectors are in use"),
      el("p", { class: "muted small" }, "Connector-minutes in sessions by weekday and hour, in the report's time zone."),
      el("table", { id: "heatmap", class: "rp-heat" },
        el("thead", {}, el("tr", {}, el("th", {}, ""), Array.from({ length: 24 }, (_, i) => el("th", { scope: "col" }, String(i))))),
        el("tbody", {}, days.map((d, i) => el("tr", {}, el("th", { scope: "row" }, d),
          (h[i] || []).map((v, j) => el("td", { class: "heat-" + Math.min(9, Math.ceil((v / max) * 9)), title: d + " " + j + ":00 – " + v + " min" }, v ? String(v) : "")))))));
  }

  function showStatus(rep) {
    const t = rep.totals;
    clear($("#kpis")).append(kpi("stations", "Stations", String(t.stations)), kpi("uptime", "Uptime", pct(t.uptime_pct)),
      kpi("availability", "Availability", pct(t.availability_pct)), kpi("faults", "Faults", String(t.faults)),
      kpi("offline", "Offline periods", String(t.offline_periods) + " · " + hours(t.offline_seconds)));
    const stations = table("status-table", [["Station"], ["Site"], ["Uptime", 1], ["Availability", 1], ["Faults", 1], ["Offline", 1]],
      rep.stations.map((s) => [s.station_id, s.site_id ? siteName(s.site_id) : "–", pct(s.uptime_pct), pct(s.availability_pct), String(s.faults),
        s.offline_periods.length + " · " + hours(s.offline_seconds)]),
      rep.stations.length ? ["Total", "", pct(t.uptime_pct), pct(t.availability_pct), String(t.faults), t.offline_periods + " · " + hours(t.offline_seconds)] : null);
    const faults = table("faults-table", [["Error code"], ["Faults", 1]], (t.faults_by_code || []).map((f) => [f.error_code, String(f.count)]));
    const offline = [];
    for (const s of rep.stations) for (const o of s.offline_periods) offline.push([s.station_id, CS.time(o.start, rep.timezone), o.ongoing ? "still offline" : CS.time(o.end, rep.timezone), hours(o.seconds)]);
    clear($("#report")).append(stations, el("h2", {}, "Faults by error code"), faults,
      el("h2", {}, "Offline periods"), table("offline-table", [["Station"], ["From"], ["To"], ["Duration", 1]], offline));
    const pts = byPeriod(rep.rows, ["uptime_pct", "availability_pct"]);
    drawChart(rep, [pts.map((p) => p[0]), pts.map((p) => p[1].uptime_pct / p[1].n), pts.map((p) => p[1].availability_pct / p[1].n)], [
      { label: "Uptime %", stroke: "#0b6e4f", width: 2, value: (u, v) => v === null ? "–" : pct(v) },
      { label: "Availability %", stroke: "#0b4a8c", width: 2, value: (u, v) => v === null ? "–" : pct(v) },
    ], (v) => pct(v));
  }

  // drawChart draws series over the periods with uPlot; a second scale
  // ("%") gets an axis on the right.
  function drawChart(rep, data, series, fmt, rightScale) {
    if (chart) { chart.destroy(); chart = null; }
    const box = clear($("#chart"));
    if (!rep || !data || !data[0].length || typeof uPlot === "undefined") { box.hidden = true; return; }
    box.hidden = false;
    const tz = rep.timezone;
    const bars = !!(uPlot.paths && uPlot.paths.bars);
    // Half a period either side, so the first and last bars are whole.
    const half = { day: 43200, week: 302400, month: 1314000 }[rep.period] || 43200;
    const barCount = series.filter((s) => s.bars).length;
    const opts = {
      width: Math.max(320, box.clientWidth - 20), height: 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
      scales: Object.assign({ x: { time: true, auto: false, range: [data[0][0] - half, data[0][data[0].length - 1] + half] },
        y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } }, rightScale ? { [rightScale]: { range: [0, 100] } } : {}),
      series: [{ label: "Period", value: (u, v) => v === null ? "–" : periodLabel(new Date(v * 1000).toISOString(), rep.period, tz) }].concat(series.map((s, i) => {
        // Keys left out, not undefined: uPlot would take an undefined scale literally.
        const o = { label: s.label, stroke: s.stroke, width: s.width || 1, points: { show: !s.bars } };
        if (s.fill) o.fill = s.fill;
        if (s.scale) o.scale = s.scale;
        if (s.value) o.value = s.value;
        if (s.bars && bars) o.paths = uPlot.paths.bars({ size: [0.7 / barCount, 60], align: barCount > 1 ? (i === 0 ? -1 : 1) : 0 });
        return o;
      })),
      axes: [{ incrs: [86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 91 * 86400, 365 * 86400],
        values: (u, splits) => splits.map((ts) => new Date(ts * 1000).toLocaleDateString("en-AU", { timeZone: tz, day: "numeric", month: "short" })) }, { values: (u, vals) => vals.map(fmt), size: 80 }].concat(rightScale ? [{ scale: rightScale, side: 1, grid: { show: false }, values: (u, vals) => vals.map((v) => v + "%") }] : []),
    };
    chart = new uPlot(opts, data, box);
  }

  window.addEventListener("resize", () => { if (chart) chart.setSize({ width: Math.max(320, $("#chart").clientWidth - 20), height: 260 }); });
  selectTab(tab);
});
