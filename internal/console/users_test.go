package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chargestar/chargestar/internal/browsertest"
)

// location answers the browser's address.
func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	var loc string
	run(t, ctx, "reading the location", chromedp.Location(&loc))
	return loc
}

func TestUsersPageInvitesAndDisables(t *testing.T) {
	f := newFixture(t)
	ctx := browsertest.NewDesktop(t)
	f.signIn(t, ctx, f.owner)
	run(t, ctx, "opening the users page", chromedp.Navigate(f.srv.URL+"/console/users"))
	browsertest.WaitText(t, ctx, "#users-table tbody", f.owner.Email+" (you)")

	// A weak password is refused with the API's reason.
	email := "finance-" + strings.ToLower(t.Name()) + "@example.com"
	run(t, ctx, "inviting with a short password",
		chromedp.Click("#user-new", chromedp.ByQuery),
		chromedp.WaitVisible("#invite-email", chromedp.ByQuery),
		chromedp.SendKeys("#invite-email", email, chromedp.ByQuery),
		chromedp.SendKeys("#invite-name", "Fin Ance", chromedp.ByQuery),
		chromedp.SetValue("#invite-role", "finance", chromedp.ByQuery),
		setValue("#invite-password", "short"),
		// The browser's own minlength check would stop the form: ask the API.
		chromedp.Evaluate(`document.querySelector("#invite-password").removeAttribute("minlength")`, nil),
		chromedp.Click("#invite-save", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#flash", "password")
	// An email that already has a user: 409.
	run(t, ctx, "inviting an existing email",
		setValue("#invite-email", f.owner.Email),
		setValue("#invite-password", "a-fine-long-password"),
		chromedp.Click("#invite-save", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#flash", "exists")
	// Now right: the initial password is shown once, with the note.
	const password = "finance-initial-pw-1"
	run(t, ctx, "inviting the finance user",
		setValue("#invite-email", email),
		setValue("#invite-password", password),
		chromedp.Click("#invite-save", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#invite-secret", password)
	browsertest.WaitText(t, ctx, "#invite-result", "securely")
	browsertest.WaitText(t, ctx, "#users-table tbody", "Fin Ance")
	var list struct {
		Items []struct{ ID, Email, Role string }
	}
	f.mustJSON(t, f.token, "GET", "/api/v1/users", "", 200, &list)
	var finID string
	for _, u := range list.Items {
		if u.Email == email && u.Role == "finance" {
			finID = u.ID
		}
	}
	if finID == "" {
		t.Fatalf("no finance user in %+v", list)
	}
	row := `#users-table tr[data-user="` + finID + `"]`
	browsertest.WaitText(t, ctx, row, "never")
	browsertest.WaitText(t, ctx, row, "Active")

	// The owner cannot demote themselves, the last owner: 409 last_owner, shown, and the select goes back.
	var ownerID string
	for _, u := range list.Items {
		if u.Email == f.owner.Email {
			ownerID = u.ID
		}
	}
	ownerRole := `#users-table tr[data-user="` + ownerID + `"] select.role`
	run(t, ctx, "demoting the last owner",
		chromedp.SetValue(ownerRole, "technician", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector(`+jsString(ownerRole)+`).dispatchEvent(new Event("change"))`, nil))
	browsertest.WaitText(t, ctx, "#flash", "last active owner")
	var role string
	run(t, ctx, "reading the role", chromedp.Value(ownerRole, &role, chromedp.ByQuery))
	if role != "owner" {
		t.Errorf("the select shows %q after the refusal", role)
	}

	// The finance user signs in (another browser) and has no Users item.
	fin := user{ID: finID, Email: email, Password: password}
	fctx := browsertest.NewDesktop(t)
	f.signIn(t, fctx, fin)
	browsertest.WaitText(t, fctx, "#user-role", "finance")
	var nav string
	run(t, fctx, "reading the navigation", chromedp.Text("header nav", &nav, chromedp.ByQuery))
	if strings.Contains(nav, "Users") || strings.Contains(nav, "Settings") || !strings.Contains(nav, "Network") {
		t.Errorf("a finance user's navigation: %q", nav)
	}

	// The owner sees the sign-in, and disables the user.
	run(t, ctx, "reloading", chromedp.Reload())
	browsertest.WaitText(t, ctx, row, "ago")
	run(t, ctx, "disabling", chromedp.Click(row+" button.disable", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#flash", "disabled")
	browsertest.WaitText(t, ctx, row, "Disabled")
	browsertest.Screenshot(t, ctx, "console-users")

	// Their next page load lands on the sign-in page.
	run(t, fctx, "reloading as the disabled user", chromedp.Navigate(f.srv.URL+"/console/network"), chromedp.WaitVisible("#email", chromedp.ByQuery))
	if loc := location(t, fctx); !strings.Contains(loc, "/console/sign-in") {
		t.Fatalf("a disabled user's page load went to %s", loc)
	}

	// Enabled again, a reset password works and the old one does not.
	run(t, ctx, "enabling", chromedp.Click(row+" button.enable", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, row, "Active")
	run(t, ctx, "resetting the password",
		chromedp.Click(row+" button.reset", chromedp.ByQuery),
		chromedp.WaitVisible("input.reset-password", chromedp.ByQuery),
		setValue("input.reset-password", "finance-second-pw-2"),
		chromedp.Click("button.save-reset", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#reset-secret", "finance-second-pw-2")
	if r := postSignIn(t, client(t), f.srv.URL, email, password); r.StatusCode != 401 {
		t.Errorf("the old password: %d", r.StatusCode)
	}
	if r := postSignIn(t, client(t), f.srv.URL, email, "finance-second-pw-2"); r.StatusCode != 303 {
		t.Errorf("the reset password: %d", r.StatusCode)
	}
}

func TestUsersPageCreatesAndRevokesAPITokens(t *testing.T) {
	f := newFixture(t)
	ctx := browsertest.NewDesktop(t)
	f.signIn(t, ctx, f.owner)
	run(t, ctx, "opening the users page", chromedp.Navigate(f.srv.URL+"/console/users"))
	browsertest.WaitText(t, ctx, "#tokens-table tbody", "tests") // the fixture's token
	run(t, ctx, "creating a token",
		chromedp.Click("#token-new", chromedp.ByQuery),
		chromedp.SendKeys("#token-name", "billing export", chromedp.ByQuery),
		chromedp.Click("#token-save", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#token-result", "shown only this once")
	var secret string
	run(t, ctx, "reading the token", chromedp.Text("#token-secret", &secret, chromedp.ByQuery))
	if !strings.HasPrefix(secret, "cs_") {
		t.Fatalf("token %q", secret)
	}
	f.mustJSON(t, secret, "GET", "/api/v1/me", "", 200, nil)
	browsertest.WaitText(t, ctx, "#tokens-table tbody", "billing export")
	// The list shows no secret.
	var table string
	run(t, ctx, "reading the table", chromedp.Text("#tokens-table", &table, chromedp.ByQuery))
	if strings.Contains(table, secret) {
		t.Fatal("the token list shows the secret")
	}
	var list struct{ Items []struct{ ID, Name string } }
	f.mustJSON(t, f.token, "GET", "/api/v1/operators/"+f.op.ID+"/tokens", "", 200, &list)
	var id string
	for _, it := range list.Items {
		if it.Name == "billing export" {
			id = it.ID
		}
	}
	row := `#tokens-table tr[data-token="` + id + `"]`
	run(t, ctx, "revoking",
		chromedp.Click(row+" button.revoke", chromedp.ByQuery),
		chromedp.WaitVisible(row+" button.revoke-confirm", chromedp.ByQuery),
		chromedp.Click(row+" button.revoke-confirm", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, row, "Revoked")
	f.mustJSON(t, secret, "GET", "/api/v1/me", "", 401, nil)
}

func TestSettingsPageSellerAndAlerts(t *testing.T) {
	f := newFixture(t)
	ctx := browsertest.NewDesktop(t)
	f.signIn(t, ctx, f.owner)
	run(t, ctx, "opening the settings page", chromedp.Navigate(f.srv.URL+"/console/settings"))
	browsertest.WaitText(t, ctx, "#op-facts", "AUD")
	run(t, ctx, "a bad ABN",
		chromedp.SendKeys("#op-legal-name", "Harbour Parking Pty Ltd", chromedp.ByQuery),
		chromedp.SendKeys("#op-tax-id", "12 345 678 901", chromedp.ByQuery),
		chromedp.SendKeys("#op-address", "2 Harbour Rd, Sydney NSW 2000", chromedp.ByQuery),
		chromedp.Click("#seller-save", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#flash", "not a valid Australian Business Number")
	run(t, ctx, "a good ABN", setValue("#op-tax-id", "51824753556"), chromedp.Click("#seller-save", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#flash", "Seller details saved")
	op := f.operator(t, f.op.ID)
	if op.LegalName != "Harbour Parking Pty Ltd" || op.TaxID != "51 824 753 556" || op.Address != "2 Harbour Rd, Sydney NSW 2000" {
		t.Fatalf("seller details %+v", op)
	}

	// Alert settings: turning the webhook on shows its secret once.
	run(t, ctx, "alert settings",
		setValue("#alert-offline", "15"),
		setValue("#alert-stuck", "45"),
		setValue("#alert-webhook", "https://ops.example.com/hooks/chargestar"),
		chromedp.Click("#alert-save", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#flash", "Alert settings saved")
	browsertest.WaitText(t, ctx, "#secret-result", "Shown only now")
	var secret string
	run(t, ctx, "reading the secret", chromedp.Text("#webhook-secret", &secret, chromedp.ByQuery))
	op = f.operator(t, f.op.ID)
	if op.AlertOfflineMinutes != 15 || op.AlertPaymentStuckMinutes != 45 || op.AlertWebhookURL != "https://ops.example.com/hooks/chargestar" ||
		secret == "" || op.AlertWebhookSecret != secret {
		t.Fatalf("alert settings %+v, secret shown %q", op, secret)
	}
	browsertest.Screenshot(t, ctx, "console-settings")

	// Rotating asks once more, then shows the new secret.
	run(t, ctx, "rotating",
		chromedp.Click("#secret-rotate", chromedp.ByQuery),
		chromedp.Click("#secret-rotate", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#flash", "rotated")
	var rotated string
	run(t, ctx, "reading the new secret", chromedp.Text("#webhook-secret", &rotated, chromedp.ByQuery))
	if op := f.operator(t, f.op.ID); rotated == secret || op.AlertWebhookSecret != rotated {
		t.Fatalf("rotated %q (was %q), stored %q", rotated, secret, op.AlertWebhookSecret)
	}
	// A reload does not show it again.
	run(t, ctx, "reloading", chromedp.Reload())
	browsertest.WaitText(t, ctx, "#op-facts", "AUD")
	var shown int
	run(t, ctx, "looking for the secret", chromedp.Evaluate(`document.querySelectorAll("#webhook-secret").length`, &shown))
	if shown != 0 {
		t.Error("the secret is shown again after a reload")
	}
}
