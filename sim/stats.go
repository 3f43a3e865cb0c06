// Concept: traffic counters for the SDK endpoint (requests, TCP connections, TLS handshakes, SOAP
// calls per method), for the host listeners (TCP connections, TLS handshakes) and for the
// datastore HTTP interface of every listener (requests per path, /folder bytes served in total,
// per path and per server), so benchmarks can prove one round trip per call, connection reuse and
// how many bytes a read moved.

package main

import (
	"sync"
)

// statsView is the admin endpoint's JSON form of the counters.
type statsView struct {
	Requests            int64            `json:"requests"`
	Connections         int64            `json:"connections"`
	TLSHandshakes       int64            `json:"tls_handshakes"`
	HostConnections     int64            `json:"host_connections"`    // on every host listener
	HostTLSHandshakes   int64            `json:"host_tls_handshakes"` // on every host listener
	Methods             map[string]int64 `json:"methods"`
	RequestsByPath      map[string]int64 `json:"requests_by_path"`
	FolderBytes         int64            `json:"folder_bytes"`
	FolderBytesByPath   map[string]int64 `json:"folder_bytes_by_path"`
	FolderBytesByServer map[string]int64 `json:"folder_bytes_by_server"`
	NFC                 nfcStatsView     `json:"nfc"` // the NFC listeners (nfc_admin.go)
}

func emptyStats() statsView {
	return statsView{Methods: map[string]int64{}, RequestsByPath: map[string]int64{},
		FolderBytesByPath: map[string]int64{}, FolderBytesByServer: map[string]int64{},
		NFC: nfcStatsView{Requests: map[string]int64{}}}
}

type stats struct {
	mu sync.Mutex
	v  statsView
}

func newStats() *stats {
	return &stats{v: emptyStats()}
}

func (s *stats) add(f func(v *statsView)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.v)
}

func (s *stats) request()        { s.add(func(v *statsView) { v.Requests++ }) }
func (s *stats) connection()     { s.add(func(v *statsView) { v.Connections++ }) }
func (s *stats) handshake()      { s.add(func(v *statsView) { v.TLSHandshakes++ }) }
func (s *stats) hostConnection() { s.add(func(v *statsView) { v.HostConnections++ }) }
func (s *stats) hostHandshake()  { s.add(func(v *statsView) { v.HostTLSHandshakes++ }) }
func (s *stats) method(name string) {
	s.add(func(v *statsView) { v.Methods[name]++ })
}
func (s *stats) path(p string) {
	s.add(func(v *statsView) { v.RequestsByPath[p]++ })
}

// folderBytes counts n body bytes of path served by server ("vcenter" or a host's name).
func (s *stats) folderBytes(server, path string, n int64) {
	s.add(func(v *statsView) {
		v.FolderBytes += n
		v.FolderBytesByPath[path] += n
		v.FolderBytesByServer[server] += n
	})
}

func (s *stats) snapshot() statsView {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.v
	c.Methods, c.RequestsByPath = copyCounts(s.v.Methods), copyCounts(s.v.RequestsByPath)
	c.FolderBytesByPath, c.FolderBytesByServer = copyCounts(s.v.FolderBytesByPath), copyCounts(s.v.FolderBytesByServer)
	c.NFC.Requests = copyCounts(s.v.NFC.Requests)
	return c
}

func (s *stats) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v = emptyStats()
}

func copyCounts(m map[string]int64) map[string]int64 {
	c := make(map[string]int64, len(m))
	for k, n := range m {
		c[k] = n
	}
	return c
}
