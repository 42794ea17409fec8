// Package access says what each console role may do. It is pure: the API
// checks a request's permission against its principal's role before it
// touches anything, so the same rules hold for the console (which calls
// the API) and for API tokens.
package access

import "fmt"

// Role is a user's role. Operator users are owners, technicians or finance
// staff; platform administrators belong to no operator.
type Role string

const (
	Admin      Role = "admin"      // platform administrator: every operator
	Owner      Role = "owner"      // everything of one operator, users and tokens included
	Technician Role = "technician" // the network and its stations; no money
	Finance    Role = "finance"    // money, prices and reports; stations read-only
)

// OperatorRoles are the roles an operator user may have.
var OperatorRoles = []Role{Owner, Technician, Finance}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case Admin, Owner, Technician, Finance:
		return true
	}
	return false
}

// Permission is what an operation needs.
type Permission int

const (
	// View: read the network, its stations, sessions, tariffs, alerts and
	// usage and status reports. Every role has it.
	View Permission = iota
	// ManageNetwork: create and edit sites and stations, retire stations,
	// print QR sheets, acknowledge alerts.
	ManageNetwork
	// OperateStations: send remote-management commands.
	OperateStations
	// ViewMoney: payments, receipts, refunds and the revenue report.
	ViewMoney
	// ManageMoney: refund payments, stop paid sessions.
	ManageMoney
	// ManagePrices: create, edit and assign tariffs.
	ManagePrices
	// ManageOperator: users, API tokens, seller details, alert settings.
	ManageOperator
	// PlatformAdmin: operators and NextCharge driver accounts.
	PlatformAdmin
)

var names = map[Permission]string{
	View: "view", ManageNetwork: "manage the network", OperateStations: "operate stations",
	ViewMoney: "see payments and revenue", ManageMoney: "refund and stop payments",
	ManagePrices: "manage tariffs", ManageOperator: "manage users, tokens and settings",
	PlatformAdmin: "administer the platform",
}

func (p Permission) String() string {
	if n, ok := names[p]; ok {
		return n
	}
	return fmt.Sprintf("permission(%d)", int(p))
}

var grants = map[Role]map[Permission]bool{
	Owner: {View: true, ManageNetwork: true, OperateStations: true, ViewMoney: true, ManageMoney: true,
		ManagePrices: true, ManageOperator: true},
	Technician: {View: true, ManageNetwork: true, OperateStations: true},
	Finance:    {View: true, ViewMoney: true, ManageMoney: true, ManagePrices: true},
}

// Can reports whether role r has permission p. The administrator has all.
func Can(r Role, p Permission) bool {
	if r == Admin {
		return true
	}
	return grants[r][p]
}
