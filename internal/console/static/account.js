// account page: the signed-in user changes their own password
// (POST /api/v1/me/password); every session of theirs ends, so the page
// goes on to the sign-in form. See console.js for the shared helpers (CS.*).
CS.page(async function () {
  "use strict";
  const form = CS.$("#password-form"), error = CS.$("#password-error");
  const say = (text) => { error.textContent = text; error.hidden = !text; };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const current = CS.$("#current-password").value, next = CS.$("#new-password").value;
    if (next !== CS.$("#confirm-password").value) { say("The two new passwords differ."); return; }
    say("");
    try {
      await CS.api("POST", "/me/password", { current_password: current, password: next });
    } catch (e) { say(e.message); return; }
    location.href = "/console/sign-in?changed=1";
  });
});
