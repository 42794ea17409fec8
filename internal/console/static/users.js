// users page (owners and administrators): console users (invite, role,
// password reset, disable) and the operator's API tokens (create, shown
// once, revoke). See console.js for the shared helpers (CS.*).
(function () {
  "use strict";
  const { el, $, clear, listAll } = CS;

  const ROLES = { owner: "Owner", technician: "Technician", finance: "Finance", admin: "Administrator" };
  const tokensPath = () => "/operators/" + encodeURIComponent(CS.operatorID) + "/tokens";

  // generatePassword: 18 random characters (about 107 bits).
  function generatePassword() {
    const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    const bytes = crypto.getRandomValues(new Uint8Array(18));
    return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
  }

  async function copy(text, codeEl) {
    try {
      await navigator.clipboard.writeText(text);
      CS.flash("Copied to the clipboard.");
    } catch (_) {
      // No clipboard access: select the text for the user to copy.
      const r = document.createRange();
      r.selectNodeContents(codeEl);
      const s = getSelection(); s.removeAllRanges(); s.addRange(r);
      CS.flash("Select and copy it (Ctrl+C).", "error");
    }
  }

  // secretBox shows a secret once, with a copy button.
  function secretBox(id, label, secret, note) {
    const code = el("code", { id }, secret);
    return el("div", { class: "secret", role: "status" },
      el("b", {}, label), code,
      el("button", { type: "button", class: "small copy", onclick: () => copy(secret, code) }, "Copy"),
      el("button", { type: "button", class: "small", onclick: (e) => e.target.closest(".secret").remove() }, "Done"),
      el("p", { class: "small" }, note));
  }

  // --- users ---

  let users = [];

  async function loadUsers() {
    users = await listAll("/users", {});
    users.sort((a, b) => (a.disabled_at ? 1 : 0) - (b.disabled_at ? 1 : 0) || a.email.localeCompare(b.email));
    renderUsers();
  }

  function renderUsers() {
    const tbody = clear($("#users-table tbody"));
    for (const u of users) {
      const me = u.email === CS.email;
      const role = u.role === "admin"
        ? ROLES.admin
        : el("select", { "aria-label": "Role of " + u.email, class: "role", onchange: (e) => changeRole(u, e.target) },
          ["owner", "technician", "finance"].map((r) => el("option", { value: r, selected: r === u.role }, ROLES[r])));
      const actions = el("td", { class: "actions" },
        el("button", { type: "button", class: "small reset", onclick: (e) => resetForm(u, e.target.closest("tr")) }, "Reset password"),
        u.disabled_at
          ? el("button", { type: "button", class: "small enable", onclick: () => setDisabled(u, false) }, "Enable")
          : el("button", { type: "button", class: "small danger-outline disable", disabled: me, title: me ? "You cannot disable yourself" : null,
            onclick: () => setDisabled(u, true) }, "Disable"));
      tbody.append(el("tr", { class: u.disabled_at ? "retired" : "", dataset: { user: u.id } },
        el("td", {}, el("b", {}, u.name || u.email), me ? el("span", { class: "muted" }, " (you)") : null,
          u.name ? el("div", { class: "muted small" }, u.email) : null),
        el("td", {}, role),
        el("td", { title: u.last_sign_in_at ? CS.time(u.last_sign_in_at) : "" }, u.last_sign_in_at ? CS.ago(u.last_sign_in_at) : el("span", { class: "muted" }, "never")),
        el("td", { class: "status" }, u.disabled_at
          ? [CS.badge("Disabled", "st-unavailable"), el("div", { class: "muted small" }, CS.time(u.disabled_at))]
          : CS.badge("Active", "st-available")),
        actions));
    }
  }

  async function changeRole(u, sel) {
    const out = await CS.run(() => CS.api("PATCH", "/users/" + u.id, { role: sel.value }));
    if (!out) { sel.value = u.role; return; }
    CS.flash((u.name || u.email) + " is now " + ROLES[out.role].toLowerCase() + ". Their console sessions ended; they sign in again.");
    await loadUsers();
  }

  async function setDisabled(u, disabled) {
    const out = await CS.run(() => CS.api("PATCH", "/users/" + u.id, { disabled }));
    if (!out) return;
    CS.flash(disabled ? u.email + " is disabled: signed out now and cannot sign in." : u.email + " can sign in again.");
    await loadUsers();
  }

  // resetForm opens a row under the user's for a new password.
  function resetForm(u, tr) {
    const next = tr.nextElementSibling;
    if (next && next.classList.contains("reset-row")) { next.remove(); return; }
    const input = el("input", { type: "text", minlength: 10, maxlength: 200, autocomplete: "new-password", spellcheck: "false",
      class: "reset-password", "aria-label": "New password for " + u.email, value: generatePassword() });
    const save = async () => {
      const pw = input.value;
      const out = await CS.run(() => CS.api("PATCH", "/users/" + u.id, { password: pw }));
      if (!out) return;
      row.remove();
      $("#invite-result").replaceChildren(secretBox("reset-secret", "New password for " + u.email + ":", pw,
        "Their console sessions ended. Share it with them securely; it is not shown again."));
    };
    const row = el("tr", { class: "reset-row" }, el("td", { colspan: 5 },
      el("div", { class: "row" },
        el("label", { class: "check" }, "New password for " + u.email), input,
        el("button", { type: "button", class: "small", onclick: () => { input.value = generatePassword(); } }, "Generate"),
        el("button", { type: "button", class: "small primary save-reset", onclick: save }, "Set password"),
        el("button", { type: "button", class: "small", onclick: () => row.remove() }, "Cancel"))));
    tr.after(row);
    input.focus();
  }

  async function invite(ev) {
    ev.preventDefault();
    const body = {
      email: $("#invite-email").value.trim(),
      name: $("#invite-name").value.trim(),
      role: $("#invite-role").value,
      password: $("#invite-password").value,
    };
    if (CS.isAdmin) body.operator_id = CS.operatorID;
    const btn = $("#invite-save");
    btn.disabled = true;
    try {
      const u = await CS.run(() => CS.api("POST", "/users", body));
      if (!u) return;
      $("#invite-form").hidden = true;
      $("#invite-result").replaceChildren(secretBox("invite-secret", u.email + " (" + ROLES[u.role].toLowerCase() + ") signs in at " +
        location.origin + "/console/ with:", body.password, "Share this initial password securely; it is not shown again."));
      CS.flash("User " + u.email + " created.");
      await loadUsers();
    } finally { btn.disabled = false; }
  }

  function openInvite() {
    for (const id of ["#invite-email", "#invite-name"]) $(id).value = "";
    $("#invite-role").value = "technician";
    $("#invite-password").value = generatePassword();
    $("#invite-form").hidden = false;
    $("#invite-email").focus();
  }

  // --- API tokens ---

  async function loadTokens() {
    const toks = await listAll(tokensPath(), {});
    toks.sort((a, b) => (a.revoked_at ? 1 : 0) - (b.revoked_at ? 1 : 0) || b.created_at.localeCompare(a.created_at));
    const tbody = clear($("#tokens-table tbody"));
    if (!toks.length) tbody.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No API tokens.")));
    for (const t of toks) {
      const actions = el("td", { class: "actions" });
      if (!t.revoked_at) {
        actions.append(el("button", { type: "button", class: "small danger-outline revoke", onclick: () => {
          clear(actions).append(el("span", { class: "confirm" }, "Revoke? Anything using it stops working at once. "),
            el("button", { type: "button", class: "small danger revoke-confirm", onclick: () => revoke(t) }, "Revoke"),
            el("button", { type: "button", class: "small", onclick: loadTokens }, "Cancel"));
        } }, "Revoke"));
      }
      tbody.append(el("tr", { class: t.revoked_at ? "retired" : "", dataset: { token: t.id } },
        el("td", {}, t.name || el("span", { class: "muted" }, "(no name)")),
        el("td", {}, el("code", {}, t.id)),
        el("td", {}, CS.time(t.created_at)),
        el("td", {}, t.revoked_at ? [CS.badge("Revoked", "st-unavailable"), " ", el("span", { class: "muted small" }, CS.time(t.revoked_at))] : CS.badge("Active", "st-available")),
        actions));
    }
  }

  async function revoke(t) {
    const ok = await CS.run(async () => { await CS.api("DELETE", tokensPath() + "/" + encodeURIComponent(t.id)); return true; });
    if (!ok) return;
    CS.flash("Token " + (t.name || t.id) + " revoked.");
    await loadTokens();
  }

  async function createToken(ev) {
    ev.preventDefault();
    const name = $("#token-name").value.trim();
    const t = await CS.run(() => CS.api("POST", tokensPath(), name ? { name } : {}));
    if (!t) return;
    $("#token-form").hidden = true;
    $("#token-result").replaceChildren(secretBox("token-secret", "New token" + (t.name ? " “" + t.name + "”" : "") + ":", t.token,
      "Copy it now: it is shown only this once (only its hash is stored). Send it as Authorization: Bearer <token>."));
    await loadTokens();
  }

  CS.page(async () => {
    $("#user-new").addEventListener("click", openInvite);
    $("#invite-generate").addEventListener("click", () => { $("#invite-password").value = generatePassword(); });
    $("#invite-cancel").addEventListener("click", () => { $("#invite-form").hidden = true; });
    $("#invite-form").addEventListener("submit", invite);
    $("#token-new").addEventListener("click", () => { $("#token-name").value = ""; $("#token-form").hidden = false; $("#token-name").focus(); });
    $("#token-cancel").addEventListener("click", () => { $("#token-form").hidden = true; });
    $("#token-form").addEventListener("submit", createToken);
    await Promise.all([loadUsers(), CS.operatorID ? loadTokens() : null]);
  });
})();
