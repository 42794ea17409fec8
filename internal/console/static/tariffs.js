// tariffs page: see console.js for the shared helpers (CS.*).
// Lists the operator's tariffs in plain words with where each applies;
// edits one with a form for the common shape (or its OCPI JSON) while a
// live preview prices example sessions through POST /tariff-preview — the
// billing engine itself, so what the editor shows is what drivers pay.
CS.page(async function () {
  "use strict";
  const { el, $, clear } = CS;
  const listAll = CS.listAll;
  const canEdit = CS.can("prices");

  let operator = null;   // the operator (currency, country)
  let tariffs = [], assignments = [], sites = [], stations = [];
  let editing = null;    // the tariff being edited (null: a new one)
  let custom = false;    // the tariff has more than the form shows
  let examples = [
    { kwh: 10, minutes: 30, idle: 0 },
    { kwh: 40, minutes: 60, idle: 0 },
    { kwh: 60, minutes: 180, idle: 30 },
  ];

  if (canEdit) $("#tariff-new").hidden = false;
  else $("#tariffs-readonly").hidden = false;

  async function load() {
    const opID = CS.operatorID;
    [tariffs, assignments, sites, stations] = await Promise.all([
      listAll("/tariffs"), listAll("/tariff-assignments"), listAll("/sites"), listAll("/stations"),
    ]);
    if (opID && !operator) operator = await CS.api("GET", "/operators/" + encodeURIComponent(opID));
    renderList();
  }

  function scopeName(a) {
    if (a.scope === "operator") return "All stations";
    if (a.scope === "site") { const s = sites.find((x) => x.id === a.scope_id); return "Site " + (s ? s.name : a.scope_id); }
    return "Station " + a.scope_id;
  }

  function renderList() {
    const body = clear($("#tariff-list tbody"));
    if (!tariffs.length) {
      body.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, canEdit ? "No tariffs yet: create one." : "No tariffs yet.")));
      return;
    }
    for (const t of tariffs) {
      const where = assignments.filter((a) => a.tariff_id === t.id);
      body.append(el("tr", { "data-id": t.id },
        el("td", {}, el("strong", {}, t.name), el("div", { class: "muted small" }, t.id)),
        el("td", { class: "tf-desc" }, t.description.summary),
        el("td", {}, t.description.example),
        el("td", {}, where.length ? where.map((a) => el("div", {}, scopeName(a))) : el("span", { class: "muted" }, "not assigned")),
        el("td", { class: "tf-row-actions" },
          el("button", { type: "button", class: "small", "data-edit": t.id, onclick: () => openEditor(t) }, canEdit ? "Edit" : "View"),
          canEdit && el("button", { type: "button", class: "small tf-danger", "data-delete": t.id, onclick: () => remove(t, where) }, "Delete"))));
    }
  }

  async function remove(t, where) {
    if (where.length) { CS.flash("“" + t.name + "” is assigned (" + where.map(scopeName).join(", ") + "): assign another tariff there first.", "error"); return; }
    if (!confirm("Delete the tariff “" + t.name + "”? Sessions already paid keep their price.")) return;
    if (await CS.run(() => CS.api("DELETE", "/tariffs/" + encodeURIComponent(t.id))) === undefined) return;
    CS.flash("Deleted “" + t.name + "”.");
    if (editing && editing.id === t.id) closeEditor();
    await CS.run(load);
  }

  // The form's common shape ⇄ OCPI.

  const fields = ["energy", "fee", "time", "idle", "grace", "hold"];
  const input = (f) => $("#t-" + f);
  const num = (s) => { const v = String(s).trim().replace(/^\$/, ""); return v === "" ? 0 : Number(v); };
  // Decimal text without float noise: 0.55, not 0.55000000001.
  const dec = (v) => (v === undefined || v === null) ? "" : String(Math.round(v * 1e6) / 1e6);
  // Money: at least cents, more when the price has them ($0.345/kWh).
  const price = (v) => { const s = dec(v); const d = (s.split(".")[1] || "").length; return Number(s).toFixed(Math.max(2, d)); };

  function defaultTax() {
    return (!operator || operator.country === "AU") ? { name: "GST", rate: 0.1, included: true } : null;
  }

  // fromForm builds the OCPI tariff object of the form's fields (keeping
  // what the form does not show of the tariff being edited: id, tax, …).
  function fromForm(base) {
    const t = Object.assign({}, base || {});
    t.currency = (operator && operator.currency) || t.currency || "AUD";
    const comps = [{ type: "ENERGY", price: num(input("energy").value), step_size: 1 }];
    const fee = num(input("fee").value), time = num(input("time").value), idle = num(input("idle").value);
    if (fee) comps.push({ type: "FLAT", price: fee, step_size: 1 });
    if (time) comps.push({ type: "TIME", price: time, step_size: 60 });
    if (idle) comps.push({ type: "PARKING_TIME", price: idle, step_size: 60 });
    t.elements = [{ price_components: comps }];
    const cs = Object.assign({}, t.chargestar || {});
    const tax = cs.tax || defaultTax();
    if (tax) cs.tax = tax; else delete cs.tax;
    const grace = Math.round(num(input("grace").value) * 60);
    if (grace) cs.parking_grace_seconds = grace; else delete cs.parking_grace_seconds;
    const hold = Math.round(num(input("hold").value) * 100);
    if (hold) cs.hold_amount = hold; else delete cs.hold_amount;
    t.chargestar = cs;
    return t;
  }

  // toForm fills the form from an OCPI tariff; false when the tariff has
  // more than the form can show.
  function toForm(t) {
    for (const f of fields) input(f).value = "";
    const els = t.elements || [];
    let simple = els.length === 1 && !els[0].restrictions && !t.min_price && !t.max_price;
    const seen = {};
    for (const c of (els[0] && els[0].price_components) || []) {
      if (seen[c.type] || c.vat !== undefined) simple = false;
      seen[c.type] = true;
      const key = { ENERGY: "energy", FLAT: "fee", TIME: "time", PARKING_TIME: "idle" }[c.type];
      if (key) input(key).value = price(c.price);
    }
    const cs = t.chargestar || {};
    if (cs.parking_grace_seconds) input("grace").value = dec(cs.parking_grace_seconds / 60);
    if (cs.hold_amount) input("hold").value = price(cs.hold_amount / 100);
    return simple;
  }

  function taxNote() {
    const cur = (operator && operator.currency) || "AUD";
    $("#t-currency-note").textContent = "(" + cur + ")";
    const tax = (editing && editing.tariff.chargestar && editing.tariff.chargestar.tax) || defaultTax();
    $("#t-tax-note").textContent = tax
      ? "Prices are entered and shown to drivers " + (tax.included ? "including " : "excluding ") + tax.name + " (" + Math.round(tax.rate * 1000) / 10 + "%)."
      : "Prices exclude tax.";
  }

  function setCustom(v) {
    custom = v;
    $("#t-custom").hidden = !v;
    $("#t-common").disabled = v || !canEdit;
    if (v) $("#t-advanced").open = true;
  }

  // current is the tariff object the editor holds: the form's, or the
  // JSON's when it is custom or being edited by hand.
  function current() {
    if (custom) return JSON.parse($("#t-json").value);
    return fromForm(editing ? editing.tariff : null);
  }

  function syncJSON() {
    if (custom) return;
    $("#t-json").value = JSON.stringify(fromForm(editing ? editing.tariff : null), null, 2);
    $("#t-json-error").textContent = "";
  }

  function openEditor(t) {
    editing = t ? { id: t.id, name: t.name, tariff: t.tariff } : null;
    $("#editor").hidden = false;
    $("#editor-title").textContent = t ? (canEdit ? "Edit “" + t.name + "”" : "“" + t.name + "”") : "New tariff";
    $("#t-name").value = t ? t.name : "";
    $("#t-name").disabled = !canEdit;
    $("#t-json").readOnly = !canEdit;
    $("#t-save").hidden = !canEdit;
    if (t) setCustom(!toForm(t.tariff));
    else {
      setCustom(false);
      input("energy").value = "0.55"; input("fee").value = "1.00"; input("time").value = "";
      input("idle").value = "6.00"; input("grace").value = "15"; input("hold").value = "50.00";
    }
    taxNote();
    if (custom) $("#t-json").value = JSON.stringify(t.tariff, null, 2); else syncJSON();
    renderAssign();
    renderExamples();
    schedulePreview(0);
    $("#editor").scrollIntoView({ block: "start" });
  }

  function closeEditor() { editing = null; $("#editor").hidden = true; }

  // Live preview, debounced: every keystroke reschedules it; answers to
  // older requests are dropped.
  let timer = null, seq = 0;
  function schedulePreview(delay) {
    clearTimeout(timer);
    timer = setTimeout(preview, delay === undefined ? 300 : delay);
  }
  async function preview() {
    const n = ++seq;
    let tariff;
    try { tariff = current(); } catch (e) { $("#preview-error").textContent = "The JSON is not valid: " + e.message; return; }
    const body = {
      tariff,
      sessions: examples.map((x) => ({ energy_wh: Math.round(x.kwh * 1000), minutes: Math.max(1, Math.round(x.minutes)), idle_s: Math.round(x.idle * 60) })),
    };
    if (CS.isAdmin) body.operator_id = CS.operatorID;
    try {
      const p = await CS.api("POST", "/tariff-preview", body);
      if (n !== seq) return;
      $("#preview-error").textContent = "";
      $("#preview-summary").textContent = p.description.summary;
      clear($("#preview-items")).append(...p.items.map((it) =>
        el("li", {}, el("span", { class: "tf-item" }, it.summary),
          el("details", {}, el("summary", {}, "lines"),
            el("ul", {}, it.lines.map((l) => el("li", {}, l.description + ": " + CS.money(l.amount, p.currency))),
              el("li", {}, (p.tax_name || "tax") + " included: " + CS.money(it.tax, p.currency)))))));
    } catch (e) {
      if (n !== seq) return;
      $("#preview-error").textContent = e.message;
      clear($("#preview-items"));
    }
  }

  function renderExamples() {
    const body = clear($("#examples tbody"));
    examples.forEach((x, i) => {
      const cell = (key, label) => el("td", {}, el("input", {
        type: "number", min: 0, step: "any", value: x[key], "aria-label": label + " of example " + (i + 1), class: "tf-num",
        oninput: (ev) => { x[key] = Number(ev.target.value) || 0; schedulePreview(); },
      }));
      body.append(el("tr", {}, cell("kwh", "kWh"), cell("minutes", "Charging minutes"), cell("idle", "Idle minutes"),
        el("td", {}, examples.length > 1 && el("button", { type: "button", class: "small", "aria-label": "Remove example " + (i + 1),
          onclick: () => { examples.splice(i, 1); renderExamples(); schedulePreview(0); } }, "×"))));
    });
  }
  $("#example-add").addEventListener("click", () => { examples.push({ kwh: 20, minutes: 60, idle: 0 }); renderExamples(); schedulePreview(0); });

  for (const f of fields) input(f).addEventListener("input", () => { syncJSON(); schedulePreview(); });
  $("#t-json").addEventListener("input", () => {
    let t;
    try { t = JSON.parse($("#t-json").value); } catch (e) { $("#t-json-error").textContent = "Not valid JSON yet: " + e.message; return; }
    $("#t-json-error").textContent = "";
    // Hand-edited JSON of the common shape updates the form; anything else makes the tariff custom.
    const keep = editing;
    editing = { id: keep && keep.id, name: keep && keep.name, tariff: t };
    setCustom(!toForm(t));
    schedulePreview();
  });

  $("#tariff-new").addEventListener("click", () => openEditor(null));
  $("#t-cancel").addEventListener("click", closeEditor);
  $("#tariff-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!canEdit) return;
    let tariff;
    try { tariff = current(); } catch (e) { CS.flash("The tariff JSON is not valid: " + e.message, "error"); return; }
    const name = $("#t-name").value.trim();
    if (!name) { CS.flash("Give the tariff a name.", "error"); $("#t-name").focus(); return; }
    const body = { name, tariff };
    const saved = await CS.run(() => editing && editing.id
      ? CS.api("PUT", "/tariffs/" + encodeURIComponent(editing.id), body)
      : CS.api("POST", "/tariffs", Object.assign(CS.isAdmin ? { operator_id: CS.operatorID } : {}, body)));
    if (!saved) return;
    CS.flash("Saved “" + saved.name + "”: " + saved.description.summary);
    await CS.run(load);
    const t = tariffs.find((x) => x.id === saved.id) || saved;
    editing = { id: t.id, name: t.name, tariff: t.tariff };
    $("#editor-title").textContent = "Edit “" + t.name + "”";
    renderAssign();
  });

  // Assignments.
  function renderAssign() {
    $("#assign").hidden = !canEdit || !editing || !editing.id;
    fillTargets();
  }
  function fillTargets() {
    const scope = $("#a-scope").value, sel = clear($("#a-target"));
    const opts = scope === "site" ? sites.map((s) => [s.id, s.name]) : scope === "station" ? stations.map((s) => [s.id, s.id]) : [];
    for (const [v, label] of opts) sel.append(el("option", { value: v }, label));
    sel.disabled = scope === "operator" || !opts.length;
  }
  $("#a-scope").addEventListener("change", fillTargets);
  $("#a-save").addEventListener("click", async () => {
    const scope = $("#a-scope").value;
    const body = { scope, tariff_id: editing.id };
    if (scope !== "operator") {
      if (!$("#a-target").value) { CS.flash("There is no " + scope + " to assign to.", "error"); return; }
      body.scope_id = $("#a-target").value;
    }
    if (CS.isAdmin) body.operator_id = CS.operatorID;
    const a = await CS.run(() => CS.api("PUT", "/tariff-assignments", body));
    if (!a) return;
    CS.flash("“" + editing.name + "” now applies to " + scopeName(a).toLowerCase() + ".");
    await CS.run(load);
  });

  await load();
});
