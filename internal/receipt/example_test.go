package receipt_test

import (
	"fmt"

	"github.com/chargestar/chargestar/internal/receipt"
)

// A driver types the code from the charger's screen however they like.
func ExampleNormalizeCode() {
	for _, typed := range []string{"K7QM-4XPD", "k7qm 4xpd", "K7QM4XPO", "K7QU-4XPD", "K7QM-4XP"} {
		code, ok := receipt.NormalizeCode(typed)
		fmt.Printf("%-11q %q %v\n", typed, code, ok)
	}
	// Output:
	// "K7QM-4XPD" "K7QM-4XPD" true
	// "k7qm 4xpd" "K7QM-4XPD" true
	// "K7QM4XPO"  "K7QM-4XP0" true
	// "K7QU-4XPD" "" false
	// "K7QM-4XP"  "" false
}

func ExampleReceipt_Title() {
	r := receipt.Receipt{Seller: receipt.Party{Name: "Acme Parking", TaxID: "51 824 753 556"}, TaxName: "GST"}
	fmt.Println(r.Title())
	r.Seller.TaxID = "" // not registered for GST: no tax invoice
	fmt.Println(r.Title())
	// Output:
	// Tax invoice
	// Receipt
}
