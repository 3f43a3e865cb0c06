// Concept: one TLS identity per HostSystem — the certificate an ESXi host shows on port 902 and
// on its HTTPS port. Each is made once, on first use,
// with the same generator as the SDK's certificate, and its PEM is kept in the state directory
// as host-<moref>.pem (usable as a CA file).

package main

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"sync"
)

type hostCerts struct {
	dir string

	mu     sync.Mutex
	byKey  map[string]*certificate
	shared map[string]bool // certificates owned by the host listeners: not ours to remove
}

// newHostCerts starts from the certificates the host HTTPS listeners already use (hosts.go), so a
// host shows one certificate on 443 and 902; others are made on first use.
func newHostCerts(dir string, known map[string]*certificate) *hostCerts {
	c := &hostCerts{dir: dir, byKey: make(map[string]*certificate), shared: map[string]bool{}}
	for k, cert := range known {
		c.byKey[k], c.shared[k] = cert, true
	}
	return c
}

// hostCertificate returns the certificate of the host hostMoref and its SHA-1 and SHA-256
// thumbprints (upper-case colon hex of the DER, nfc.md §1 sslThumbprint). Every call for one host
// returns the same certificate. It fails when the certificate cannot be generated or written;
// nothing is recorded then.
func (c *hostCerts) hostCertificate(hostMoref string) (*tls.Certificate, string, string, error) {
	return c.get(hostMoref)
}

// get returns the certificate stored under key, making it on first use.
func (c *hostCerts) get(key string) (*tls.Certificate, string, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cert := c.byKey[key]
	if cert == nil {
		var err error
		if cert, err = newCertificate(filepath.Join(c.dir, "host-"+filepath.Base(key)+".pem")); err != nil {
			return nil, "", "", err
		}
		c.byKey[key] = cert
	}
	return &cert.tls, cert.sha1, cert.sha256, nil
}

// remove deletes the PEM files written so far (at shutdown).
func (c *hostCerts) remove() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, cert := range c.byKey {
		if !c.shared[k] {
			_ = os.Remove(cert.file)
		}
	}
}
