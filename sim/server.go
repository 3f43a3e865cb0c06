// Concept: the two loopback HTTP servers — the SDK endpoint (optional TLS, HTTP/1.1 only, counting
// connections and handshakes) and the admin endpoint — and the rule that both stay on 127.0.0.0/8.

package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"
)

// listenLoopback listens on addr, refusing any host outside 127.0.0.0/8 ("localhost" means 127.0.0.1).
func listenLoopback(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("refusing to listen on %q: only 127.0.0.0/8 addresses are allowed", addr)
	}
	return net.Listen("tcp4", net.JoinHostPort(host, port))
}

// listenerCounts are the counters a listener bumps for each accepted connection and each completed
// TLS handshake (the SDK endpoint's, or the host listeners' shared pair; a nil func counts nothing).
type listenerCounts struct{ connection, handshake func() }

// serveSDK serves h on ln, with TLS when cert is not nil, until the returned server is closed;
// connections and handshakes are counted with count.
func serveSDK(ln net.Listener, h http.Handler, cert *certificate, count listenerCounts) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		// An empty, non-nil map keeps HTTP/2 off: vCenter's SDK speaks HTTP/1.1.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ConnState: func(_ net.Conn, state http.ConnState) {
			if state == http.StateNew && count.connection != nil {
				count.connection()
			}
		},
		ErrorLog: verbose,
	}
	if cert == nil {
		go func() { _ = srv.Serve(ln) }()
		return srv
	}
	srv.TLSConfig = &tls.Config{
		Certificates: []tls.Certificate{cert.tls},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
		// Called once per completed server handshake, full or resumed.
		VerifyConnection: func(tls.ConnectionState) error {
			if count.handshake != nil {
				count.handshake()
			}
			return nil
		},
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	return srv
}

// serveAdmin serves the admin API on ln until the returned server is closed.
func serveAdmin(ln net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, ErrorLog: verbose}
	go func() { _ = srv.Serve(ln) }()
	return srv
}
