// Package ledger is Charge Star's double-entry money ledger: account kinds,
// the transactions that business events become, and the rules they obey.
// It is pure domain code and does no I/O. The store persists it
// (store.PostLedger, CapturePending, VoidPending, LedgerBalance, CheckLedger),
// and Book is an in-memory implementation with the same semantics, used as
// the reference model in tests. Workload generates random operations for
// property tests (and for a crash-safety test: apply, crash, reopen,
// store.CheckLedger, replay the keys).
//
// # Money
//
// Amounts are int64 minor units (cents) of the account's ISO 4217 currency,
// never floats. An entry's amount is positive, at most MaxAmount; a
// transaction has at most MaxEntries entries, so no sum can overflow.
//
// # Accounts
//
// An account is identified by (Kind, Owner, Currency) and exists from its
// first entry. Each kind has a normal side, the side its balance grows on:
//
//	kind               owner            side    what its balance is
//	in_flight          payment id       credit  driver money authorised for one payment (a hold) and not yet allocated
//	provider_clearing  provider         debit   cash at the payment provider: captured money it owes us
//	operator_merchant  operator id      debit   direct settlement: the operator's own merchant account; after a capture, the platform fee it owes us
//	operator_payable   operator id      credit  platform settlement: what the platform owes the operator (net of fees and tax)
//	tax_payable        operator id      credit  platform settlement: tax (GST) collected for the operator, who is the seller and owes it
//	platform_fees      -                credit  platform fee revenue
//	provider_fees      provider         debit   provider fees charged to us and not recovered through prices
//	refunds            -                debit   the platform's share of refunds (contra-revenue)
//	wallet             driver account   credit  a driver's prepaid balance; never negative
//
// # Transactions
//
// A Transaction is a set of entries whose debits equal its credits in every
// currency. It carries an idempotency key, unique in the ledger: posting a
// transaction whose key is already there writes nothing and returns the first
// result (Result.Replayed); the same key with different content is
// ErrKeyReused. A Kind (hold, capture, void, refund, payout, fee,
// wallet_topup, adjustment) and a Reference (session id, payment id) say what
// it records. Posted transactions are never changed or deleted: a correction
// is a new transaction.
//
// An entry's status is its transaction's status. Only a hold is ever
// pending, and it moves forward once: pending → posted (by its capture) or
// pending → voided (by its void). Nothing else ever changes.
//
// # Two-phase payments
//
// Hold records an authorisation as a pending transaction of exactly two
// entries: a debit of the funding account (provider_clearing for a card
// payment the platform settles, operator_merchant for a card payment settled
// directly to the operator, wallet for a wallet payment) and a credit of the
// payment's in_flight account. Pending amounts count in Balance's pending
// columns, not in its posted ones, and a pending debit of a wallet reduces
// what is available in it.
//
// Capture posts the hold and, in the same transaction, allocates the
// captured gross amount. Capturing less than was held releases the rest:
// the hold's entries are posted for the whole hold and the capture reverses
// the unused part (so every amount ever written stays as it was written),
// then moves the captured gross out of in_flight:
//
//	gross = tax + platform fee + provider fee + net
//
//	platform settlement (the platform collects, owes the operator, pays out later)
//	  Dr in_flight         gross
//	  Cr tax_payable[op]   tax
//	  Cr platform_fees     platform fee
//	  Cr operator_payable  net
//	  Cr provider_fees     provider fee   (the price recovers the provider's fee …)
//	  Dr provider_fees     provider fee   (… which the provider keeps:
//	  Cr provider_clearing provider fee    it settles gross − fee)
//
//	direct settlement (the money is the operator's; the platform books its fee receivable)
//	  Dr in_flight         gross
//	  Cr operator_merchant gross − platform fee
//	  Cr platform_fees     platform fee
//
// So an in_flight account's posted balance is always zero: money never rests
// in flight. After a direct capture, operator_merchant holds exactly the
// platform fee the operator's account owes (CollectFee books its arrival).
// Booking the provider fee as an expense and its recovery as a credit to the
// same account makes provider_fees' balance the fees not recovered: fees on
// refunds and top-ups, or a fee that differs from the one priced. Void
// voids the hold and books nothing else.
//
// Refund, Payout, WalletTopUp, ProviderFee and CollectFee build the other
// transactions; an adjustment is built by hand and checked by Validate.
//
// # Guards
//
// A transaction may name accounts whose available balance must not go
// below zero (Transaction.Guard): a payout cannot pay an operator more than
// it is owed. Every wallet a transaction debits is guarded. The check runs
// against the balances inside the write transaction (ErrInsufficientFunds).
//
// # Invariants
//
// Check (and store.CheckLedger, in SQL) verifies: every transaction balances
// per currency and follows the rules of its kind; posted and pending entries
// each net to zero per currency; an entry has one status (its
// transaction's), so it is never both posted and voided; only holds are
// pending or voided, a posted hold has exactly one capture, a voided one
// exactly one void, a pending one neither; pending entries are only the two
// of a hold (an in_flight credit and a funding debit); in_flight accounts
// are touched only by holds and captures, and their posted balance is zero;
// wallets are never negative; stored balances equal the sums of the entries.
package ledger
