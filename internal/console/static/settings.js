// settings page (owners and administrators): the operator's seller details
// and its alert settings (thresholds, webhook URL, the signing secret shown
// once when generated or rotated). See console.js for the shared helpers (CS.*).
(function () {
  "use strict";
  const { el, $ } = CS;
  let op = null;
  const opPath = () => "/operators/" + encodeURIComponent(CS.operatorID);

  function fill(o) {
    op = o;
    $("#op-name").value = o.name;
    $("#op-legal-name").value = o.legal_name;
    $("#op-tax-id").value = o.tax_id;
    $("#op-address").value = o.address;
    $("#op-tax-id-label").textContent = o.country === "AU" ? "ABN" : "Tax registration number";
    $("#op-facts").textContent = "Country " + o.country + " · prices in " + o.currency + " · settlement " + o.settlement_mode +
      (o.merchant_account ? " (" + o.merchant_account + ")" : "") + " — fixed, or set by the platform.";
    $("#alert-offline").value = o.alert_offline_minutes;
    $("#alert-stuck").value = o.alert_payment_stuck_minutes;
    $("#alert-webhook").value = o.alert_webhook_url || "";
    $("#secret-rotate").hidden = !o.alert_webhook_url;
  }

  function showSecret(secret) {
    const code = el("code", { id: "webhook-secret" }, secret);
    $("#secret-result").replaceChildren(el("div", { class: "secret", role: "status" },
      el("b", {}, "Webhook secret:"), code,
      el("button", { type: "button", class: "small copy", onclick: async () => {
        try { await navigator.clipboard.writeText(secret); CS.flash("Copied to the clipboard."); }
        catch (_) { const r = document.createRange(); r.selectNodeContents(code); getSelection().removeAllRanges(); getSelection().addRange(r); }
      } }, "Copy"),
      el("p", { class: "small" }, "Shown only now: put it in the receiving end's configuration to check the signatures. Rotate it if it leaks.")));
  }

  async function save(body, btn, what) {
    btn.disabled = true;
    try {
      const o = await CS.run(() => CS.api("PATCH", opPath(), body));
      if (!o) return;
      fill(o);
      if (o.alert_webhook_secret) showSecret(o.alert_webhook_secret);
      CS.flash(what + " saved.");
    } finally { btn.disabled = false; }
  }

  CS.page(async () => {
    if (!CS.operatorID) { CS.flash("Pick an operator first.", "error"); return; }
    fill(await CS.api("GET", opPath()));
    $("#seller-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      save({ name: $("#op-name").value.trim(), legal_name: $("#op-legal-name").value.trim(),
        tax_id: $("#op-tax-id").value.trim(), address: $("#op-address").value.trim() }, $("#seller-save"), "Seller details");
    });
    $("#alert-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const body = {
        alert_offline_minutes: parseInt($("#alert-offline").value, 10),
        alert_payment_stuck_minutes: parseInt($("#alert-stuck").value, 10),
      };
      const url = $("#alert-webhook").value.trim();
      if (url !== (op.alert_webhook_url || "")) body.alert_webhook_url = url;
      if (!url) $("#secret-result").replaceChildren();
      save(body, $("#alert-save"), "Alert settings");
    });
    $("#secret-rotate").addEventListener("click", async (ev) => {
      const btn = ev.target;
      if (btn.dataset.confirm !== "1") {
        btn.dataset.confirm = "1";
        btn.textContent = "Rotate: the old secret stops working";
        btn.classList.add("danger");
        return;
      }
      btn.disabled = true;
      try {
        const o = await CS.run(() => CS.api("POST", opPath() + "/alert-webhook-secret", {}));
        if (!o) return;
        fill(o);
        showSecret(o.alert_webhook_secret);
        CS.flash("Webhook secret rotated.");
      } finally {
        btn.disabled = false; btn.dataset.confirm = ""; btn.textContent = "Rotate webhook secret"; btn.classList.remove("danger");
      }
    });
  });
})();
