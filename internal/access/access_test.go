package access

import "testing"

func TestRolesGrantWhatTheirJobNeeds(t *testing.T) {
	cases := []struct {
		role Role
		can  []Permission
		not  []Permission
	}{
		{Admin, []Permission{View, ManageNetwork, OperateStations, ViewMoney, ManageMoney, ManagePrices, ManageOperator, PlatformAdmin}, nil},
		{Owner, []Permission{View, ManageNetwork, OperateStations, ViewMoney, ManageMoney, ManagePrices, ManageOperator}, []Permission{PlatformAdmin}},
		{Technician, []Permission{View, ManageNetwork, OperateStations}, []Permission{ViewMoney, ManageMoney, ManagePrices, ManageOperator, PlatformAdmin}},
		{Finance, []Permission{View, ViewMoney, ManageMoney, ManagePrices}, []Permission{ManageNetwork, OperateStations, ManageOperator, PlatformAdmin}},
		{Role("intern"), nil, []Permission{View, ManageNetwork}},
	}
	for _, c := range cases {
		for _, p := range c.can {
			if !Can(c.role, p) {
				t.Errorf("%s cannot %s", c.role, p)
			}
		}
		for _, p := range c.not {
			if Can(c.role, p) {
				t.Errorf("%s can %s", c.role, p)
			}
		}
	}
	if Role("intern").Valid() || !Finance.Valid() {
		t.Error("Valid is wrong")
	}
}
