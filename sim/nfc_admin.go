// Concept: the NFC responder's test controls — fault injection (drop the connection inside the
// next IO reply, answer the next IO with an ERROR, delay the next reply, make the next ticket
// stale), its traffic counters (the "nfc" object of GET /stats), and the admin endpoint routes.

package main

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// nfcFaultRequest is the JSON body of POST /nfc/fault.
type nfcFaultRequest struct {
	Kind  string `json:"kind"`  // drop, error, delay, stale_ticket
	Bytes int    `json:"bytes"` // drop: bytes of the next IO reply sent before the connection is closed
	Code  uint32 `json:"code"`  // error: the ERROR code (default nfcErrBadRequest)
	Ms    int    `json:"ms"`    // delay: milliseconds before the next AIO reply
}

// nfcFaults holds the armed one-shot faults (each affects the next occurrence on any host).
type nfcFaults struct {
	mu        sync.Mutex
	dropAfter int // -1: not armed
	errorCode uint32
	errorNext bool
	delay     time.Duration
}

func newNFCFaults() *nfcFaults { return &nfcFaults{dropAfter: -1} }

func (f *nfcFaults) arm(q nfcFaultRequest, tickets *nfcTicketTable) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch q.Kind {
	case "drop":
		if q.Bytes < 0 {
			return errors.New("bytes must not be negative")
		}
		f.dropAfter = q.Bytes
	case "error":
		f.errorNext, f.errorCode = true, q.Code
		if q.Code == 0 {
			f.errorCode = nfcErrBadRequest
		}
	case "delay":
		if q.Ms <= 0 {
			return errors.New("delay needs ms > 0")
		}
		f.delay = time.Duration(q.Ms) * time.Millisecond
	case "stale_ticket":
		tickets.makeStale()
	default:
		return fmt.Errorf("unknown NFC fault kind %q (want drop, error, delay or stale_ticket)", q.Kind)
	}
	return nil
}

func (f *nfcFaults) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropAfter, f.errorNext, f.delay = -1, false, 0
}

// takeDrop consumes an armed drop: the number of bytes to send, or -1.
func (f *nfcFaults) takeDrop() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.dropAfter
	f.dropAfter = -1
	return n
}

// takeError consumes an armed IO error: its code, and whether one was armed.
func (f *nfcFaults) takeError() (uint32, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	armed := f.errorNext
	f.errorNext = false
	return f.errorCode, armed
}

// takeDelay consumes an armed delay (0 when none).
func (f *nfcFaults) takeDelay() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.delay
	f.delay = 0
	return d
}

// nfcStatsView is the "nfc" object of GET /stats (kept in the simulator's stats, stats.go).
type nfcStatsView struct {
	Connections  int64            `json:"connections"`   // TCP connections accepted by the NFC listeners
	Proxied      int64            `json:"proxied"`       // authd sessions that reached "200 Connect"
	Requests     map[string]int64 `json:"requests"`      // AIO messages received, per type (each write fragment counts)
	Errors       int64            `json:"errors"`        // AIO ERROR messages sent
	BytesRead    int64            `json:"bytes_read"`    // disk bytes served by IO reads
	BytesWritten int64            `json:"bytes_written"` // disk bytes stored by IO writes
	Panics       int64            `json:"panics"`        // connection handlers that panicked (a bug; should stay 0)
}

// nfc applies f to the NFC counters.
func (s *stats) nfc(f func(v *nfcStatsView)) {
	s.add(func(v *statsView) { f(&v.NFC) })
}

// adminRoutes are the NFC routes of the admin endpoint.
func (h *nfcHub) adminRoutes() map[string]route {
	return map[string]route{
		"/nfc/fault": {http.MethodPost, func(r *http.Request) (interface{}, int, error) {
			var q nfcFaultRequest
			if err := readJSON(r, &q); err != nil {
				return nil, http.StatusBadRequest, err
			}
			if err := h.faults.arm(q, h.tickets); err != nil {
				return nil, http.StatusBadRequest, err
			}
			return okBody, http.StatusOK, nil
		}},
		"/nfc/tickets": {http.MethodGet, func(*http.Request) (interface{}, int, error) {
			return h.tickets.list(), http.StatusOK, nil
		}},
	}
}

// clearFaults disarms every NFC fault (POST /fault/clear).
func (h *nfcHub) clearFaults() {
	h.faults.clear()
	h.tickets.clearFaults()
}
