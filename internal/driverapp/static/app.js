// NextCharge live session page: follows the session over server-sent
// events and updates the figures; the page works without it (it reloads
// itself), this only makes it live. No dependencies.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var resume = document.getElementById("resume");
  if (resume) {
    try {
      var last = localStorage.getItem("nc-session");
      if (last) { resume.hidden = false; document.getElementById("resume-link").href = last; }
    } catch (e) {}
  }
  if (!live) return;
  var id = live.dataset.payment, token = live.dataset.token, cur = live.dataset.currency;
  var minor = parseInt(live.dataset.minor || "2", 10);
  try { localStorage.setItem("nc-session", location.pathname + location.search); } catch (e) {}
  var $ = function (i) { return document.getElementById(i); };
  function money(v) {
    try { return new Intl.NumberFormat("en-AU", { style: "currency", currency: cur }).format(v / Math.pow(10, minor)); }
    catch (e) { return (v / Math.pow(10, minor)).toFixed(minor) + " " + cur; }
  }
  function kwh(wh) { return (wh / 1000).toFixed(2) + " kWh"; }
  function dur(ms) {
    var s = Math.max(0, Math.floor(ms / 1000)), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = s % 60;
    return (h ? h + " h " : "") + (h || m ? m + " min " : "") + (h ? "" : r + " s");
  }
  var el = $("elapsed");
  function tick() {
    var st = el.dataset.started, sp = el.dataset.stopped;
    if (st) el.textContent = dur((sp ? Date.parse(sp) : Date.now()) - Date.parse(st));
  }
  setInterval(tick, 1000);
  var finalStates = { captured: 1, voided: 1, receivable: 1, failed: 1, canceled: 1 };
  function render(v) {
    $("message").textContent = v.message;
    $("headline").textContent = v.headline || $("headline").textContent;
    var cls = v.tone ? "status status-" + v.tone : "status";
    $("message").className = cls;
    var metered = !!v.session_id;
    $("meters").hidden = !metered;
    $("energy").textContent = kwh(v.energy_wh || 0);
    $("power").textContent = v.power_w ? (v.power_w / 1000).toFixed(1) + " kW" : "—";
    var fin = !!finalStates[v.state] || v.state === "stopped";
    $("cost").textContent = money(fin && v.state !== "stopped" ? v.amount_total : v.running_cost);
    $("cost-label").textContent = fin ? "Total" : "Cost so far";
    if (v.started_at) el.dataset.started = v.started_at;
    if (v.stopped_at) el.dataset.stopped = v.stopped_at;
    var rem = v.remaining;
    $("remaining-row").hidden = !(rem >= 0) || fin;
    if (rem >= 0) $("remaining").textContent = money(rem);
    $("hold-note").hidden = fin;
    $("stop-form").hidden = !(v.state === "charging" || v.state === "authorized" || v.state === "quote");
    $("stop").textContent = v.state === "charging" ? "Stop charging" : "Cancel";
    if (v.receipt_code) {
      $("receipt-row").hidden = false;
      $("receipt-link").href = "/app/r/" + v.receipt_code;
      $("receipt-pdf").href = "/app/r/" + v.receipt_code + ".pdf";
    }
    tick();
  }
  if (window.EventSource) {
    var es = new EventSource("/app/p/" + encodeURIComponent(id) + "/events?t=" + encodeURIComponent(token));
    es.onmessage = function (e) {
      var v = JSON.parse(e.data);
      render(v);
      if (finalStates[v.state]) es.close();
    };
  }
  var form = $("stop-form");
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    $("stop").disabled = true;
    fetch("/app/api/payments/" + encodeURIComponent(id) + "/stop", { method: "POST", headers: { Authorization: "Bearer " + token } })
      .then(function (r) { return r.json(); })
      .then(function (v) { if (v.message) render(v); })
      .catch(function () { form.submit(); })
      .finally(function () { $("stop").disabled = false; });
  });
})();
