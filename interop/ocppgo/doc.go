// Package ocppgo holds Charge Star's interoperability tests against OCPP
// peers we did not write: lorenzodonini/ocpp-go's 1.6-J charge point and
// 2.0.1 charging station (this package's tests), the npm ocpp-rpc client
// as a 1.6, 2.0.1 and 2.1 station (package nodepeer), and a mixed fleet of
// all three versions at once (TestMixedFleet, here). It is a separate
// module so that the product never depends on ocpp-go. See ../README.md.
package ocppgo
