package stripe

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/payments"
	"github.com/chargestar/chargestar/internal/testutil"
	stripego "github.com/stripe/stripe-go/v85"
)

// TestAgainstStripeMock sends every request the provider makes, in both
// settlement modes, to stripe-mock, which refuses any that does not match
// Stripe's API.
func TestAgainstStripeMock(t *testing.T) {
	base := testutil.StartStripeMock(t)
	p, err := New(Config{SecretKey: "sk_test_123", APIURL: base, MaxNetworkRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, set := range []payments.Settlement{{}, {Mode: payments.SettlementDirect, Account: "acct_1Abc"}} {
		t.Run(fmt.Sprintf("settlement=%s", set.Normalized().Mode), func(t *testing.T) {
			md := map[string]string{"session_id": "ses_1"}
			c, err := p.CreateCheckout(ctx, payments.CheckoutRequest{IdempotencyKey: "ses_1/hold", Amount: 5000, Currency: "AUD",
				Description: "Charging at Acme, bay 4", SuccessURL: "https://app.example/ok", CancelURL: "https://app.example/cancel",
				Metadata: md, Settlement: set, CustomerRef: "cus_1", SaveCard: true, ExpiresAt: time.Now().Add(time.Hour)})
			if err != nil || c.ID == "" {
				t.Fatalf("CreateCheckout: %+v %v", c, err)
			}
			s, err := p.CreateCardSetup(ctx, payments.CardSetupRequest{IdempotencyKey: "drv_1/card", Email: "driver@example.com",
				SuccessURL: "https://app.example/card", CancelURL: "https://app.example/cancel", Metadata: map[string]string{"account_id": "drv_1"}, Settlement: set})
			if err != nil || s.ID == "" || s.CustomerRef == "" {
				t.Fatalf("CreateCardSetup: %+v %v", s, err)
			}
			if _, err := p.CreateCardSetup(ctx, payments.CardSetupRequest{IdempotencyKey: "drv_2/card", CustomerRef: "cus_1", SuccessURL: "https://app.example/card", Settlement: set}); err != nil {
				t.Fatalf("CreateCardSetup for a customer: %v", err)
			}
			// stripe-mock answers a fixture PaymentIntent that is not
			// capturable; a decline from our status check, with the
			// payment named, is the sign that Stripe took the request.
			pay, err := p.AuthorizeOffSession(ctx, payments.AuthorizeRequest{IdempotencyKey: "ses_2/hold", Amount: 3000, Currency: "AUD",
				Description: "RFID session", CustomerRef: "cus_1", PaymentMethodRef: "pm_1", Metadata: md, Settlement: set})
			var pe *payments.Error
			if err != nil && !(errors.As(err, &pe) && errors.Is(err, payments.ErrDeclined) && pe.PaymentID != "") {
				t.Fatalf("AuthorizeOffSession: %+v %v", pay, err)
			}
			ref := payments.PaymentRef{ID: "pi_123", Account: set.Account}
			fee := int64(0)
			if set.Account != "" {
				fee = 150
			}
			if _, err := p.Capture(ctx, payments.CaptureRequest{IdempotencyKey: "ses_1/capture", Payment: ref, Amount: 3210, ApplicationFee: fee, Metadata: md}); err != nil {
				t.Fatalf("Capture: %v", err)
			}
			if _, err := p.Void(ctx, payments.VoidRequest{IdempotencyKey: "ses_1/void", Payment: ref}); err != nil {
				t.Fatalf("Void: %v", err)
			}
			if _, err := p.Refund(ctx, payments.RefundRequest{IdempotencyKey: "ses_1/refund", Payment: ref, Amount: 1000,
				Reason: payments.RefundRequestedByCustomer, RefundApplicationFee: set.Account != "", Metadata: md}); err != nil {
				t.Fatalf("Refund: %v", err)
			}
			if _, err := p.Refund(ctx, payments.RefundRequest{IdempotencyKey: "ses_1/refund/all", Payment: ref}); err != nil {
				t.Fatalf("full Refund: %v", err)
			}
			if got, err := p.GetPayment(ctx, ref); err != nil || got.ID == "" {
				t.Fatalf("GetPayment: %+v %v", got, err)
			}
		})
	}
	// stripe-mock refuses what Stripe refuses (so the requests above are
	// valid), and the provider reports it as an invalid request.
	bad := &stripego.PaymentIntentCaptureParams{}
	bad.AddExtra("no_such_parameter", "1")
	_, err = p.sc.V1PaymentIntents.Capture(ctx, "pi_123", bad)
	if err := convertErr(err); !errors.Is(err, payments.ErrInvalidRequest) {
		t.Errorf("unknown parameter: %v", err)
	}
}
