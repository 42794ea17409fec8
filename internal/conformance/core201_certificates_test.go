package conformance

import (
	"fmt"
	"testing"
)

// OCPP 2.0.1 Core, block M (certificate management). Charge Star runs no
// PKI: the operator's commands pass through the command API and the
// station's answers come back verbatim.

const certHash = `{"hashAlgorithm":"SHA256","issuerNameHash":"f2311e9a995dfbd006bfc909e480987dc2d440ae6eaf1746efdadc638a295f65","issuerKeyHash":"d4c42eb8ffd6ea7ef5e0c1b3d7d9e6bbc5f06c5d1f7e1e6b6b2a5b4e9c0d1e2f","serialNumber":"4a1b2c3d"}`

func installCertificate201(t *testing.T, id, certType, answer string) {
	e, st := newE(t, id, 1)
	e.remoteStatus201(st, "InstallCertificate", fmt.Sprintf(`{"certificateType":%q,"certificate":%q}`, certType, testCertPEM),
		fmt.Sprintf(`{"status":%q}`, answer), answer)
	heartbeat201(t, st)
}

func TestTC_M_01_CSMS(t *testing.T) {
	t.Parallel()
	installCertificate201(t, "CS-M01", "CSMSRootCertificate", "Accepted")
}

func TestTC_M_02_CSMS(t *testing.T) {
	t.Parallel()
	installCertificate201(t, "CS-M02", "ManufacturerRootCertificate", "Accepted")
}

func TestTC_M_05_CSMS(t *testing.T) {
	t.Parallel()
	installCertificate201(t, "CS-M05", "CSMSRootCertificate", "Rejected")
}

func TestTC_M_13_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-M13", 1)
	e.remoteStatus201(st, "GetInstalledCertificateIds", `{"certificateType":["ManufacturerRootCertificate"]}`,
		`{"status":"Accepted","certificateHashDataChain":[{"certificateType":"ManufacturerRootCertificate","certificateHashData":`+certHash+`}]}`, "Accepted")
}

func TestTC_M_18_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-M18", 1)
	// No certificateType: every installed certificate.
	e.remoteStatus201(st, "GetInstalledCertificateIds", `{}`,
		`{"status":"Accepted","certificateHashDataChain":[`+
			`{"certificateType":"CSMSRootCertificate","certificateHashData":`+certHash+`},`+
			`{"certificateType":"ManufacturerRootCertificate","certificateHashData":`+certHash+`}]}`, "Accepted")
}

func TestTC_M_19_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-M19", 1)
	e.remoteStatus201(st, "GetInstalledCertificateIds", `{"certificateType":["V2GCertificateChain"]}`, `{"status":"NotFound"}`, "NotFound")
}

func TestTC_M_20_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-M20", 1)
	// The hash data the station reported is what the operator deletes.
	res := e.remoteStatus201(st, "GetInstalledCertificateIds", `{"certificateType":["CSMSRootCertificate"]}`,
		`{"status":"Accepted","certificateHashDataChain":[{"certificateType":"CSMSRootCertificate","certificateHashData":`+certHash+`}]}`, "Accepted")
	jsonEq(t, "reported certificate", res.Response, `{"status":"Accepted","certificateHashDataChain":[{"certificateType":"CSMSRootCertificate","certificateHashData":`+certHash+`}]}`)
	e.remoteStatus201(st, "DeleteCertificate", `{"certificateHashData":`+certHash+`}`, `{"status":"Accepted"}`, "Accepted")
}

func TestTC_M_21_CSMS(t *testing.T) {
	t.Parallel()
	e, st := newE(t, "CS-M21", 1)
	e.remoteStatus201(st, "DeleteCertificate", `{"certificateHashData":`+certHash+`}`, `{"status":"Failed"}`, "Failed")
	heartbeat201(t, st)
}
