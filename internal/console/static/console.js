// Charge Star console: helpers shared by every page (window.CS).
// Pages read and change everything through the REST API with the console
// session cookie; changes carry the session's CSRF token in a header.
// DOM is built with CS.el (text nodes only, never innerHTML), so data from
// stations or users cannot inject markup.
(function () {
  "use strict";
  const meta = (n) => { const m = document.querySelector('meta[name="' + n + '"]'); return m ? m.content : ""; };
  const CS = {
    csrf: meta("cs-csrf"),
    role: meta("cs-role"),
    email: meta("cs-email"),
    // The operator the pages work on: the user's own, or for a platform
    // administrator the one picked in the header (remembered per browser).
    operatorID: meta("cs-operator") || localStorage.getItem("cs-admin-operator") || "",
    isAdmin: meta("cs-role") === "admin",
  };

  // can mirrors internal/access: what the user's role may do, to hide
  // controls that would only answer 403 (the API still enforces it).
  const grants = {
    owner: ["view", "network", "operate", "money", "refund", "prices", "operator"],
    technician: ["view", "network", "operate"],
    finance: ["view", "money", "refund", "prices"],
  };
  CS.can = (what) => CS.isAdmin || (grants[CS.role] || []).includes(what);

  // APIError carries the API's error code and HTTP status.
  class APIError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }
  CS.APIError = APIError;

  // api calls /api/v1{path}. body (an object) is sent as JSON. Answers the
  // parsed JSON (null for 204); throws APIError with the server's message.
  CS.api = async function (method, path, body, opts) {
    const headers = { "Accept": (opts && opts.accept) || "application/json" };
    const init = { method, headers, credentials: "same-origin" };
    if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = CS.csrf;
    if (body !== undefined && body !== null) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    let resp;
    try { resp = await fetch("/api/v1" + path, init); } catch (e) { throw new APIError(0, "network", "The server cannot be reached: " + e.message); }
    if (resp.status === 401) { location.href = "/console/sign-in?next=" + encodeURIComponent(location.pathname + location.search); throw new APIError(401, "unauthorized", "Signed out"); }
    if (opts && opts.raw) { if (!resp.ok) throw await errorOf(resp); return resp; }
    if (resp.status === 204) return null;
    if (!resp.ok) throw await errorOf(resp);
    return resp.json();
  };
  async function errorOf(resp) {
    let code = "http_" + resp.status, msg = resp.statusText;
    try { const j = await resp.json(); if (j && j.error) { code = j.error.code; msg = j.error.message; } } catch (_) { /* not JSON */ }
    return new APIError(resp.status, code, msg);
  }

  // query builds "?a=1&b=2" from an object, skipping empty values, and
  // adds the picked operator for administrators.
  CS.query = function (params, withOperator) {
    const q = new URLSearchParams();
    if (withOperator !== false && CS.isAdmin && CS.operatorID) q.set("operator_id", CS.operatorID);
    for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") q.set(k, v);
    const s = q.toString();
    return s ? "?" + s : "";
  };

  // listAll follows next_cursor through every page of a list route.
  CS.listAll = async function (path, params) {
    let items = [], cursor = "";
    for (let i = 0; i < 100; i++) {
      const page = await CS.api("GET", path + CS.query(Object.assign({}, params, { limit: 500, cursor })));
      items = items.concat(page.items || []);
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    return items;
  };

  // el builds an element: el("td", {class: "x", onclick: f}, "text", child).
  CS.el = function (tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(e.dataset, v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  };
  CS.$ = (sel, root) => (root || document).querySelector(sel);
  CS.$$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  CS.clear = (e) => { while (e.firstChild) e.removeChild(e.firstChild); return e; };

  // flash shows a message at the top of the page.
  CS.flash = function (text, kind) {
    const f = document.getElementById("flash");
    CS.clear(f).append(CS.el("p", { class: "flash " + (kind || "ok") }, text));
    if (kind !== "error") setTimeout(() => { if (f.textContent === text) CS.clear(f); }, 6000);
  };
  // run awaits fn, showing an API error as a flash; answers fn's result or undefined.
  CS.run = async function (fn) {
    try { return await fn(); } catch (e) { CS.flash(e.message || String(e), "error"); return undefined; }
  };

  // Money: integer minor units beside an ISO 4217 currency.
  CS.money = function (minor, currency) {
    if (minor === undefined || minor === null) return "–";
    try { return new Intl.NumberFormat("en-AU", { style: "currency", currency: currency || "AUD" }).format(minor / 100); }
    catch (_) { return (minor / 100).toFixed(2) + " " + (currency || ""); }
  };
  CS.kwh = (wh) => (wh === undefined || wh === null) ? "–" : (wh / 1000).toLocaleString("en-AU", { maximumFractionDigits: 2 }) + " kWh";
  CS.kw = (w) => (w === undefined || w === null) ? "–" : (w / 1000).toLocaleString("en-AU", { maximumFractionDigits: 1 }) + " kW";
  CS.time = function (iso, tz) {
    if (!iso) return "–";
    const d = new Date(iso);
    try { return d.toLocaleString("en-AU", { timeZone: tz || undefined, dateStyle: "medium", timeStyle: "short" }); }
    catch (_) { return d.toLocaleString("en-AU"); }
  };
  CS.ago = function (iso) {
    if (!iso) return "never";
    const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " d ago";
  };
  CS.duration = function (seconds) {
    if (seconds === undefined || seconds === null) return "–";
    const h = Math.floor(seconds / 3600), m = Math.round((seconds % 3600) / 60);
    return h ? h + " h " + m + " min" : m + " min";
  };

  // statusClass maps an OCPP 1.6 connector status to a badge colour.
  CS.statusClass = function (status) {
    switch (status) {
      case "Available": return "st-available";
      case "Charging": return "st-charging";
      case "Preparing": case "SuspendedEV": case "SuspendedEVSE": case "Finishing": case "Reserved": return "st-busy";
      case "Faulted": return "st-faulted";
      case "Unavailable": return "st-unavailable";
      default: return "st-unknown";
    }
  };
  CS.badge = (text, cls) => CS.el("span", { class: "badge " + (cls || "") }, text);

  // download fetches an API export (CSV or PDF) and saves it.
  CS.download = async function (path, accept, filename) {
    const resp = await CS.api("GET", path, null, { accept, raw: true });
    const blob = await resp.blob();
    const a = CS.el("a", { href: URL.createObjectURL(blob), download: filename });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  };

  // Platform administrators pick the operator the pages show.
  async function initOperatorPicker() {
    const sel = document.getElementById("operator-picker");
    if (!sel) return;
    const ops = await CS.run(() => CS.listAll("/operators", {}));
    if (!ops) return;
    for (const o of ops) sel.append(CS.el("option", { value: o.id, selected: o.id === CS.operatorID }, o.name));
    if (!CS.operatorID && ops.length) { CS.operatorID = ops[0].id; localStorage.setItem("cs-admin-operator", CS.operatorID); }
    sel.addEventListener("change", () => { localStorage.setItem("cs-admin-operator", sel.value); location.reload(); });
  }

  // The navigation's Alerts link shows how many alerts are open, on every
  // page, refreshed each minute.
  async function refreshAlertCount() {
    const link = document.querySelector('header nav a[href="/console/alerts"]');
    if (!link || (CS.isAdmin && !CS.operatorID)) return;
    let n = 0, more = false;
    try {
      const page = await CS.api("GET", "/alerts" + CS.query({ state: "open", limit: 100 }));
      n = (page.items || []).length;
      more = !!page.next_cursor;
    } catch (_) { return; } // the count is a hint; the page itself reports errors
    let badge = link.querySelector(".nav-count");
    if (!n) { if (badge) badge.remove(); return; }
    if (!badge) { badge = CS.el("span", { class: "nav-count", id: "nav-alert-count" }); link.append(" ", badge); }
    badge.textContent = more ? "100+" : String(n);
    badge.title = badge.textContent + " open alert" + (n === 1 ? "" : "s");
  }

  // Pages register with CS.page(init); it runs once the DOM is ready and
  // the operator is known.
  const ready = new Promise((res) => document.readyState === "loading" ? document.addEventListener("DOMContentLoaded", res) : res());
  const operatorReady = ready.then(initOperatorPicker);
  operatorReady.then(() => { refreshAlertCount(); setInterval(refreshAlertCount, 60000); });
  CS.page = (init) => operatorReady.then(() => CS.run(init));

  window.CS = CS;
})();
