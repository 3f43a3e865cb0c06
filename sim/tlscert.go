// Concept: a server's TLS identity (the SDK endpoint's, each host listener's) — a fresh
// self-signed certificate for 127.0.0.1, localhost and the server's names, written as PEM so
// clients can trust it as a CA, and its SHA-1/SHA-256 thumbprints.

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"strings"
	"time"
)

type certificate struct {
	tls    tls.Certificate
	file   string // PEM of the certificate alone
	sha1   string // uppercase colon-separated hex of the DER certificate
	sha256 string
}

// newCertificate generates a self-signed ECDSA P-256 certificate for 127.0.0.1, localhost and
// names, and writes it to file.
func newCertificate(file string, names ...string) (*certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "127.0.0.1", Organization: []string{"freevix-sim"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              append([]string{"localhost"}, names...),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, err
	}
	s1 := sha1.Sum(der)
	s256 := sha256.Sum256(der)
	return &certificate{
		tls:    tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		file:   file,
		sha1:   thumbprint(s1[:]),
		sha256: thumbprint(s256[:]),
	}, nil
}

func thumbprint(sum []byte) string {
	hex := make([]string, len(sum))
	for i, b := range sum {
		hex[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(hex, ":")
}
