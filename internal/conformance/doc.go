// Package conformance holds the CSMS conformance suites of Charge Star:
// one Go test per case of the Open Charge Alliance's compliance test tool
// (OCTT) for the Central System that this release covers, named after the
// case — OCPP 1.6 (TestTC_001_CSMS, TestTC_004_1_CSMS, …) and OCPP 2.0.1,
// certification profile Core (TestTC_B_01_CSMS, TestTC_E_53_CSMS, …; files
// helpers201_test.go and core201_*_test.go) — plus TestMalformed* and
// robustness tests for bad and unusual station input.
//
// In the OCTT's CSMS cases the tool plays the Charge Point. Here a raw
// servertest.Station plays it against a real server, and each "Central
// System sends X" step is triggered through the REST command API, as an
// operator would: the tests check the exact frame that reaches the station,
// the API's answer, and the stored state read back through the API. The
// 2.0.1 tests also check every message against the 2.0.1 schemas.
//
// docs/conformance.md lists every case with its status. The package has no
// non-test code besides this comment.
package conformance
