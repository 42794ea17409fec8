package payments

import (
	"net/url"
	"unicode/utf8"
)

// Limits every provider enforces the same way, so that a request the sandbox
// accepts is one Stripe accepts too.
const (
	// MaxAmount is the largest amount in minor units (Stripe's eight digits).
	MaxAmount = 99_999_999
	// Metadata limits (Stripe's).
	MaxMetadataKeys     = 20
	MaxMetadataKeyLen   = 40
	MaxMetadataValueLen = 500
	// MaxIdempotencyKeyLen is Stripe's limit on idempotency keys.
	MaxIdempotencyKeyLen = 255
)

func invalid(code, format string, args ...any) error {
	return Errorf(ErrInvalidRequest, code, format, args...)
}

// ValidCurrency reports whether c looks like an ISO 4217 code in upper case.
func ValidCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := range 3 {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

func validKey(k string) error {
	switch {
	case k == "":
		return invalid("idempotency_key_missing", "an idempotency key is required")
	case len(k) > MaxIdempotencyKeyLen:
		return invalid("idempotency_key_too_long", "idempotency key longer than %d bytes", MaxIdempotencyKeyLen)
	}
	return nil
}

func validAmount(what string, a int64) error {
	if a <= 0 || a > MaxAmount {
		return invalid("amount_invalid", "%s must be between 1 and %d minor units, got %d", what, MaxAmount, a)
	}
	return nil
}

func validMoney(amount int64, currency string) error {
	if !ValidCurrency(currency) {
		return invalid("currency_invalid", "currency %q is not an upper-case ISO 4217 code", currency)
	}
	return validAmount("amount", amount)
}

func validMetadata(md map[string]string) error {
	if len(md) > MaxMetadataKeys {
		return invalid("metadata_invalid", "at most %d metadata keys", MaxMetadataKeys)
	}
	for k, v := range md {
		if k == "" || len(k) > MaxMetadataKeyLen || len(v) > MaxMetadataValueLen || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return invalid("metadata_invalid", "metadata %q: keys 1–%d bytes, values ≤ %d bytes, UTF-8", k, MaxMetadataKeyLen, MaxMetadataValueLen)
		}
	}
	return nil
}

func validURL(what, u string, required bool) error {
	if u == "" && !required {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return invalid("url_invalid", "%s must be an absolute http(s) URL, got %q", what, u)
	}
	return nil
}

// Validate checks the settlement arrangement.
func (s Settlement) Validate() error {
	switch s.Mode {
	case "", SettlementPlatform:
		if s.Account != "" {
			return invalid("settlement_invalid", "platform settlement takes no merchant account")
		}
	case SettlementDirect:
		if s.Account == "" {
			return invalid("settlement_invalid", "direct settlement needs the operator's merchant account")
		}
	default:
		return invalid("settlement_invalid", "settlement mode %q: want platform or direct", s.Mode)
	}
	return nil
}

// Normalized returns s with the zero mode spelled out as platform.
func (s Settlement) Normalized() Settlement {
	if s.Mode == "" {
		s.Mode = SettlementPlatform
	}
	return s
}

// Validate checks a checkout request without asking the provider.
func (r CheckoutRequest) Validate() error {
	return firstErr(validKey(r.IdempotencyKey), validMoney(r.Amount, r.Currency),
		validURL("success URL", r.SuccessURL, true), validURL("cancel URL", r.CancelURL, false),
		validMetadata(r.Metadata), r.Settlement.Validate(), saveCardNeedsCustomer(r.SaveCard, r.CustomerRef))
}

func saveCardNeedsCustomer(save bool, customer string) error {
	if save && customer == "" {
		return invalid("customer_missing", "saving the card needs a customer")
	}
	return nil
}

// Validate checks an off-session authorisation request.
func (r AuthorizeRequest) Validate() error {
	var refs error
	if r.CustomerRef == "" || r.PaymentMethodRef == "" {
		refs = invalid("payment_method_missing", "an off-session authorisation needs a customer and a saved payment method")
	}
	return firstErr(validKey(r.IdempotencyKey), validMoney(r.Amount, r.Currency), refs,
		validMetadata(r.Metadata), r.Settlement.Validate())
}

// Validate checks a capture request.
func (r CaptureRequest) Validate() error {
	var fee error
	switch {
	case r.ApplicationFee < 0 || r.ApplicationFee > r.Amount:
		fee = invalid("application_fee_invalid", "application fee %d must be between 0 and the captured amount %d", r.ApplicationFee, r.Amount)
	case r.ApplicationFee > 0 && r.Payment.Account == "":
		fee = invalid("application_fee_invalid", "an application fee needs direct settlement (a merchant account)")
	}
	return firstErr(validKey(r.IdempotencyKey), validRef(r.Payment), validAmount("capture amount", r.Amount), fee, validMetadata(r.Metadata))
}

// Validate checks a void request.
func (r VoidRequest) Validate() error {
	return firstErr(validKey(r.IdempotencyKey), validRef(r.Payment))
}

// Validate checks a refund request.
func (r RefundRequest) Validate() error {
	var amount, reason error
	if r.Amount != 0 {
		amount = validAmount("refund amount", r.Amount)
	}
	switch r.Reason {
	case "", RefundRequestedByCustomer, RefundDuplicate, RefundFraudulent:
	default:
		reason = invalid("refund_reason_invalid", "refund reason %q", r.Reason)
	}
	if r.RefundApplicationFee && r.Payment.Account == "" {
		reason = invalid("application_fee_invalid", "only direct-settlement payments have an application fee to refund")
	}
	return firstErr(validKey(r.IdempotencyKey), validRef(r.Payment), amount, reason, validMetadata(r.Metadata))
}

// Validate checks a card setup request.
func (r CardSetupRequest) Validate() error {
	return firstErr(validKey(r.IdempotencyKey), validURL("success URL", r.SuccessURL, true),
		validURL("cancel URL", r.CancelURL, false), validMetadata(r.Metadata), r.Settlement.Validate())
}

func validRef(r PaymentRef) error {
	if r.ID == "" {
		return invalid("payment_missing", "a payment id is required")
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
