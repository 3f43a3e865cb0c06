// Concept: traffic counters for the SDK endpoint (requests, TCP connections, TLS handshakes, SOAP
// calls per method), so benchmarks can prove one round trip per call and connection reuse.

package main

import (
	"sync"
)

// statsView is the admin endpoint's JSON form of the counters.
type statsView struct {
	Requests      int64            `json:"requests"`
	Connections   int64            `json:"connections"`
	TLSHandshakes int64            `json:"tls_handshakes"`
	Methods       map[string]int64 `json:"methods"`
	NFC           nfcStatsView     `json:"nfc"` // the NFC listeners (nfc_admin.go)
}

type stats struct {
	mu sync.Mutex
	v  statsView
}

func newStats() *stats {
	return &stats{v: statsView{Methods: map[string]int64{}, NFC: nfcStatsView{Requests: map[string]int64{}}}}
}

func (s *stats) add(f func(v *statsView)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.v)
}

func (s *stats) request()    { s.add(func(v *statsView) { v.Requests++ }) }
func (s *stats) connection() { s.add(func(v *statsView) { v.Connections++ }) }
func (s *stats) handshake()  { s.add(func(v *statsView) { v.TLSHandshakes++ }) }
func (s *stats) method(name string) {
	s.add(func(v *statsView) { v.Methods[name]++ })
}

func (s *stats) snapshot() statsView {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.v
	c.Methods = make(map[string]int64, len(s.v.Methods))
	for k, n := range s.v.Methods {
		c.Methods[k] = n
	}
	c.NFC.Requests = make(map[string]int64, len(s.v.NFC.Requests))
	for k, n := range s.v.NFC.Requests {
		c.NFC.Requests[k] = n
	}
	return c
}

func (s *stats) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v = statsView{Methods: map[string]int64{}, NFC: nfcStatsView{Requests: map[string]int64{}}}
}
