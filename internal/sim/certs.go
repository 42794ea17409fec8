package sim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"strings"
)

// certHash identifies a certificate the OCPP way (CertificateHashData).
type certHash struct {
	issuerNameHash string
	issuerKeyHash  string
	serialNumber   string
}

// installedCert is a root certificate installed by the CSMS.
type installedCert struct {
	use  string // CentralSystemRootCertificate, ManufacturerRootCertificate
	hash certHash
}

// parseCerts parses a PEM chain; every block must be a certificate.
func parseCerts(chain string) ([]*x509.Certificate, error) {
	rest := []byte(chain)
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, errors.New("not a certificate: " + b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 || strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("no PEM certificate")
	}
	return out, nil
}

// hashOf computes a certificate's OCPP hash data with SHA-256. The issuer
// key hash is exact for self-signed (root) certificates; for others the
// issuer's key is not at hand and the authority key id stands in.
func hashOf(c *x509.Certificate) certHash {
	name := sha256.Sum256(c.RawIssuer)
	var key string
	if c.CheckSignatureFrom(c) == nil {
		k := sha256.Sum256(publicKeyBits(c))
		key = hex.EncodeToString(k[:])
	} else if len(c.AuthorityKeyId) > 0 {
		key = hex.EncodeToString(c.AuthorityKeyId)
	} else {
		key = hex.EncodeToString(name[:])
	}
	serial := c.SerialNumber.Text(16)
	if len(serial) > 40 {
		serial = serial[:40]
	}
	return certHash{issuerNameHash: hex.EncodeToString(name[:]), issuerKeyHash: key, serialNumber: serial}
}

// publicKeyBits returns the subjectPublicKey bits of a certificate.
func publicKeyBits(c *x509.Certificate) []byte {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
		return c.RawSubjectPublicKeyInfo
	}
	return spki.PublicKey.Bytes
}

// newCSR returns a PEM certificate signing request for the station's key
// (a fresh P-256 key; the simulator does not keep it).
func newCSR(stationID, org string) (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	if org == "" {
		org = "ChargeStar"
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: stationID, Organization: []string{org}},
	}, key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), nil
}
