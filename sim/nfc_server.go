// Concept: the NFC responder's hub — one loopback listener per HostSystem standing in for that
// host's port 902 (nfc.md §2), each with the host's own certificate, and the bookkeeping every
// connection shares: tickets, policy, disks, inventory, faults, counters, and a clean shutdown
// that closes every listener and connection and waits for their goroutines.
//
// A connection goes through three phases, each in its own file: the authd handshake
// (nfc_authd.go), the classic frames (nfc_classic.go) and AIO (nfc_aio.go).

package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"runtime/debug"
	"sync"
)

// nfcHost is one HostSystem's NFC endpoint.
type nfcHost struct {
	ref    hostRef
	ln     net.Listener
	port   int
	sha1   string // of the certificate of the first TLS session: the ticket's sslThumbprint (nfc.md §1)
	sha256 string // THUMBPRINT_SHA2's answer (nfc.md §2.3)
	first  *tls.Config
	second *tls.Config // the nbdssl second TLS session (nfc.md §2.4)
}

// nfcConfig is what the hub is built from.
type nfcConfig struct {
	pol   *nfcPolicy
	esx   bool // ESXi direct (ticket without host, service "nfc", moref ha-nfc-service)
	vms   nfcVMs
	disks nfcDisks
	users users
	certs *hostCerts
	stats *stats // shared with the SDK endpoint's counters
}

type nfcHub struct {
	pol     *nfcPolicy
	esx     bool
	vms     nfcVMs
	disks   nfcDisks
	users   users
	tickets *nfcTicketTable
	faults  *nfcFaults
	stats   *stats
	hosts   []*nfcHost // ordered by name
	byMoref map[string]*nfcHost

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// startNFC listens on 127.0.0.1 (a random port) for every host of cfg.vms and serves NFC there
// until close. It fails when a listener or a certificate cannot be made; nothing is left running then.
func startNFC(cfg nfcConfig) (*nfcHub, error) {
	h := &nfcHub{
		pol: cfg.pol, esx: cfg.esx, vms: cfg.vms, disks: cfg.disks, users: cfg.users,
		tickets: newNFCTicketTable(cfg.pol), faults: newNFCFaults(), stats: cfg.stats,
		byMoref: make(map[string]*nfcHost), conns: make(map[net.Conn]struct{}),
	}
	for _, ref := range cfg.vms.hosts() {
		host, err := newNFCHost(ref, cfg.certs, cfg.pol)
		if err != nil {
			h.close()
			return nil, err
		}
		h.hosts = append(h.hosts, host)
		h.byMoref[ref.Moref] = host
	}
	for _, host := range h.hosts {
		h.wg.Add(1)
		go h.acceptLoop(host)
	}
	return h, nil
}

// newNFCHost makes a host's certificates and listener.
func newNFCHost(ref hostRef, certs *hostCerts, pol *nfcPolicy) (*nfcHost, error) {
	cert, sha1, sha256, err := certs.hostCertificate(ref.Moref)
	if err != nil {
		return nil, fmt.Errorf("certificate of %s: %v", ref.Moref, err)
	}
	second := cert
	if pol.otherSecondCert {
		if second, _, _, err = certs.get(ref.Moref + "-nfcssl"); err != nil {
			return nil, fmt.Errorf("second certificate of %s: %v", ref.Moref, err)
		}
	}
	ln, err := listenLoopback("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	tlsConfig := func(c *tls.Certificate) *tls.Config {
		return &tls.Config{Certificates: []tls.Certificate{*c}, MinVersion: tls.VersionTLS12}
	}
	return &nfcHost{
		ref: ref, ln: ln, port: ln.Addr().(*net.TCPAddr).Port, sha1: sha1, sha256: sha256,
		first: tlsConfig(cert), second: tlsConfig(second),
	}, nil
}

func (h *nfcHub) acceptLoop(host *nfcHost) {
	defer h.wg.Done()
	for {
		conn, err := host.ln.Accept()
		if err != nil {
			return // closed
		}
		if !h.track(conn) {
			_ = conn.Close()
			return
		}
		h.stats.nfc(func(v *nfcStatsView) { v.Connections++ })
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			defer h.untrack(conn)
			defer h.survive(host.ref.Name)
			h.serveConn(host, conn)
		}()
	}
}

// survive, deferred by every connection goroutine, turns a panic into a closed connection, a
// log line and a counter, so one bad exchange cannot take the simulator down.
func (h *nfcHub) survive(where string) {
	if p := recover(); p != nil {
		h.stats.nfc(func(v *nfcStatsView) { v.Panics++ })
		terse.Printf("NFC connection (%s) panicked: %v\n%s", where, p, debug.Stack())
	}
}

func (h *nfcHub) track(conn net.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[conn] = struct{}{}
	return true
}

func (h *nfcHub) untrack(conn net.Conn) {
	_ = conn.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, conn)
}

// close stops every listener and connection and waits for their goroutines. Safe to call twice.
func (h *nfcHub) close() {
	h.mu.Lock()
	h.closed = true
	for conn := range h.conns {
		_ = conn.Close()
	}
	h.mu.Unlock()
	for _, host := range h.hosts {
		_ = host.ln.Close()
	}
	h.wg.Wait()
}

// port is the NFC port of the host hostMoref (0 when it has none).
func (h *nfcHub) port(hostMoref string) int {
	if host := h.byMoref[hostMoref]; host != nil {
		return host.port
	}
	return 0
}

// esxi is the ESXi release modelled (--nfc-esxi).
func (h *nfcHub) esxi() esxiProfile { return h.pol.esxi }
